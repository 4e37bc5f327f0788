"""What a plan says about the schemas as they are, besides its operations: warnings about the
source (views, partitions, tables without a key), about existing target tables whose foreign
keys are set aside for the load, and, in schema mode `none`, what the target lacks.
"""

from __future__ import annotations

from ferry.schema.desired import Desired
from ferry.schema.mapping import TableMapping
from ferry.schema.model import DatabaseSchema


def source_warnings(source: DatabaseSchema, mappings: list[TableMapping], *, carried: bool) -> list[str]:
    """`carried`: PostgreSQL to PostgreSQL, where views and partitions are created as on the source."""
    named = {o.name for o in source.source_objects if o.kind == "view"}  # ferry.schema.source_objects
    out = (
        []
        if carried
        else [f"view {v} is not copied (views are skipped)" for v in source.views if v not in named]
    )
    if len(source.partitions) > 3:  # a table partitioned by month has dozens: one line
        out.append(
            f"{len(source.partitions)} partitions ({source.partitions[0]}, ...) are not copied on their own; "
            "their rows come through their parent tables"
        )
    else:
        out += [
            f"partition {p} is not copied on its own; its rows come through its parent table"
            for p in source.partitions
        ]
    for m in mappings:
        if not m.key:
            out.append(
                f"{m.source_table}: no primary key or NOT NULL unique key; "
                "copied as one unit, reloaded on retry"
            )
        table = source.tables[m.source_table]
        if table.partitioned and not (carried and table.partition_by):
            out.append(f"{m.source_table}: partitioned on the source; created as a plain table")
    return out


def set_aside_warnings(desired: Desired, target: DatabaseSchema, target_dialect: str) -> list[str]:
    """Existing PostgreSQL target tables keep their foreign keys only around the load, not during it
    (ferry.services.fk_deferral): units load in any table order."""
    if target_dialect != "postgresql":
        return []
    out = []
    for name in desired.tables:
        actual = target.tables.get(name)
        if actual is not None and actual.foreign_keys:
            out.append(
                f"{name}: its foreign keys ({len(actual.foreign_keys)}) are dropped for the load "
                "and re-created as they were after it"
            )
    return out


def missing_on_target(desired: Desired, target: DatabaseSchema) -> list[str]:
    errors = []
    if not target.schema_exists:
        errors.append(f"target schema {target.schema} does not exist (schema mode none creates nothing)")
    for name, table in desired.tables.items():
        actual = target.tables.get(name)
        if actual is None:
            errors.append(f"{name}: target table does not exist (schema mode none creates nothing)")
            continue
        missing = [c.name for c in table.columns if actual.column(c.name) is None]
        if missing:
            errors.append(f"{name}: target table has no column {', '.join(missing)}")
    return errors
