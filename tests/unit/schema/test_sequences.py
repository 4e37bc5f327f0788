"""Sequences: which stay sequences, which counters the plan sets, how a value is chosen."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from ferry.api.migration import MigrationSpec
from ferry.schema import Column, DatabaseSchema, OpKind, OpPhase, Risk, Table, build_plan, select_tables
from ferry.schema.model import Sequence
from ferry.schema.plan import plan_hash
from ferry.schema.sequence_resets import Position, next_position, sequence_resets, set_sequence_operations
from ferry.schema.sequences import kept_sequences, nextval_sequence


def spec(**fragment: Any) -> MigrationSpec:
    return MigrationSpec.model_validate(
        {"source": {"connectionRef": {"name": "s"}}, "target": {"connectionRef": {"name": "t"}}, **fragment}
    )


def _serial(table: str, seq: str | None = None) -> Column:
    seq = seq or f"{table}_id_seq"
    return Column("id", "integer", False, f"nextval('{seq}'::regclass)", autoincrement=True)


PG = DatabaseSchema(
    "postgresql",
    "public",
    {
        "plain": Table("plain", "public", (_serial("plain"), Column("note", "text")), ("id",)),
        "events": Table("events", "public", (Column("id", "bigint", False, autoincrement=True),), ("id",)),
        "invoices": Table("invoices", "public", (_serial("invoices", "document_id_seq"),), ("id",)),
        "credit_notes": Table(
            "credit_notes", "public", (_serial("credit_notes", "document_id_seq"),), ("id",)
        ),
    },
    sequences=("document_id_seq", "events_id_seq", "order_number_seq", "plain_id_seq"),
    sequence_defs={
        "plain_id_seq": Sequence("plain_id_seq", "integer", max_value=2**31 - 1, owned_by="plain.id"),
        "events_id_seq": Sequence("events_id_seq", increment=5, owned_by="events.id"),
        "document_id_seq": Sequence("document_id_seq", "integer", max_value=100000, cycle=True),
        "order_number_seq": Sequence("order_number_seq", start=1000, increment=10),
    },
)
EMPTY = DatabaseSchema("postgresql", "public")


@pytest.mark.parametrize(
    ("default", "name"),
    [
        ("nextval('plain_id_seq'::regclass)", "plain_id_seq"),
        ("nextval('shop.plain_id_seq'::regclass)", "plain_id_seq"),
        ('nextval(\'shop."Odd ""seq"\'::regclass)', 'Odd "seq'),
        ("nextval('it''s'::regclass)", "it's"),
        ("42", None),
        (None, None),
    ],
)
def test_the_sequence_a_default_draws_from(default: str | None, name: str | None) -> None:
    assert nextval_sequence(default) == name


def test_shared_and_unowned_sequences_stay_sequences_and_owned_ones_become_identities() -> None:
    assert sorted(kept_sequences(PG)) == ["document_id_seq", "order_number_seq"]
    plan = build_plan(
        PG, EMPTY, select_tables(PG, spec(), "postgresql"), mode="create", target_dialect="postgresql"
    )
    created = [(op.table, op.phase) for op in plan.operations if op.kind == OpKind.CREATE_SEQUENCE]
    assert created == [("document_id_seq", OpPhase.PRE_DATA), ("order_number_seq", OpPhase.PRE_DATA)]
    tables = {op.table: op.table_def for op in plan.operations if op.kind == OpKind.CREATE_TABLE}
    invoices = tables["invoices"].column("id")  # type: ignore[union-attr]
    assert invoices is not None and not invoices.autoincrement
    assert invoices.default == "nextval('document_id_seq'::regclass)"
    plain = tables["plain"].column("id")  # type: ignore[union-attr]
    assert plain is not None and plain.autoincrement and plain.default is None


def test_a_target_that_has_the_sequence_gets_no_create() -> None:
    target = replace(EMPTY, sequences=("document_id_seq", "order_number_seq"))
    plan = build_plan(
        PG, target, select_tables(PG, spec(), "postgresql"), mode="create", target_dialect="postgresql"
    )
    assert not [op for op in plan.operations if op.kind == OpKind.CREATE_SEQUENCE]


def test_one_reset_per_identity_and_per_kept_sequence_with_its_floor() -> None:
    resets = sequence_resets(PG, select_tables(PG, spec(), "postgresql"), "postgresql", "public")
    by_label = {r.label: r for r in resets}
    assert sorted(by_label) == ["document_id_seq", "events.id", "order_number_seq", "plain.id"]
    assert sorted(by_label["document_id_seq"].floor) == [("credit_notes", "id"), ("invoices", "id")]
    assert by_label["order_number_seq"].floor == ()
    events = by_label["events.id"]
    assert (events.source_sequence, events.increment, events.schema) == ("events_id_seq", 5, "public")


def test_across_engines_a_shared_sequence_sets_each_auto_increment() -> None:
    resets = sequence_resets(PG, select_tables(PG, spec(), "mysql"), "mysql")
    assert sorted((r.label, r.source_sequence, r.options) for r in resets) == [
        ("credit_notes.id", "document_id_seq", None),
        ("events.id", "events_id_seq", None),
        ("invoices.id", "document_id_seq", None),
        ("plain.id", "plain_id_seq", None),
    ]
    assert sequence_resets(PG, select_tables(PG, spec(), "sqlite"), "sqlite") == []


def test_a_transformed_id_is_not_a_counter() -> None:
    s = spec(tables={"overrides": [{"name": "plain", "transforms": [{"column": "id", "type": "null"}]}]})
    labels = [
        r.label for r in sequence_resets(PG, select_tables(PG, s, "postgresql"), "postgresql", "public")
    ]
    assert "plain.id" not in labels


def test_set_sequence_operations_are_safe_data_operations_without_values() -> None:
    resets = sequence_resets(PG, select_tables(PG, spec(), "postgresql"), "postgresql", "public")
    ops = set_sequence_operations(resets, "postgresql")
    assert {(op.kind, op.phase, op.risk) for op in ops} == {(OpKind.SET_SEQUENCE, OpPhase.DATA, Risk.SAFE)}
    plain = next(op for op in ops if op.table == "plain")
    assert plain.detail == "counter of id from the source's sequence plain_id_seq, above max(plain.id)"
    assert not any(ch.isdigit() for op in ops for ch in op.detail.replace("_seq", ""))


def test_the_plan_hash_covers_which_counters_not_their_values() -> None:
    mappings = select_tables(PG, spec(), "postgresql")
    ops = tuple(set_sequence_operations(sequence_resets(PG, mappings, "postgresql", "public"), "postgresql"))
    # The same objects give the same hash, whatever the source's counters are meanwhile.
    again = tuple(
        set_sequence_operations(sequence_resets(PG, mappings, "postgresql", "public"), "postgresql")
    )
    assert plan_hash("s", "t", ops) == plan_hash("s", "t", again)
    # One counter fewer (a table left out) is another plan.
    fewer = select_tables(PG, spec(tables={"exclude": ["events"]}), "postgresql")
    other = tuple(set_sequence_operations(sequence_resets(PG, fewer, "postgresql", "public"), "postgresql"))
    assert plan_hash("s", "t", ops) != plan_hash("s", "t", other)


@pytest.mark.parametrize(
    ("source", "floor", "current", "increment", "cycle", "expected"),
    [
        # The source's counter wins over the copied rows: its last rows may have been deleted.
        (Position(3, True), 2, Position(1, False), 1, False, Position(3, True)),
        # A sequence never used: its start is the next value.
        (Position(1000, False), None, Position(1, False), 10, False, Position(1000, False)),
        # No counter on the source (or a stale one): at least past the copied rows.
        (None, 7, Position(1, False), 1, False, Position(7, True)),
        (Position(5, False), 7, Position(1, False), 1, False, Position(7, True)),
        # Never backwards: the target already hands out higher ids (a second run).
        (Position(3, True), 5, Position(5, True), 1, False, None),
        (Position(3, True), 2, Position(3, True), 1, False, None),
        # Descending sequences count down.
        (Position(-3, True), -2, Position(-1, False), -1, False, Position(-3, True)),
        # A cycling sequence may have wrapped below its copied values: the source's state wins.
        (Position(2, True), 99, Position(1, False), 1, True, Position(2, True)),
        # Nothing known at all.
        (None, None, None, 1, False, None),
    ],
)
def test_next_position(
    source: Position | None,
    floor: int | None,
    current: Position | None,
    increment: int,
    cycle: bool,
    expected: Position | None,
) -> None:
    assert next_position(source, floor, current, increment, cycle) == expected


def test_sequence_definitions_round_trip_through_json() -> None:
    assert DatabaseSchema.from_json(PG.to_json()) == PG
    assert PG.hash() != replace(PG, sequence_defs={}).hash()
