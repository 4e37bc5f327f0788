"""Plan a Migration: reflect both databases, select and map tables, diff into a plan.

Used by the operator (to plan and gate on approval) and by the worker (to know the tables
it copies), so both derive the same mappings from the same spec.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace

import sqlalchemy

from ferry.api.connection import DatabaseConnectionSpec
from ferry.api.migration import MigrationSpec, OnConflict, PrivilegesMode
from ferry.copy.checkpoint_sql import PG_SCHEMA as CHECKPOINT_SCHEMA
from ferry.copy.checkpoint_sql import PG_TABLE as PG_CHECKPOINT_TABLE
from ferry.copy.checkpoint_sql import TABLE as CHECKPOINT_TABLE
from ferry.db.credentials import Credentials
from ferry.db.dialects import family
from ferry.db.engines import create_engine
from ferry.schema import DatabaseSchema, Plan, build_plan, discover
from ferry.schema.fingerprint import schema_fingerprint
from ferry.schema.mapping import TableMapping
from ferry.schema.personal_data import classify
from ferry.schema.pii_sample import sample_columns
from ferry.schema.plan import Privileges
from ferry.schema.plan_join import join_plans
from ferry.schema.schema_pairs import check_dialects, schema_pairs
from ferry.schema.selection import select_schemas
from ferry.schema.sequence_resets import sequence_resets, set_sequence_operations
from ferry.schema.snapshots import snapshots
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
class SchemaPlan:
    """One (source schema, target schema) pair as reflected, with the tables it copies."""

    source: DatabaseSchema
    target: DatabaseSchema
    mappings: list[TableMapping]


@dataclass(frozen=True)
class PlannedMigration:
    source_schema: DatabaseSchema  # the first pair's (the only one without source.schemas)
    target_schema: DatabaseSchema
    mappings: list[TableMapping]  # of every pair
    plan: Plan
    # Online mode: what keeps the source from being followed (also in plan.errors), so the gate's
    # refusal can say CaptureNotReady rather than a schema problem (ferry.services.capture_ops).
    capture_problems: tuple[str, ...] = ()
    # Every pair (ferry.schema.schema_pairs); empty when made by hand with one pair.
    pairs: tuple[SchemaPlan, ...] = ()

    @property
    def schema_plans(self) -> tuple[SchemaPlan, ...]:
        return self.pairs or (SchemaPlan(self.source_schema, self.target_schema, self.mappings),)


@contextmanager
def engine_for(side: Side) -> Iterator[sqlalchemy.Engine]:
    engine = create_engine(side.spec, side.credentials, pool=False)
    try:
        yield engine
    finally:
        engine.dispose()


def source_mappings(spec: MigrationSpec, source: Side, target: Side) -> list[TableMapping]:
    """The tables to copy and how their columns map (what a worker needs; no target diff)."""
    pairs = schema_pairs(spec)
    check_dialects(spec, source.dialect, target.dialect)
    with engine_for(source) as engine:
        schemas = [(discover(engine, pair.source), pair.target) for pair in pairs]
    return [m for selected in select_schemas(schemas, spec, target.dialect) for m in selected]


def target_tables(mappings: Sequence[TableMapping]) -> list[tuple[str | None, str]]:
    """(schema, name) of each mapped target table."""
    return [(m.target_schema, m.target_table) for m in mappings]


def privileges_option(spec: MigrationSpec) -> Privileges | None:
    """`schema.privileges` as build_plan takes it: None (skip) or the role mapping to copy with."""
    if spec.schema_.privileges == PrivilegesMode.COPY:
        return Privileges(dict(spec.schema_.role_mapping))
    return None


def plan_migration(
    spec: MigrationSpec,
    source: Side,
    target: Side,
    owned_tables: Sequence[str] = (),
    *,
    sample_values: bool = True,
) -> PlannedMigration:
    """Discover both sides and plan: the schema operations, then the data operations of the
    copy and rollback settings (ferry.services.data_operations) and the counters set after
    the load (ferry.schema.sequence_resets). `owned_tables`: the tables
    this migration created (`status.createdTables`), which mode `create` completes with
    their deferred keys. `sample_values`: read the sample of text values that finds personal
    data (ferry.schema.pii_sample); off for the re-plans after the load, which use only the DDL."""
    pairs = schema_pairs(spec)
    check_dialects(spec, source.dialect, target.dialect)
    with engine_for(source) as src, engine_for(target) as dst:
        reflected = [(discover(src, pair.source), discover(dst, pair.target)) for pair in pairs]
        selected = select_schemas(
            [(s, pair.target) for (s, _), pair in zip(reflected, pairs, strict=True)], spec, target.dialect
        )
        schema_plans = [SchemaPlan(s, t, m) for (s, t), m in zip(reflected, selected, strict=True)]
        plans, extra = [], []
        for one in schema_plans:
            others = [m for other in schema_plans if other is not one for m in other.mappings]
            plans.append(_plan_pair(spec, one, target.dialect, owned_tables, others))
            default_schema = one.target.schema if target.dialect == "postgresql" else None
            resets = sequence_resets(one.source, one.mappings, target.dialect, default_schema)
            extra += data_operations(spec, one.mappings, one.target, dst)
            extra += set_sequence_operations(resets, one.source.dialect)
        mappings = [m for one in schema_plans for m in one.mappings]
        labels = [one.source.schema or "" for one in schema_plans]
        plan = join_plans(plans, labels).with_selection(mappings).with_operations(extra)
        sampled = sample_columns(src, mappings, spec.schema_.personal_data_sample if sample_values else 0)
        plan = plan.with_personal_data(classify(mappings, sampled.evidence), sampled.problems)
        plan = replace(plan, snapshots=snapshots((one.source, one.target) for one in schema_plans))
    first = schema_plans[0]
    return PlannedMigration(first.source, first.target, mappings, plan, pairs=tuple(schema_plans))


def _plan_pair(
    spec: MigrationSpec,
    one: SchemaPlan,
    target_dialect: str,
    owned_tables: Sequence[str],
    other_schemas: Sequence[TableMapping],
) -> Plan:
    return build_plan(
        one.source,
        one.target,
        one.mappings,
        mode=spec.schema_.mode.value,
        target_dialect=target_dialect,
        defer_constraints=True,
        # Without ON CONFLICT handling the load needs no key on the target: build it afterwards.
        defer_primary_keys=spec.copy_.on_conflict == OnConflict.ERROR,
        owned_tables=owned_tables,
        privileges=privileges_option(spec),
        other_schemas=other_schemas,
    )


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
