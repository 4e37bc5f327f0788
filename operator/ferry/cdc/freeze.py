"""`spec.cutover.freezeSource`: make the source read-only just before the cutover position is taken.

Best effort, with what the migration's own role may do, and never undone by Ferry (the
application moves to the target; going back is a decision for people):
- PostgreSQL: `ALTER DATABASE … SET default_transaction_read_only = on` (the database's owner
  or a superuser). It holds for sessions opened afterwards; sessions open now keep writing
  until they reconnect, and any session may still `SET default_transaction_read_only = off`.
  Undo: `ALTER DATABASE … RESET default_transaction_read_only`.
- MariaDB/MySQL: `SET GLOBAL read_only = ON` (SUPER, or READ_ONLY ADMIN on MariaDB). Accounts
  with that privilege still write. Undo: `SET GLOBAL read_only = OFF`.
Where the role may not, nothing changes and the returned sentence says so: stop the writers.
"""

from __future__ import annotations

import sqlalchemy

from ferry.db.dialects import Family, family
from ferry.observability.errors import first_line
from ferry.services.planning import Side, engine_for


def _pg_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def freeze_source(source: Side) -> str:
    """Make the source read-only where permitted; returns what was done, or why not (a warning)."""
    try:
        with engine_for(source) as engine, engine.begin() as conn:
            if family(source.spec.engine) is Family.POSTGRESQL:
                database = str(conn.exec_driver_sql("SELECT current_database()").scalar_one())
                conn.exec_driver_sql(
                    f"ALTER DATABASE {_pg_name(database)} SET default_transaction_read_only = on"
                )
                return (
                    f"source database {database} is read-only for new sessions; sessions open now can write "
                    f"until they reconnect (undo: ALTER DATABASE {_pg_name(database)} RESET "
                    "default_transaction_read_only)"
                )
            conn.exec_driver_sql("SET GLOBAL read_only = ON")
            return (
                "source server is read-only (read_only = ON) except for privileged accounts "
                "(undo: SET GLOBAL read_only = OFF)"
            )
    except sqlalchemy.exc.DBAPIError as exc:
        reason = first_line(exc.orig if exc.orig is not None else exc)
        return f"warning: the source could not be made read-only ({reason}); stop its writers yourself"
