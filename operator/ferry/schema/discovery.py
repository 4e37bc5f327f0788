"""Reflect a live database into the normalized model.

Keys, constraints and indexes come from the SQLAlchemy inspector (its `get_multi_*` calls
read each kind for all tables in one query); columns, row estimates, views and partitions
come from the per-dialect catalog modules, because the inspector loses exact type text.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from ferry.db.dialects import Family, family
from ferry.schema import (
    catalog_mysql,
    catalog_mysql_dates,
    catalog_mysql_objects,
    catalog_pg_indexes,
    catalog_postgresql,
    catalog_postgresql_objects,
    catalog_sqlite,
    pg_objects,
)
from ferry.schema.model import (
    CheckConstraint,
    Column,
    DatabaseSchema,
    ForeignKey,
    Index,
    Table,
    UniqueConstraint,
)
from ferry.schema.pg_objects import privileges

# NO ACTION and RESTRICT are the engines' defaults; we keep only actions that change behaviour.
# Referential actions that mean "the default" and are left out of the model. MySQL's InnoDB
# treats RESTRICT as NO ACTION; PostgreSQL and SQLite check RESTRICT at once (it cannot be
# deferred), so there RESTRICT is kept as written.
_DEFAULT_ACTIONS = {None, "NO ACTION"}
_MYSQL_DEFAULT_ACTIONS = {None, "NO ACTION", "RESTRICT"}


def dialect_family(engine: sa.Engine | sa.Connection) -> Family:
    """postgresql | mysql | sqlite: MariaDB follows MySQL's rules (ferry.db.dialects.family)."""
    return family(engine.dialect)


def discover(engine: sa.Engine, schema: str | None = None) -> DatabaseSchema:
    """Reflect `schema` (PostgreSQL; default `public`/the search path) or the connected database."""
    engine_family = dialect_family(engine)  # an unknown dialect fails here, before connecting
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        schema = schema or inspector.default_schema_name
        version = ".".join(str(p) for p in (engine.dialect.server_version_info or ()))
        match engine_family:
            case Family.POSTGRESQL:
                with catalog_postgresql.qualified_names(conn):
                    return _discover_postgresql(conn, inspector, schema or "public", version)
            case Family.MYSQL:
                return _discover_mysql(conn, inspector, schema or "", version)
            case Family.SQLITE:
                return _discover_sqlite(conn, inspector, version)


def _discover_postgresql(
    conn: sa.Connection, inspector: sa.Inspector, schema: str, version: str
) -> DatabaseSchema:
    rel = catalog_postgresql.relations(conn, schema)
    columns = catalog_postgresql.columns(conn, schema)
    names = sorted(rel.tables)
    tables = _assemble(inspector, schema, names, columns, rel.tables, rel.partitioned, table_schema=schema)
    found = catalog_postgresql_objects.triggers(conn, schema)
    tables = {name: replace(t, triggers=found.get(name, ())) for name, t in tables.items()}
    tables = catalog_pg_indexes.with_definitions(conn, schema, tables)
    return DatabaseSchema(
        dialect="postgresql",
        schema=schema,
        tables=tables,
        views=tuple(sorted(rel.views)),
        partitions=tuple(sorted(rel.partitions)),
        enums=catalog_postgresql.enums(conn, schema),
        domains=catalog_postgresql.domains(conn, schema),
        sequences=tuple(sorted(rel.sequences)),
        sequence_defs=catalog_postgresql.sequences(conn, schema),
        server_version=version,
        extensions=catalog_postgresql_objects.extensions(conn),
        objects=pg_objects.read_objects(conn, schema),
        available_extensions=pg_objects.available_extensions(conn),
        schema_exists=catalog_postgresql.schema_exists(conn, schema),
        privileges=privileges.read(conn, schema),
        roles=privileges.roles(conn),
    )


def _discover_mysql(
    conn: sa.Connection, inspector: sa.Inspector, schema: str, version: str
) -> DatabaseSchema:
    rel = catalog_mysql.relations(conn, schema)
    json_checks = catalog_mysql.json_check_names(conn, schema)
    columns = catalog_mysql.columns(conn, schema, set(json_checks))
    columns = {t: catalog_mysql.with_auto_increment_max(conn, t, cols) for t, cols in columns.items()}
    columns = {t: catalog_mysql_objects.with_time_overflow(conn, t, cols) for t, cols in columns.items()}
    estimates = rel.tables
    columns = {
        t: catalog_mysql_dates.with_zero_dates(conn, t, c, estimates.get(t, 0)) for t, c in columns.items()
    }
    skip_checks = {(table, name) for (table, _col), name in json_checks.items()}
    names = sorted(rel.tables)
    tables = _assemble(
        inspector, schema, names, columns, rel.tables, set(), table_schema=None, skip_checks=skip_checks
    )
    return DatabaseSchema(
        dialect="mysql",
        schema=schema,
        tables=tables,
        views=tuple(sorted(rel.views)),
        sequences=tuple(sorted(rel.sequences)),
        server_version=version,
        source_objects=catalog_mysql_objects.objects(conn, schema),
    )


def _discover_sqlite(conn: sa.Connection, inspector: sa.Inspector, version: str) -> DatabaseSchema:
    names, views = catalog_sqlite.relations(conn)
    columns = {name: catalog_sqlite.columns(conn, name) for name in names}
    counts = {name: catalog_sqlite.row_count(conn, name) for name in names}
    tables = _assemble(inspector, None, names, columns, counts, set(), table_schema=None)
    return DatabaseSchema(
        dialect="sqlite",
        schema=None,
        tables=tables,
        views=tuple(views),
        server_version=version,
        source_objects=catalog_sqlite.objects(conn),
    )


def _by_name(result: Mapping[tuple[str | None, str], Any]) -> dict[str, Any]:
    return {key[1]: value for key, value in result.items()}


def _assemble(
    inspector: sa.Inspector,
    schema: str | None,
    names: list[str],
    columns: Mapping[str, list[Column]],
    estimates: Mapping[str, int],
    partitioned: set[str],
    *,
    table_schema: str | None,
    skip_checks: set[tuple[str, str]] | None = None,
) -> dict[str, Table]:
    if not names:
        return {}
    kw: dict[str, Any] = {"schema": schema, "filter_names": names}
    with warnings.catch_warnings():
        # The MySQL inspector warns about column types it cannot map (geometry); we read
        # column types from the catalog, not from the inspector.
        warnings.filterwarnings("ignore", "Did not recognize type", category=sa.exc.SAWarning)
        pks = _by_name(inspector.get_multi_pk_constraint(**kw))
        fks = _by_name(inspector.get_multi_foreign_keys(**kw))
        uniques = _by_name(inspector.get_multi_unique_constraints(**kw))
        indexes = _by_name(inspector.get_multi_indexes(**kw))
        checks = _by_name(inspector.get_multi_check_constraints(**kw))
    skip_checks = skip_checks or set()
    defaults = _MYSQL_DEFAULT_ACTIONS if family(inspector.dialect) is Family.MYSQL else _DEFAULT_ACTIONS
    tables: dict[str, Table] = {}
    for name in names:
        pk = pks.get(name) or {}
        unique = tuple(
            UniqueConstraint(u.get("name"), tuple(u["column_names"]))
            for u in sorted(uniques.get(name, []), key=lambda u: (u.get("name") or "", u["column_names"]))
        )
        # A unique key over a prefix (`email(191)`) is unique on the prefix only: an index, not a
        # constraint on the whole column.
        prefixed = {ix["name"] for ix in indexes.get(name, []) if _lengths(ix)}
        unique = tuple(u for u in unique if u.name not in prefixed)
        unique_names = {u.name for u in unique}
        tables[name] = Table(
            name=name,
            schema=table_schema,
            columns=tuple(columns.get(name, [])),
            primary_key=tuple(pk.get("constrained_columns") or ()),
            primary_key_name=pk.get("name") if pk.get("constrained_columns") else None,
            unique_constraints=unique,
            foreign_keys=tuple(_foreign_key(fk, schema, defaults) for fk in fks.get(name, [])),
            indexes=tuple(
                _index(ix)
                for ix in sorted(indexes.get(name, []), key=lambda ix: ix["name"] or "")
                if "duplicates_constraint" not in ix and ix["name"] not in unique_names
            ),
            check_constraints=tuple(
                CheckConstraint(c.get("name"), c["sqltext"])
                for c in sorted(checks.get(name, []), key=lambda c: c.get("name") or "")
                if (name, c.get("name")) not in skip_checks
            ),
            row_estimate=int(estimates.get(name, 0)),
            partitioned=name in partitioned,
        )
    return tables


def _foreign_key(fk: Mapping[str, Any], schema: str | None, defaults: set[str | None]) -> ForeignKey:
    options = fk.get("options") or {}
    referred_schema = fk.get("referred_schema")
    on_delete, on_update = (
        str(options[k]).upper() if options.get(k) else None for k in ("ondelete", "onupdate")
    )
    return ForeignKey(
        name=fk.get("name"),
        columns=tuple(fk["constrained_columns"]),
        referred_schema=None if referred_schema in (schema, None) else referred_schema,
        referred_table=fk["referred_table"],
        referred_columns=tuple(fk["referred_columns"]),
        on_delete=None if on_delete in defaults else on_delete,
        on_update=None if on_update in defaults else on_update,
        deferrable=bool(options.get("deferrable")),
        initially_deferred=str(options.get("initially") or "").upper() == "DEFERRED",
    )


def _mysql_option(ix: Mapping[str, Any], name: str) -> Any:
    """A MySQL index option; the MariaDB dialect spells its options `mariadb_*`."""
    options = ix.get("dialect_options") or {}
    return options.get(f"mysql_{name}", options.get(f"mariadb_{name}"))


def _lengths(ix: Mapping[str, Any]) -> tuple[int | None, ...]:
    """MySQL prefix lengths per column (`KEY (email(191))`); () when the index has none."""
    lengths = _mysql_option(ix, "length") or {}
    if not lengths:
        return ()
    return tuple(lengths.get(c) for c in ix["column_names"])


def _index(ix: Mapping[str, Any]) -> Index:
    options = ix.get("dialect_options") or {}
    expressions = ix.get("expressions")
    columns = tuple(str(c) for c in (expressions or ix["column_names"]))
    kind = _mysql_option(ix, "prefix")  # FULLTEXT or SPATIAL: MySQL's index types
    return Index(
        name=ix["name"],
        columns=columns,
        unique=bool(ix.get("unique")),
        method=options.get("postgresql_using") or (str(kind).lower() if kind else None),
        where=options.get("postgresql_where"),
        expressions=bool(expressions) and any(c is None for c in ix["column_names"]),
        lengths=_lengths(ix),
    )
