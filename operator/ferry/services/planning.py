"""Plan a Migration: reflect both databases, select and map tables, diff into a plan.

Used by the operator (to plan and gate on approval) and by the worker (to know the tables
it copies), so both derive the same mappings from the same spec.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy

from ferry.api.connection import DatabaseConnectionSpec
from ferry.api.migration import MigrationSpec, OnConflict, PrivilegesMode
from ferry.copy.checkpoint_sql import PG_SCHEMA as CHECKPOINT_SCHEMA
from ferry.copy.checkpoint_sql import PG_TABLE as PG_CHECKPOINT_TABLE
from ferry.copy.checkpoint_sql import TABLE as CHECKPOINT_TABLE
from ferry.db.credentials import Credentials
from ferry.db.dialects import family
from ferry.db.engines import create_engine
from ferry.schema import DatabaseSchema, Plan, build_plan, discover, select_tables
from ferry.schema.fingerprint import schema_fingerprint
from ferry.schema.mapping import TableMapping
from ferry.schema.plan import Privileges
from ferry.schema.sequence_resets import sequence_resets, set_sequence_operations
from ferry.services.data_operations import data_operations


@dataclass(frozen=True)
class Side:
    """One end of a migration: its connection spec and resolved credentials."""

    spec: DatabaseConnectionSpec
    credentials: Credentials

    @property
    def dialect(self) -> str:
        return str(family(self.spec.engine))


@dataclass(frozen=True)
class PlannedMigration:
    source_schema: DatabaseSchema
    target_schema: DatabaseSchema
    mappings: list[TableMapping]
    plan: Plan
    # Online mode: what keeps the source from being followed (also in plan.errors), so the gate's
    # refusal can say CaptureNotReady rather than a schema problem (ferry.services.capture_ops).
    capture_problems: tuple[str, ...] = ()


@contextmanager
def engine_for(side: Side) -> Iterator[sqlalchemy.Engine]:
    engine = create_engine(side.spec, side.credentials, pool=False)
    try:
        yield engine
    finally:
        engine.dispose()


def source_mappings(spec: MigrationSpec, source: Side, target: Side) -> list[TableMapping]:
    """The tables to copy and how their columns map (what a worker needs; no target diff)."""
    with engine_for(source) as engine:
        schema = discover(engine, spec.source.schema_)
    return select_tables(schema, spec, target.dialect)


def target_tables(mappings: Sequence[TableMapping]) -> list[tuple[str | None, str]]:
    """(schema, name) of each mapped target table."""
    return [(m.target_schema, m.target_table) for m in mappings]


def privileges_option(spec: MigrationSpec) -> Privileges | None:
    """`schema.privileges` as build_plan takes it: None (skip) or the role mapping to copy with."""
    if spec.schema_.privileges == PrivilegesMode.COPY:
        return Privileges(dict(spec.schema_.role_mapping))
    return None


def plan_migration(
    spec: MigrationSpec, source: Side, target: Side, owned_tables: Sequence[str] = ()
) -> PlannedMigration:
    """Discover both sides and plan: the schema operations, then the data operations of the
    copy and rollback settings (ferry.services.data_operations) and the counters set after
    the load (ferry.schema.sequence_resets). `owned_tables`: the tables
    this migration created (`status.createdTables`), which mode `create` completes with
    their deferred keys."""
    with engine_for(source) as src, engine_for(target) as dst:
        source_schema = discover(src, spec.source.schema_)
        target_schema = discover(dst, spec.target.schema_)
        mappings = select_tables(source_schema, spec, target.dialect)
        plan = build_plan(
            source_schema,
            target_schema,
            mappings,
            mode=spec.schema_.mode.value,
            target_dialect=target.dialect,
            defer_constraints=True,
            # Without ON CONFLICT handling the load needs no key on the target: build it afterwards.
            defer_primary_keys=spec.copy_.on_conflict == OnConflict.ERROR,
            owned_tables=owned_tables,
            privileges=privileges_option(spec),
        )
        default_schema = target_schema.schema if target.dialect == "postgresql" else None
        resets = sequence_resets(source_schema, mappings, target.dialect, default_schema)
        plan = plan.with_selection(mappings).with_operations(
            [
                *data_operations(spec, mappings, target_schema, dst),
                *set_sequence_operations(resets, source_schema.dialect),
            ]
        )
    return PlannedMigration(source_schema, target_schema, mappings, plan)


def schema_fingerprints(spec: MigrationSpec, source: Side, target: Side) -> str:
    """Both sides' schema fingerprints (ferry.schema.fingerprint): one catalog query each."""
    with engine_for(source) as src, engine_for(target) as dst:
        return (
            f"{schema_fingerprint(src, spec.source.schema_)}|{schema_fingerprint(dst, spec.target.schema_)}"
        )


def tables_with_checkpoints(target: Side, migration_uid: str) -> list[str]:
    """Target tables (schema-qualified) that the migration has started copying into, by its
    checkpoints: a rerun of `ferry run` owns them as the operator owns `status.createdTables`."""
    with engine_for(target) as engine:
        schema = CHECKPOINT_SCHEMA if engine.dialect.name == "postgresql" else None
        if not sqlalchemy.inspect(engine).has_table(CHECKPOINT_TABLE, schema=schema):
            return []
        table = PG_CHECKPOINT_TABLE if schema else CHECKPOINT_TABLE
        with engine.connect() as conn:
            rows = conn.execute(
                sqlalchemy.text(f"SELECT DISTINCT unit_id FROM {table} WHERE migration_uid = :uid"),
                {"uid": migration_uid},
            ).all()
    # Unit ids are the qualified target table, with `#part/parts` when the table was split.
    return sorted({str(row[0]).split("#")[0] for row in rows})
