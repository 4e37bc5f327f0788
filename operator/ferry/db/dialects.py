"""The dialect registry: which family of SQL rules a database follows, resolved in one place.

Ferry knows three families. MariaDB follows MySQL's rules (identifier quoting, AUTO_INCREMENT,
DDL that commits implicitly, `DROP INDEX ... ON`), so everything that reasons about SQL asks
`family(...)` once instead of comparing against `("mysql", "mariadb")` where it needs to know,
as sqlglot resolves a dialect once from a registry. Only what really differs between MySQL
and MariaDB (the SQLAlchemy driver name, say) keys on `ferry.api.connection.Engine`.
"""

from __future__ import annotations

import copy
from enum import StrEnum

from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine.interfaces import Dialect


class Family(StrEnum):
    POSTGRESQL = "postgresql"
    MYSQL = "mysql"
    SQLITE = "sqlite"


class UnknownDialect(ValueError):
    """A database Ferry has no rules for."""


# Engine names (ferry.api.connection.Engine values) and SQLAlchemy dialect names.
_FAMILIES = {
    "postgresql": Family.POSTGRESQL,
    "mysql": Family.MYSQL,
    "mariadb": Family.MYSQL,
    "sqlite": Family.SQLITE,
}


def family(engine: str | Dialect) -> Family:
    """The family of an `Engine` (a StrEnum, so a name), an engine or SQLAlchemy dialect name
    ("mariadb" -> mysql; a driver suffix as in "mariadb+pymysql" is ignored), or a SQLAlchemy
    dialect."""
    name = engine if isinstance(engine, str) else engine.name
    found = _FAMILIES.get(name.split("+", 1)[0])
    if found is None:
        raise UnknownDialect(f"unsupported dialect {name!r}")
    return found


def sqlalchemy_dialect(engine: str | Dialect) -> Dialect:
    """A SQLAlchemy dialect of the family, to compile DDL without a connection, for statements
    run as written (see `verbatim`)."""
    module = {Family.POSTGRESQL: postgresql, Family.MYSQL: mysql, Family.SQLITE: sqlite}[family(engine)]
    dialect: Dialect = module.dialect(paramstyle="named")
    return dialect


def verbatim(dialect: Dialect) -> Dialect:
    """`dialect` compiling for statements run as written, with no parameters (ferry.schema.apply
    runs the plan's DDL so; `ferry plan --sql` prints it for psql). The drivers' own dialects
    (psycopg, PyMySQL: `format`/`pyformat` parameters) double every `%` in names and in text,
    for the driver to undo when it formats; run as written, `"50%s off"` would become a column
    `50%%s off` and `DEFAULT 'a%b'` a default of `'a%%b'`. The copy keeps the dialect's server
    version and flags (MariaDB, say); only its parameter style and so its quoting change. Not
    cached: every engine has its own dialect, and the operator makes engines all day; a copy
    costs microseconds."""
    if dialect.paramstyle not in ("format", "pyformat"):
        return dialect
    named = copy.copy(dialect)
    named.paramstyle, named.positional = "named", False
    named.identifier_preparer = named.preparer(named)
    return named
