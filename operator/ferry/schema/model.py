"""The normalized schema model: what discovery returns and what the diff compares.

Frozen dataclasses of plain values, so a model can be serialized to stable JSON, hashed,
compared and read back. Types are normalized *text* in the dialect the model came from
("integer", "varchar(80)", "numeric(12,2)", "timestamptz", "int unsigned"), because text is
what users read in a plan, what the type rules match on, and what DDL rendering needs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # normalized type text in the model's dialect
    nullable: bool = True
    default: str | None = None  # the default expression as SQL text, None when none
    autoincrement: bool = False  # identity, serial or auto_increment
    generated: str | None = None  # expression of a generated (computed) column
    domain: str | None = None  # PostgreSQL domain the column was declared with; `type` is its base type
    # A MySQL/MariaDB column's collation (a `_ci` one makes a key citext on PostgreSQL), or a
    # PostgreSQL column's collation other than its type's default (kept PostgreSQL to PostgreSQL).
    collation: str | None = None
    on_update: str | None = None  # MySQL `ON UPDATE CURRENT_TIMESTAMP`: the expression set on update
    max_value: int | None = None  # data, not structure: largest value of a MySQL AUTO_INCREMENT column
    # PostgreSQL to PostgreSQL only (other sources leave the defaults):
    identity_always: bool = False  # GENERATED ALWAYS AS IDENTITY (else BY DEFAULT)
    identity_start: int | None = None  # identity START WITH, when not 1
    identity_increment: int | None = None  # identity INCREMENT BY, when not 1
    # MySQL TIME, decided from the data: True when a value lies outside 00:00:00-23:59:59 (a
    # duration), so the column becomes interval. Hashed: a flip changes the plan's types.
    time_overflow: bool = False
    # MySQL NOT NULL DATE, DATETIME or TIMESTAMP, read at planning (ferry.schema.catalog_mysql_dates):
    # "none" (no zero date: NOT NULL is kept), "found", or "not-read" (the table is too large to
    # read at every plan). None for every other column. Hashed when set: a flip changes nullability.
    zero_dates: str | None = None


@dataclass(frozen=True)
class UniqueConstraint:
    name: str | None
    columns: tuple[str, ...]


@dataclass(frozen=True)
class ForeignKey:
    name: str | None
    columns: tuple[str, ...]
    referred_schema: str | None
    referred_table: str
    referred_columns: tuple[str, ...]
    on_delete: str | None = None
    on_update: str | None = None
    deferrable: bool = False
    initially_deferred: bool = False


@dataclass(frozen=True)
class Index:
    name: str
    columns: tuple[str, ...]  # column names; expressions of an expression index as SQL text
    unique: bool = False
    method: str | None = None  # PostgreSQL access method when not btree (gist, gin, ...)
    where: str | None = None  # predicate of a partial index
    expressions: bool = False  # True when `columns` holds expressions, not only names
    lengths: tuple[int | None, ...] = ()  # MySQL prefix length per column (None: whole column); () none
    # PostgreSQL: pg_get_indexdef from `USING` on (keys with DESC, opclasses, collations, INCLUDE,
    # WITH, WHERE); rendered as written when source and target are PostgreSQL.
    definition: str | None = None


@dataclass(frozen=True)
class CheckConstraint:
    name: str | None
    expression: str


@dataclass(frozen=True)
class EnumType:
    name: str
    values: tuple[str, ...]
    schema: str | None = None


@dataclass(frozen=True)
class Sequence:
    """A PostgreSQL sequence's definition (never its current value: that changes with every
    insert, and the model is hashed). `owned_by` is "table.column" for a serial or identity."""

    name: str
    type: str = "bigint"
    start: int = 1
    increment: int = 1
    min_value: int | None = None
    max_value: int | None = None
    cycle: bool = False
    owned_by: str | None = None


@dataclass(frozen=True)
class Trigger:
    """A trigger the plan creates or the target has; compared by name (ferry names its own)."""

    name: str
    column: str | None = None  # the column a ferry `on update` trigger sets (None when discovered)


@dataclass(frozen=True)
class SourceObject:
    """A schema object of the source that is not a table: a view (with its definition as the
    source prints it), a trigger, a procedure, a function or an event. The plan carries or
    names each one (ferry.schema.source_objects); nothing of the source is silently left out."""

    kind: str  # view | trigger | procedure | function | event
    name: str
    definition: str | None = None  # a view's SELECT as the source's catalog holds it
    table: str | None = None  # the table a trigger belongs to


@dataclass(frozen=True)
class Table:
    name: str
    schema: str | None
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    primary_key_name: str | None = None
    unique_constraints: tuple[UniqueConstraint, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    indexes: tuple[Index, ...] = ()
    check_constraints: tuple[CheckConstraint, ...] = ()
    row_estimate: int = 0
    partitioned: bool = False  # a partitioned parent (PostgreSQL); its partitions are reported, not copied
    triggers: tuple[Trigger, ...] = ()
    partition_by: str | None = None  # PostgreSQL partition key (pg_get_partkeydef), e.g. "RANGE (at)"

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class PgObject:
    """A PostgreSQL object carried by the statements that create it, as the server prints them
    (pg_get_functiondef, pg_get_viewdef, pg_get_triggerdef, ...), naming the source schema.

    Compared by statement text between source and target (after the schema is rewritten), which
    is what pg_dump and pgcopydb rely on too: the server's own deparse is canonical.
    """

    kind: str  # extension | type | function | partition | view | trigger | ... (objects_plan.KINDS)
    name: str  # unique within its kind: "film.last_updated" for a trigger, "f(integer)" for a function
    statements: tuple[str, ...]
    depends: tuple[str, ...] = ()  # relations of the same schema it needs (tables, views, parents)
    provides: tuple[str, ...] = ()  # extension: the types it owns


@dataclass(frozen=True)
class Grant:
    """One privilege of one grantee (a role's name, or PUBLIC) on an object, as aclexplode lists it."""

    grantee: str
    privilege: str  # SELECT, INSERT, ..., USAGE, EXECUTE
    grantable: bool = False  # WITH GRANT OPTION


@dataclass(frozen=True)
class ObjectPrivileges:
    """Who owns a PostgreSQL relation or routine and what it grants to others (the owner's own
    privileges are implicit and left out)."""

    # table | view | materialized_view | sequence | function | procedure | aggregate | column | schema
    # | type | domain | owned_sequence | default_privileges (ferry.schema.pg_objects.privileges)
    kind: str
    name: str  # a relation's name, or "f(integer)" for a routine (as ferry.schema.pg_objects.routines)
    owner: str
    grants: tuple[Grant, ...] = ()


@dataclass(frozen=True)
class DatabaseSchema:
    """One schema (PostgreSQL) or database (MySQL/MariaDB, SQLite) as discovery saw it."""

    dialect: str  # postgresql | mysql | sqlite (MariaDB reports as mysql: same rules apply)
    schema: str | None
    tables: Mapping[str, Table] = field(default_factory=dict)
    views: tuple[str, ...] = ()  # reported, never copied
    partitions: tuple[str, ...] = ()  # partitions of partitioned tables: copied through their parent
    enums: Mapping[str, EnumType] = field(default_factory=dict)
    domains: Mapping[str, str] = field(default_factory=dict)  # domain name -> base type
    sequences: tuple[str, ...] = ()
    sequence_defs: Mapping[str, Sequence] = field(default_factory=dict)  # PostgreSQL: name -> definition
    server_version: str | None = None
    extensions: tuple[str, ...] = ()  # PostgreSQL extensions installed in the database
    objects: tuple[PgObject, ...] = ()  # PostgreSQL objects beyond tables (ferry.schema.pg_objects)
    available_extensions: tuple[str, ...] = ()  # pg_available_extensions of the server
    source_objects: tuple[SourceObject, ...] = ()  # MySQL/MariaDB, SQLite: views, triggers, routines
    # PostgreSQL: whether `schema` exists (a target schema the plan creates when it does not).
    schema_exists: bool = True
    # PostgreSQL: owners and grants of relations and routines (ferry.schema.pg_objects.privileges).
    privileges: tuple[ObjectPrivileges, ...] = ()
    roles: tuple[str, ...] = ()  # PostgreSQL: the server's roles (pg_roles); a server property, not hashed

    def to_dict(self, *, with_estimates: bool = True) -> dict[str, Any]:
        data = asdict(self)
        data["tables"] = {name: data["tables"][name] for name in sorted(data["tables"])}
        data["enums"] = {name: data["enums"][name] for name in sorted(data["enums"])}
        data["sequence_defs"] = {name: data["sequence_defs"][name] for name in sorted(data["sequence_defs"])}
        if not with_estimates:
            data.pop("server_version")
            data.pop("available_extensions")  # a server property, not the schema's
            data.pop("roles")  # any role made on the server would otherwise invalidate approvals
            for table in data["tables"].values():
                table.pop("row_estimate")
                for column in table["columns"]:
                    column.pop("max_value")
        for table in data["tables"].values():
            for column in table["columns"]:
                if column["zero_dates"] is None:  # the hashes of schemas read before it stay as they were
                    column.pop("zero_dates")
        return data

    def to_json(self) -> str:
        """Stable JSON: sorted keys, no whitespace variance; the same schema gives the same text."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def hash(self) -> str:
        """sha256 of the structure only: row estimates and the server version change without a
        schema change, and must not invalidate an approved plan."""
        text = json.dumps(self.to_dict(with_estimates=False), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    @classmethod
    def from_json(cls, text: str) -> DatabaseSchema:
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatabaseSchema:
        tables = {name: _table_from_dict(t) for name, t in data.get("tables", {}).items()}
        enums = {
            name: EnumType(e["name"], tuple(e["values"]), e.get("schema"))
            for name, e in data.get("enums", {}).items()
        }
        return cls(
            dialect=data["dialect"],
            schema=data.get("schema"),
            tables=tables,
            views=tuple(data.get("views", ())),
            partitions=tuple(data.get("partitions", ())),
            enums=enums,
            domains=dict(data.get("domains", {})),
            sequences=tuple(data.get("sequences", ())),
            sequence_defs={name: Sequence(**d) for name, d in data.get("sequence_defs", {}).items()},
            server_version=data.get("server_version"),
            extensions=tuple(data.get("extensions", ())),
            objects=tuple(
                PgObject(
                    o["kind"],
                    o["name"],
                    tuple(o["statements"]),
                    tuple(o.get("depends", ())),
                    tuple(o.get("provides", ())),
                )
                for o in data.get("objects", ())
            ),
            available_extensions=tuple(data.get("available_extensions", ())),
            source_objects=tuple(SourceObject(**o) for o in data.get("source_objects", ())),
            schema_exists=data.get("schema_exists", True),
            privileges=tuple(
                ObjectPrivileges(
                    p["kind"], p["name"], p["owner"], tuple(Grant(**g) for g in p.get("grants", ()))
                )
                for p in data.get("privileges", ())
            ),
            roles=tuple(data.get("roles", ())),
        )

    def without_table(self, name: str) -> DatabaseSchema:
        return replace(self, tables={k: v for k, v in self.tables.items() if k != name})


def _table_from_dict(t: Mapping[str, Any]) -> Table:
    return Table(
        name=t["name"],
        schema=t.get("schema"),
        columns=tuple(Column(**c) for c in t["columns"]),
        primary_key=tuple(t.get("primary_key", ())),
        primary_key_name=t.get("primary_key_name"),
        unique_constraints=tuple(
            UniqueConstraint(u["name"], tuple(u["columns"])) for u in t.get("unique_constraints", ())
        ),
        foreign_keys=tuple(
            ForeignKey(
                **{**f, "columns": tuple(f["columns"]), "referred_columns": tuple(f["referred_columns"])}
            )
            for f in t.get("foreign_keys", ())
        ),
        indexes=tuple(
            Index(**{**i, "columns": tuple(i["columns"]), "lengths": tuple(i.get("lengths", ()))})
            for i in t.get("indexes", ())
        ),
        check_constraints=tuple(CheckConstraint(**c) for c in t.get("check_constraints", ())),
        row_estimate=t.get("row_estimate", 0),
        partitioned=t.get("partitioned", False),
        triggers=tuple(Trigger(**g) for g in t.get("triggers", ())),
        partition_by=t.get("partition_by"),
    )
