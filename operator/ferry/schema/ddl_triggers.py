"""DDL of the PostgreSQL objects a MySQL/MariaDB source needs: extensions, `on update` triggers
and the source's views as translated (ferry.schema.source_objects).

The trigger keeps MySQL's ON UPDATE CURRENT_TIMESTAMP: the column takes the statement's time
when an UPDATE changes the row but does not set the column itself (Laravel sets `updated_at`
explicitly; a plain `UPDATE … SET title = …` relies on the server). The function is named as
the trigger, in the table's schema, so two tables never share one.
"""

from __future__ import annotations

from sqlalchemy.engine.interfaces import Dialect

from ferry.db.dialects import Family
from ferry.schema.operations import Operation


class TriggerRenderError(ValueError):
    """Only PostgreSQL targets get these objects."""


def _postgresql_only(op: Operation, fam: Family) -> None:
    if fam is not Family.POSTGRESQL:
        raise TriggerRenderError(f"{op.kind} on {op.qualified_table} is rendered for PostgreSQL only")


def create_extension(op: Operation, dialect: Dialect, fam: Family) -> list[str]:
    _postgresql_only(op, fam)
    return [f"CREATE EXTENSION IF NOT EXISTS {dialect.identifier_preparer.quote(op.table)}"]


def create_trigger(op: Operation, dialect: Dialect, fam: Family) -> list[str]:
    _postgresql_only(op, fam)
    assert op.trigger is not None and op.trigger.column is not None
    prep = dialect.identifier_preparer
    schema = f"{prep.quote_schema(op.schema)}." if op.schema else ""
    function = f"{schema}{prep.quote(op.trigger.name)}"
    column = prep.quote(op.trigger.column)
    body = (
        f"BEGIN IF NEW.{column} IS NOT DISTINCT FROM OLD.{column} AND NEW IS DISTINCT FROM OLD "
        f"THEN NEW.{column} := CURRENT_TIMESTAMP; END IF; RETURN NEW; END"
    )
    return [
        f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $ferry${body}$ferry$",
        f"CREATE TRIGGER {prep.quote(op.trigger.name)} BEFORE UPDATE ON {schema}{prep.quote(op.table)} "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()",
    ]


def create_view(op: Operation, dialect: Dialect, fam: Family) -> list[str]:
    _postgresql_only(op, fam)
    assert op.view is not None and op.view.definition is not None
    prep = dialect.identifier_preparer
    schema = f"{prep.quote_schema(op.schema)}." if op.schema else ""
    return [f"CREATE VIEW {schema}{prep.quote(op.table)} AS {op.view.definition}"]
