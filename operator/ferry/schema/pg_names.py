"""PostgreSQL keeps at most 63 bytes of a name: what that does to the names a plan creates.

PostgreSQL truncates every identifier longer than NAMEDATALEN - 1 = 63 *bytes* (UTF-8 bytes, not
characters; it never splits a character, so a name of two-byte characters keeps 31 or 62 bytes of
them) with only a NOTICE. A MariaDB name (64 characters, up to 192 bytes) or an SQLite name (any
length) may be longer. A long name that stays distinct after truncation is created under its
truncated form and the copy's statements reach it under its full one (PostgreSQL truncates them
the same way): the plan warns. Two names that become one (two tables, two columns of a table, two
constraints of a table, an index and a table of a schema) would make the DDL fail half-way or, for
columns, the copy write into the wrong one: the plan refuses them, naming both.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from ferry.schema.model import Table

MAX_BYTES = 63  # NAMEDATALEN - 1


def pg_truncated(name: str) -> str:
    """`name` as PostgreSQL stores it: at most 63 UTF-8 bytes, never half a character."""
    data = name.encode()
    if len(data) <= MAX_BYTES:
        return name
    return data[:MAX_BYTES].decode(errors="ignore")


@dataclass
class NameCheck:
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _check_space(what: str, where: str, names: Iterable[str], out: NameCheck) -> None:
    """One namespace of names (a table's columns, a schema's relations): collisions are errors,
    names that are only too long are warnings. A name given twice collides with itself (two
    derived names, cut to fit before they got here, that became one)."""
    by_kept: dict[str, list[str]] = defaultdict(list)
    for name in names:
        by_kept[pg_truncated(name)].append(name)
    for kept, originals in by_kept.items():
        if len(originals) > 1:
            listed = " and ".join(repr(n) for n in originals)
            out.errors.append(
                f"{where}: {what} {listed} all become {kept!r} on PostgreSQL, which keeps the first "
                f"{MAX_BYTES} bytes of a name; give them distinct shorter names "
                "(tables.overrides[].targetName, columns.rename)"
            )
        elif originals[0] != kept:
            out.warnings.append(
                f"{where}: {what} {originals[0]!r} is longer than {MAX_BYTES} bytes; PostgreSQL "
                f"creates it as {kept!r}"
            )


def _constraint_names(table: Table) -> list[str]:
    names = [table.primary_key_name] if table.primary_key_name else []
    names += [u.name for u in table.unique_constraints if u.name]
    names += [fk.name for fk in table.foreign_keys if fk.name]
    names += [c.name for c in table.check_constraints if c.name]
    return names


def check_names(tables: dict[str, Table], enums: Iterable[str] = ()) -> NameCheck:
    """The names a plan creates on a PostgreSQL target: the desired tables (by target name) with
    their columns, constraints and indexes, and the enum types it creates."""
    out = NameCheck()
    relations: dict[str | None, list[str]] = defaultdict(list)  # pg_class, per schema
    for name, table in tables.items():
        _check_space("columns", name, (c.name for c in table.columns), out)
        _check_space("constraints", name, _constraint_names(table), out)
        # An index is a relation of its table's schema, beside the tables.
        relations[table.schema] += [name, *(ix.name for ix in table.indexes)]
    for schema, names in relations.items():
        _check_space("tables and indexes", schema or "target schema", names, out)
    _check_space("enum types", "target schema", enums, out)
    return out


def as_stored(tables: dict[str, Table]) -> dict[str, Table]:
    """The desired tables under the names PostgreSQL will store, so that the next plan compares
    like with like (a column created from a 70-byte name is found under its 63 bytes, not dropped
    and added again). Names of 63 bytes or fewer are unchanged."""
    return {pg_truncated(name): _stored_table(table) for name, table in tables.items()}


def _names(names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(pg_truncated(n) for n in names)


def _stored_table(table: Table) -> Table:
    def optional(name: str | None) -> str | None:
        return pg_truncated(name) if name is not None else None

    return replace(
        table,
        name=pg_truncated(table.name),
        columns=tuple(replace(c, name=pg_truncated(c.name)) for c in table.columns),
        primary_key=_names(table.primary_key),
        primary_key_name=optional(table.primary_key_name),
        unique_constraints=tuple(
            replace(u, name=optional(u.name), columns=_names(u.columns)) for u in table.unique_constraints
        ),
        foreign_keys=tuple(
            replace(
                fk,
                name=optional(fk.name),
                columns=_names(fk.columns),
                referred_table=pg_truncated(fk.referred_table),
                referred_columns=_names(fk.referred_columns),
            )
            for fk in table.foreign_keys
        ),
        indexes=tuple(
            replace(
                ix, name=pg_truncated(ix.name), columns=ix.columns if ix.expressions else _names(ix.columns)
            )
            for ix in table.indexes
        ),
        check_constraints=tuple(replace(c, name=optional(c.name)) for c in table.check_constraints),
        triggers=tuple(
            replace(t, name=pg_truncated(t.name), column=optional(t.column)) for t in table.triggers
        ),
    )
