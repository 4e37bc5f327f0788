"""Read a bounded sample of each copied text column, for ferry.schema.pii_values to classify.

One query per table, `SELECT <text columns> FROM <table> LIMIT <n>`, built with SQLAlchemy
Core (identifiers quoted by the dialect, the limit bound): at most `n` rows are read from a
table, whatever its size, and only its text columns. The values stay in this function's
frame: what it returns is the evidence (counts per check), so nothing that holds a value
reaches the plan, a log line or status. A table that cannot be read (no SELECT grant on one
table, a view that fails) is named in the returned problems and classified by name only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ferry.observability.errors import first_line
from ferry.schema.mapping import ColumnMapping, TableMapping
from ferry.schema.pii_values import ValueEvidence, classify_values

DEFAULT_SAMPLE = 100
# Column types whose values are text (base names as the catalogs report them, lower case).
TEXT_TYPES = frozenset(
    ("text", "varchar", "character varying", "char", "character", "bpchar", "citext", "nvarchar", "nchar",
     "tinytext", "mediumtext", "longtext", "clob", "string")
)  # fmt: skip


def is_text(column: ColumnMapping) -> bool:
    return column.source_type.split("(")[0].strip().lower() in TEXT_TYPES


@dataclass(frozen=True)
class Sampled:
    evidence: dict[tuple[str, str], ValueEvidence]  # (qualified target table, target column) → evidence
    problems: tuple[str, ...] = ()  # tables not sampled, and why (no value in these)


def sample_columns(engine: sa.Engine, mappings: Sequence[TableMapping], rows: int) -> Sampled:
    """Value evidence for every text column of `mappings`, from at most `rows` rows per table,
    over one connection (planning opens engines without a pool)."""
    evidence: dict[tuple[str, str], ValueEvidence] = {}
    problems: list[str] = []
    if rows <= 0:
        return Sampled(evidence)
    with engine.connect() as conn:
        for mapping in mappings:
            # Transformed columns too: the plan names what protects them.
            columns = [c for c in mapping.columns if is_text(c)]
            if not columns:
                continue
            try:
                fetched = conn.execute(_query(mapping, columns, rows)).all()
            except (
                sa.exc.SQLAlchemyError,
                UnicodeError,
            ) as exc:  # UnicodeError: text the driver cannot decode
                conn.rollback()  # PostgreSQL refuses the next statement in a failed transaction
                # A driver error names the statement and the server's reason; neither holds a value.
                why = first_line(getattr(exc, "orig", None) or exc)
                problems.append(f"{mapping.qualified_source}: values not sampled ({why})")
                continue
            for i, column in enumerate(columns):
                found = classify_values(row[i] for row in fetched)
                if found is not None:
                    evidence[(mapping.qualified_target, column.target)] = found
            del fetched
        conn.rollback()  # read only: nothing to keep
    return Sampled(evidence, tuple(problems))


def _query(mapping: TableMapping, columns: Sequence[ColumnMapping], rows: int) -> sa.Select[Any]:
    table = sa.table(
        mapping.source_table, *(sa.column(c.source) for c in columns), schema=mapping.source_schema
    )
    return sa.select(*(table.c[c.source] for c in columns)).limit(rows)
