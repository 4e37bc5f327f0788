"""Nothing silent: every object of the source is carried to the target or named in the plan.

- Views of a MySQL/MariaDB source become PostgreSQL views (`create_view`, post-data, after
  the rows are in) when sqlglot translates their definition exactly (ferry.schema.mysql_sql)
  and everything they read is carried: tables selected with all their columns under their
  own names, or views created before them (so they are created in dependency order).
  Otherwise each is a warning with the reason.
- Triggers, procedures, functions and events (MySQL/MariaDB), views and triggers (SQLite):
  a warning each, naming the object: their procedural SQL is not translated.
- A foreign key of a selected table to a table that is not selected: a plan error when the
  target does not have that table either (the application would lose a reference the source
  enforced), a warning when it does (the data's references can still be checked there).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ferry.schema import mysql_sql
from ferry.schema.desired import Desired
from ferry.schema.mapping import TableMapping
from ferry.schema.model import DatabaseSchema, SourceObject
from ferry.schema.operations import Operation, OpKind, OpPhase, Risk

_NOT_TRANSLATED = {
    "mysql": "its procedural SQL is not translated; re-create it on the target if still needed",
    "sqlite": "SQLite SQL is not translated; re-create it on the target if still needed",
}

_VIEWS_UNTRANSLATED = "views are translated only into PostgreSQL with schema mode create or diff"


def _readable(source: DatabaseSchema, mappings: Sequence[TableMapping]) -> dict[str, str]:
    """Source table -> target table, for the tables a view may read: all columns carried
    under their own names (a view's text names them)."""
    out = {}
    for m in mappings:
        carried = {c.source: c.target for c in (*m.columns, *m.generated)}
        table = source.tables[m.source_table]
        if set(table.column_names) == set(carried) and all(s == t for s, t in carried.items()):
            out[m.source_table] = m.target_table
    return out


def view_operations(
    source: DatabaseSchema,
    target: DatabaseSchema,
    mappings: Sequence[TableMapping],
    schema: str | None,
) -> tuple[list[Operation], list[str]]:
    """`create_view` operations in dependency order, and a warning per view not carried."""
    views = [o for o in source.source_objects if o.kind == "view"]
    names = _readable(source, mappings)
    booleans = {c.source for m in mappings for c in m.columns if c.target_type == "boolean"}
    pending = {v.name: v for v in views}
    ops: list[Operation] = []
    warnings: list[str] = []
    reasons: dict[str, str] = {}
    progress = True
    while pending and progress:
        progress = False
        for name, view in sorted(pending.items()):
            translated = mysql_sql.translate_view(
                view.definition or "", source.schema, schema, names, booleans
            )
            if translated.sql is None:
                reasons[name] = translated.reason or "not translated"
                continue
            del pending[name]
            names[name] = name
            progress = True
            if name in target.views:
                warnings.append(f"view {name}: exists on the target and is left as is")
                continue
            ops.append(
                Operation(
                    OpKind.CREATE_VIEW,
                    schema,
                    name,
                    Risk.SAFE,
                    "view of the source, translated to PostgreSQL",
                    f"view {name} AS {translated.sql}",
                    phase=OpPhase.POST_DATA,
                    view=SourceObject("view", name, definition=translated.sql),
                )
            )
    warnings += [f"view {name} is not carried: {reasons[name]}" for name in sorted(pending)]
    return ops, warnings


def not_carried_warnings(source: DatabaseSchema, *, views_too: bool) -> list[str]:
    """A warning per trigger, routine and event (and view, when views are not translated)."""
    reason = _NOT_TRANSLATED.get(source.dialect, "not translated")
    out = []
    for obj in source.source_objects:
        if obj.kind == "view" and not views_too:
            continue
        on = f" on table {obj.table}" if obj.table else ""
        why = _VIEWS_UNTRANSLATED if obj.kind == "view" and source.dialect == "mysql" else reason
        out.append(f"{obj.kind} {obj.name}{on} is not carried: {why}")
    return out


def reference_problems(
    desired: Desired, target: DatabaseSchema, target_names: Mapping[str, str] | None = None
) -> tuple[list[str], list[str]]:
    """(errors, warnings) for foreign keys to tables that are not selected."""
    errors, warnings = [], []
    for where, referred in desired.missing_references:
        name = (target_names or {}).get(referred, referred)
        if name in target.tables:
            warnings.append(
                f"{where}: foreign key to {referred} not created: {referred} is not selected "
                "(the target has a table of that name)"
            )
        else:
            errors.append(
                f"{where}: references {referred}, which is not selected and does not exist on the "
                f"target; select {referred} or exclude the referencing column"
            )
    return errors, warnings
