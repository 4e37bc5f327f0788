"""SQL that reads and sets counters, per engine family (the decisions are in ferry.schema.sequence_resets).

Read on the source, when the load completes: a PostgreSQL sequence's `last_value, is_called`
(from the sequence itself: `pg_sequences.last_value` is NULL for a sequence never used), a
MySQL/MariaDB table's `AUTO_INCREMENT` (the next value it hands out), SQLite's
`sqlite_sequence` (the largest value an AUTOINCREMENT table handed out).
Set on the target: `setval()` on PostgreSQL (an identity's sequence through
`pg_get_serial_sequence`, which answers for identity columns too), `ALTER TABLE ... AUTO_INCREMENT`
on MySQL/MariaDB. Names are quoted by the dialect, never formatted in raw.
"""

from __future__ import annotations

import sqlalchemy as sa

from ferry.db.dialects import Family, family
from ferry.schema.model import Sequence
from ferry.schema.sequence_resets import Position, SequenceReset


def _quoted(conn: sa.Connection, schema: str | None, name: str) -> str:
    prep = conn.dialect.identifier_preparer
    return (f"{prep.quote_schema(schema)}." if schema else "") + prep.quote(name)


# --- the source's counter -------------------------------------------------------------------


def source_position(conn: sa.Connection, reset: SequenceReset) -> Position | None:
    """The source's counter for `reset` as it is now; None when the source keeps none."""
    match family(conn.dialect):
        case Family.POSTGRESQL if reset.source_sequence:
            return pg_position(conn, _quoted(conn, reset.source_schema, reset.source_sequence))
        case Family.MYSQL if reset.source_table:
            return _mysql_position(conn, reset.source_schema, reset.source_table)
        case Family.SQLITE if reset.source_table:
            return _sqlite_position(conn, reset.source_table)
    return None


def pg_position(conn: sa.Connection, quoted_sequence: str) -> Position:
    row = conn.exec_driver_sql(f"SELECT last_value, is_called FROM {quoted_sequence}").one()
    return Position(int(row[0]), bool(row[1]))


def _mysql_position(conn: sa.Connection, schema: str | None, table: str) -> Position | None:
    if not getattr(conn.dialect, "is_mariadb", False):
        # MySQL 8 caches information_schema statistics (a day by default): ask for fresh ones.
        conn.exec_driver_sql("SET SESSION information_schema_stats_expiry = 0")
    value = conn.execute(
        sa.text(
            "SELECT AUTO_INCREMENT FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = COALESCE(:schema, DATABASE()) AND TABLE_NAME = :table"
        ),
        {"schema": schema, "table": table},
    ).scalar()
    return None if value is None else Position(int(value), False)


def _sqlite_position(conn: sa.Connection, table: str) -> Position | None:
    has = conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"
    ).scalar()
    if not has:
        return None  # no AUTOINCREMENT table: the rows themselves (the floor) are the state
    value = conn.execute(sa.text("SELECT seq FROM sqlite_sequence WHERE name = :t"), {"t": table}).scalar()
    return None if value is None else Position(int(value), True)


# --- the target -----------------------------------------------------------------------------


def floor(
    conn: sa.Connection, schema: str | None, columns: tuple[tuple[str, str], ...], increment: int
) -> int | None:
    """The largest copied value of `columns` (the smallest for a descending counter)."""
    values = []
    agg = sa.func.max if increment > 0 else sa.func.min
    for table, column in columns:
        value = conn.execute(
            sa.select(agg(sa.column(column))).select_from(sa.table(table, schema=schema))
        ).scalar()
        if value is not None:
            values.append(int(value))
    if not values:
        return None
    return max(values) if increment > 0 else min(values)


def pg_target_sequence(conn: sa.Connection, reset: SequenceReset) -> str | None:
    """The target sequence to set, as a quoted name; None when the column has no sequence there
    (an existing target column that is a plain integer)."""
    if reset.sequence:
        return _quoted(conn, reset.schema, reset.sequence)
    assert reset.table is not None and reset.column is not None
    name = conn.execute(
        sa.text("SELECT pg_get_serial_sequence(:table, :column)"),
        {"table": _quoted(conn, reset.schema, reset.table), "column": reset.column},
    ).scalar()
    return None if name is None else str(name)


def pg_keep_options(conn: sa.Connection, quoted_sequence: str, options: Sequence, current: Position) -> None:
    """The source's increment and cycle on an identity's sequence, and its start and bounds when
    the target's sequence has the source's type (a cast column has the bounds of its new type).
    PostgreSQL refuses bounds that exclude the current value (a fresh identity of a descending
    source sits at 1): only then it restarts at the start; `setval` follows anyway.
    Idempotent: the same statement again changes nothing."""
    target_type = conn.execute(
        sa.text(
            "SELECT format_type(seqtypid, NULL) FROM pg_sequence WHERE seqrelid = CAST(:seq AS regclass)"
        ),
        {"seq": quoted_sequence},
    ).scalar()
    clauses = [f"INCREMENT BY {int(options.increment)}"]
    low, high = options.min_value, options.max_value
    if target_type == options.type and low is not None and high is not None:
        clauses += [f"MINVALUE {int(low)}", f"MAXVALUE {int(high)}", f"START WITH {int(options.start)}"]
        if not low <= current.value <= high:
            clauses.append(f"RESTART WITH {int(options.start)}")
    clauses.append("CYCLE" if options.cycle else "NO CYCLE")
    conn.exec_driver_sql(f"ALTER SEQUENCE {quoted_sequence} {' '.join(clauses)}")


def pg_set(conn: sa.Connection, quoted_sequence: str, position: Position) -> None:
    conn.execute(
        sa.text("SELECT setval(CAST(:seq AS regclass), :value, :called)"),
        {"seq": quoted_sequence, "value": position.value, "called": position.is_called},
    )


def mysql_auto_increment(conn: sa.Connection, schema: str | None, table: str) -> Position | None:
    return _mysql_position(conn, schema, table)


def mysql_set(conn: sa.Connection, schema: str | None, table: str, next_value: int) -> None:
    """InnoDB never sets the counter below max(column) + 1, whatever is asked."""
    conn.exec_driver_sql(f"ALTER TABLE {_quoted(conn, schema, table)} AUTO_INCREMENT = {int(next_value)}")
