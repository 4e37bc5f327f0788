"""Type mapping rules, as data: read them, test them, render them into docs/schema.md.

A rule matches the whole normalized source type (a regular expression, case-insensitive)
and gives the target type as a template (`\\1` refers to the first group). The first matching
rule of a (source, target) pair wins, so specific rules come before general ones. Each rule
carries an `example` that it must map, and the type the example becomes; a unit test checks
every rule against its own example, and the docs table is generated from them.

`ENUM` as target means "a PostgreSQL enum type named <table>_<column> with the source's
labels"; `unsupported=True` means the plan reports an error unless the user excludes the
column or gives it a `castTo` transform.
"""

from __future__ import annotations

from dataclasses import dataclass

ENUM = "<enum>"


@dataclass(frozen=True)
class TypeRule:
    source: str  # dialect family of the source: postgresql | mysql | sqlite
    target: str  # dialect family of the target
    pattern: str  # full-match regular expression over the normalized source type
    to: str  # target type template, ENUM, or "" when unsupported
    example: str  # a source type this rule maps
    becomes: str  # what `example` becomes (documentation and self-test)
    note: str = ""  # what a user must know; shown as a plan warning when the rule is used
    unsupported: bool = False


_INT = r"(?:\(\d+\))?"
_SPATIAL = r"geometry|point|linestring|polygon|multipoint|multilinestring|multipolygon|geometrycollection"
ZERO_DATES_NOTE = "zero dates ('0000-00-00') are written as NULL"

MYSQL_TO_POSTGRESQL: tuple[TypeRule, ...] = (
    TypeRule(
        "mysql",
        "postgresql",
        r"tinyint\(1\)",
        "boolean",
        "tinyint(1)",
        "boolean",
        "MySQL's boolean; values other than 0/1 become true",
    ),
    TypeRule("mysql", "postgresql", r"bool(?:ean)?", "boolean", "bool", "boolean"),
    TypeRule(
        "mysql", "postgresql", rf"tinyint{_INT}(?: unsigned)?", "smallint", "tinyint unsigned", "smallint"
    ),
    TypeRule("mysql", "postgresql", rf"smallint{_INT}", "smallint", "smallint", "smallint"),
    TypeRule(
        "mysql",
        "postgresql",
        rf"smallint{_INT} unsigned",
        "integer",
        "smallint unsigned",
        "integer",
        "unsigned widened",
    ),
    TypeRule("mysql", "postgresql", rf"mediumint{_INT}(?: unsigned)?", "integer", "mediumint", "integer"),
    TypeRule("mysql", "postgresql", rf"int(?:eger)?{_INT}", "integer", "int", "integer"),
    TypeRule(
        "mysql",
        "postgresql",
        rf"int(?:eger)?{_INT} unsigned",
        "bigint",
        "int unsigned",
        "bigint",
        "unsigned widened",
    ),
    TypeRule("mysql", "postgresql", rf"bigint{_INT}", "bigint", "bigint", "bigint"),
    TypeRule(
        "mysql",
        "postgresql",
        rf"bigint{_INT} unsigned",
        "numeric(20,0)",
        "bigint unsigned",
        "numeric(20,0)",
        "unsigned bigint exceeds bigint; widened to numeric(20,0)",
    ),
    TypeRule(
        "mysql",
        "postgresql",
        r"(?:decimal|numeric|dec|fixed)\((\d+),(\d+)\)(?: unsigned)?",
        r"numeric(\1,\2)",
        "decimal(12,3)",
        "numeric(12,3)",
    ),
    TypeRule(
        "mysql",
        "postgresql",
        r"(?:decimal|numeric|dec|fixed)\((\d+)\)(?: unsigned)?",
        r"numeric(\1,0)",
        "decimal(8)",
        "numeric(8,0)",
    ),
    TypeRule(
        "mysql",
        "postgresql",
        r"(?:decimal|numeric|dec|fixed)(?: unsigned)?",
        "numeric(10,0)",
        "decimal",
        "numeric(10,0)",
    ),
    TypeRule("mysql", "postgresql", r"float(?:\(\d+,\d+\))?(?: unsigned)?", "real", "float", "real"),
    TypeRule(
        "mysql",
        "postgresql",
        r"(?:double(?: precision)?|real)(?:\(\d+,\d+\))?(?: unsigned)?",
        "double precision",
        "double",
        "double precision",
    ),
    TypeRule("mysql", "postgresql", r"bit\(1\)", "boolean", "bit(1)", "boolean"),
    TypeRule(
        "mysql",
        "postgresql",
        r"bit\((\d+)\)",
        r"bit(\1)",
        "bit(8)",
        "bit(8)",
        "copied as a bit string of the same width",
    ),
    TypeRule("mysql", "postgresql", r"char\((\d+)\)", r"char(\1)", "char(3)", "char(3)"),
    TypeRule("mysql", "postgresql", r"varchar\((\d+)\)", r"varchar(\1)", "varchar(80)", "varchar(80)"),
    TypeRule("mysql", "postgresql", r"(?:tiny|medium|long)?text", "text", "mediumtext", "text"),
    TypeRule(
        "mysql",
        "postgresql",
        r"(?:tiny|medium|long)?blob|(?:var)?binary\(\d+\)",
        "bytea",
        "varbinary(16)",
        "bytea",
    ),
    TypeRule("mysql", "postgresql", r"json", "jsonb", "json", "jsonb"),
    TypeRule("mysql", "postgresql", r"date", "date", "date", "date", ZERO_DATES_NOTE),
    TypeRule(
        "mysql",
        "postgresql",
        r"datetime(\(\d\))?",
        r"timestamp\1",
        "datetime(6)",
        "timestamp(6)",
        ZERO_DATES_NOTE,
    ),
    TypeRule(
        "mysql",
        "postgresql",
        r"timestamp(\(\d\))?",
        r"timestamptz\1",
        "timestamp",
        "timestamptz",
        "MySQL TIMESTAMP is UTC-based: read in UTC, written with time zone; " + ZERO_DATES_NOTE,
    ),
    TypeRule(
        "mysql",
        "postgresql",
        r"time(\(\d\))?",
        r"time\1",
        "time",
        "time",
        "decided from the data: interval(n) when a value lies outside 00:00:00-23:59:59",
    ),
    TypeRule("mysql", "postgresql", rf"year{_INT}", "smallint", "year", "smallint"),
    TypeRule("mysql", "postgresql", r"enum\(.*\)", ENUM, "enum('a','b')", "enum type <table>_<column>"),
    TypeRule(
        "mysql",
        "postgresql",
        r"set\(.*\)",
        "text",
        "set('x','y')",
        "text",
        "SET values are kept as their comma-separated text",
    ),
    TypeRule("mysql", "postgresql", r"uuid", "uuid", "uuid", "uuid"),
    TypeRule("mysql", "postgresql", r"inet[46]", "inet", "inet6", "inet"),
    TypeRule(
        "mysql",
        "postgresql",
        _SPATIAL,
        "",
        "geometry",
        "unsupported",
        "spatial types are not supported; exclude the column or castTo a type",
        unsupported=True,
    ),
)

SQLITE_TO_POSTGRESQL: tuple[TypeRule, ...] = (
    TypeRule(
        "sqlite",
        "postgresql",
        r"int|integer|mediumint",
        "integer",
        "integer",
        "integer",
        "SQLite integers are 64-bit; castTo bigint when values exceed 2^31",
    ),
    TypeRule("sqlite", "postgresql", r"bigint|unsigned big int|int8", "bigint", "bigint", "bigint"),
    TypeRule("sqlite", "postgresql", r"tinyint|smallint|int2", "smallint", "smallint", "smallint"),
    TypeRule(
        "sqlite",
        "postgresql",
        r"(?:n|native )?(?:varchar|varying character)\((\d+)\)",
        r"varchar(\1)",
        "nvarchar(120)",
        "varchar(120)",
    ),
    TypeRule("sqlite", "postgresql", r"n?char(?:acter)?\((\d+)\)", r"char(\1)", "nchar(2)", "char(2)"),
    TypeRule("sqlite", "postgresql", r"text|clob|n?varchar|string", "text", "text", "text"),
    TypeRule(
        "sqlite",
        "postgresql",
        r"(?:numeric|decimal)\((\d+),(\d+)\)",
        r"numeric(\1,\2)",
        "numeric(10,2)",
        "numeric(10,2)",
    ),
    TypeRule("sqlite", "postgresql", r"numeric|decimal", "numeric", "numeric", "numeric"),
    TypeRule(
        "sqlite",
        "postgresql",
        r"real|double|double precision|float",
        "double precision",
        "real",
        "double precision",
    ),
    TypeRule("sqlite", "postgresql", r"bool(?:ean)?", "boolean", "boolean", "boolean"),
    TypeRule("sqlite", "postgresql", r"datetime|timestamp", "timestamp", "datetime", "timestamp"),
    TypeRule("sqlite", "postgresql", r"date", "date", "date", "date"),
    TypeRule("sqlite", "postgresql", r"time", "time", "time", "time"),
    TypeRule("sqlite", "postgresql", r"blob", "bytea", "blob", "bytea"),
    TypeRule("sqlite", "postgresql", r"json", "jsonb", "json", "jsonb"),
    TypeRule(
        "sqlite",
        "postgresql",
        r".*",
        "text",
        "anything",
        "text",
        "unknown SQLite type: kept as text (SQLite's own affinity for it)",
    ),
)

# SQLite into MySQL/MariaDB. Declared types follow SQLite's affinity rules; INTEGER PRIMARY KEY
# (the rowid) becomes AUTO_INCREMENT through the column's autoincrement, not through its type.
# Text that a key or an index covers needs a length on MySQL (ferry.schema.mysql_target).
SQLITE_TO_MYSQL: tuple[TypeRule, ...] = (
    TypeRule(
        "sqlite",
        "mysql",
        r"int|integer|mediumint",
        "int",
        "integer",
        "int",
        "SQLite integers are 64-bit; castTo bigint when values exceed 2^31",
    ),
    TypeRule("sqlite", "mysql", r"bigint|unsigned big int|int8", "bigint", "bigint", "bigint"),
    TypeRule("sqlite", "mysql", r"tinyint|smallint|int2", "smallint", "smallint", "smallint"),
    TypeRule(
        "sqlite",
        "mysql",
        r"(?:n|native )?(?:varchar|varying character)\((\d+)\)",
        r"varchar(\1)",
        "nvarchar(120)",
        "varchar(120)",
    ),
    TypeRule("sqlite", "mysql", r"n?char(?:acter)?\((\d+)\)", r"char(\1)", "nchar(2)", "char(2)"),
    TypeRule("sqlite", "mysql", r"text|clob|n?varchar|string", "longtext", "text", "longtext"),
    TypeRule(
        "sqlite",
        "mysql",
        r"(?:numeric|decimal)\((\d+),(\d+)\)",
        r"decimal(\1,\2)",
        "numeric(10,2)",
        "decimal(10,2)",
    ),
    TypeRule(
        "sqlite",
        "mysql",
        r"numeric|decimal",
        "double",
        "numeric",
        "double",
        "SQLite NUMERIC without precision holds integers and doubles: created as double (integers "
        "beyond 2^53 lose precision; castTo decimal(p,s) to choose)",
    ),
    TypeRule("sqlite", "mysql", r"real|double|double precision|float", "double", "real", "double"),
    TypeRule("sqlite", "mysql", r"bool(?:ean)?", "tinyint(1)", "boolean", "tinyint(1)"),
    TypeRule(
        "sqlite",
        "mysql",
        r"datetime|timestamp",
        "datetime(6)",
        "datetime",
        "datetime(6)",
        "SQLite stores date-times as text: 'YYYY-MM-DD HH:MM:SS[.ffffff]' is written as it is, other "
        "forms (a Unix time number) fail their batch",
    ),
    TypeRule("sqlite", "mysql", r"date", "date", "date", "date"),
    TypeRule("sqlite", "mysql", r"time", "time(6)", "time", "time(6)"),
    TypeRule("sqlite", "mysql", r"blob", "longblob", "blob", "longblob"),
    TypeRule("sqlite", "mysql", r"json", "json", "json", "json"),
    TypeRule(
        "sqlite",
        "mysql",
        r".*",
        "longtext",
        "anything",
        "longtext",
        "unknown SQLite type: kept as text (SQLite's own affinity for it)",
    ),
)

# PostgreSQL to PostgreSQL keeps every type as it is (enum types are created on the target;
# domains were resolved to their base types at discovery).
POSTGRESQL_TO_POSTGRESQL: tuple[TypeRule, ...] = (
    TypeRule("postgresql", "postgresql", r".*", r"\g<0>", "numeric(12,2)", "numeric(12,2)"),
)

POSTGRESQL_TO_MYSQL: tuple[TypeRule, ...] = (
    TypeRule("postgresql", "mysql", r"smallint", "smallint", "smallint", "smallint"),
    TypeRule("postgresql", "mysql", r"integer", "int", "integer", "int"),
    TypeRule("postgresql", "mysql", r"bigint", "bigint", "bigint", "bigint"),
    TypeRule("postgresql", "mysql", r"boolean", "tinyint(1)", "boolean", "tinyint(1)"),
    TypeRule(
        "postgresql", "mysql", r"numeric\((\d+),(\d+)\)", r"decimal(\1,\2)", "numeric(12,2)", "decimal(12,2)"
    ),
    TypeRule("postgresql", "mysql", r"real", "float", "real", "float"),
    TypeRule("postgresql", "mysql", r"double precision", "double", "double precision", "double"),
    TypeRule("postgresql", "mysql", r"varchar\((\d+)\)", r"varchar(\1)", "varchar(80)", "varchar(80)"),
    TypeRule("postgresql", "mysql", r"char\((\d+)\)", r"char(\1)", "char(3)", "char(3)"),
    TypeRule("postgresql", "mysql", r"text|varchar", "longtext", "text", "longtext"),
    TypeRule("postgresql", "mysql", r"bytea", "longblob", "bytea", "longblob"),
    TypeRule("postgresql", "mysql", r"jsonb?", "json", "jsonb", "json"),
    TypeRule("postgresql", "mysql", r"date", "date", "date", "date"),
    TypeRule("postgresql", "mysql", r"timestamp(?:\(\d\))?", "datetime(6)", "timestamp", "datetime(6)"),
    TypeRule(
        "postgresql",
        "mysql",
        r"timestamptz(?:\(\d\))?",
        "datetime(6)",
        "timestamptz",
        "datetime(6)",
        "written in UTC; the time zone is not kept",
    ),
    TypeRule("postgresql", "mysql", r"time(?:\(\d\))?", "time(6)", "time", "time(6)"),
    TypeRule("postgresql", "mysql", r"uuid", "char(36)", "uuid", "char(36)"),
)

MYSQL_TO_MYSQL: tuple[TypeRule, ...] = (
    TypeRule("mysql", "mysql", r".*", r"\g<0>", "int unsigned", "int unsigned"),
)

SQLITE_TO_SQLITE: tuple[TypeRule, ...] = (
    TypeRule("sqlite", "sqlite", r".*", r"\g<0>", "integer", "integer"),
)

RULES: tuple[TypeRule, ...] = (
    *MYSQL_TO_POSTGRESQL,
    *SQLITE_TO_POSTGRESQL,
    *SQLITE_TO_MYSQL,
    *POSTGRESQL_TO_POSTGRESQL,
    *POSTGRESQL_TO_MYSQL,
    *MYSQL_TO_MYSQL,
    *SQLITE_TO_SQLITE,
)
