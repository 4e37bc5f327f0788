"""From pgoutput messages to source transactions, on hand-built messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from ferry.cdc import pgoutput
from ferry.cdc.changes import (
    UNCHANGED,
    AppliedPosition,
    ChangeKind,
    Position,
    RowChange,
    SourceSchemaChanged,
    SourceTransaction,
)
from ferry.cdc.pg_transactions import CatalogColumn, FollowedTable, TransactionAssembler, position
from unit.cdc import pgoutput_builders as b

AT = datetime(2024, 5, 17, 9, 30, tzinfo=UTC)
ITEMS, NOTES, OTHER = 16386, 16390, 16999
INT4, TEXT, INT8 = 23, 25, 20
ITEM_COLUMNS = (
    CatalogColumn("id", INT4, -1),
    CatalogColumn("name", TEXT, -1),
    CatalogColumn("qty", INT4, -1),
)
ITEMS_RELATION = b.relation(
    ITEMS, "public", "items", [("id", INT4, -1, True), ("name", TEXT, -1, False), ("qty", INT4, -1, False)]
)
NOTES_RELATION = b.relation(NOTES, "app", "notes", [("id", INT4, -1, True), ("body", TEXT, -1, False)], "f")


def assembler(mark: int = 0, chunk_size: int = 100) -> TransactionAssembler:
    tables = {
        ITEMS: FollowedTable(ITEMS, ("public", "items"), "public.items", "public", "items", ITEM_COLUMNS),
        NOTES: FollowedTable(
            NOTES,
            ("app", "notes"),
            "app.notes",
            "app",
            "notes",
            (CatalogColumn("id", INT4, -1), CatalogColumn("body", TEXT, -1)),
        ),
    }
    return TransactionAssembler(tables, AppliedPosition(position(mark)), chunk_size)


def feed(asm: TransactionAssembler, messages: Sequence[bytes]) -> list[SourceTransaction]:
    out: list[SourceTransaction] = []
    for data in messages:
        chunk = asm.feed(pgoutput.decode(data))
        if chunk is not None:
            out.append(chunk)
    return out


def txn(final_lsn: int, end_lsn: int, *changes: bytes, xid: int = 7) -> list[bytes]:
    return [b.begin(final_lsn, AT, xid), *changes, b.commit(final_lsn, end_lsn, AT)]


def inserts(first: int, count: int) -> list[bytes]:
    return [b.insert(ITEMS, [str(i), f"n{i}", "1"]) for i in range(first, first + count)]


def test_a_transaction_becomes_row_changes_by_column_name_at_its_commit_end() -> None:
    asm = assembler()
    messages = [
        b.begin(2_000, AT, 900),
        b.origin(5, "elsewhere"),
        ITEMS_RELATION,
        b.insert(ITEMS, ["1", "bolt", None]),
        b.update(ITEMS, ["1", "bolt", "5"]),
        b.update(ITEMS, ["2", "bolt", "5"], old=["1", None, None], old_kind="K"),
        NOTES_RELATION,
        b.insert(NOTES, ["1", "long"]),
        b.update(NOTES, ["1", UNCHANGED], old=["1", "long"], old_kind="O"),
        b.delete(ITEMS, ["2", None, None], "K"),
        b.delete(NOTES, ["1", "long"], "O"),
        b.relation(OTHER, "public", "other", [("id", INT4, -1, True)]),
        b.insert(OTHER, ["1"]),  # not followed
        b.logical_message("x", b"y"),
        b.type_message(16400, "public", "mood"),
        b.truncate([ITEMS, OTHER, NOTES]),
        b.commit(2_000, 2_040, AT),
    ]
    [out] = feed(asm, messages)
    assert out.position == Position(2_040, 0, "0/7F8")
    assert (out.commit_time, out.first_index, out.last_chunk) == (AT, 0, True)
    items, notes = ("public", "items"), ("app", "notes")
    assert list(out.changes) == [
        RowChange(items, ChangeKind.INSERT, new={"id": "1", "name": "bolt", "qty": None}),
        RowChange(items, ChangeKind.UPDATE, new={"id": "1", "name": "bolt", "qty": "5"}, old=None),
        RowChange(items, ChangeKind.UPDATE, new={"id": "2", "name": "bolt", "qty": "5"}, old={"id": "1"}),
        RowChange(notes, ChangeKind.INSERT, new={"id": "1", "body": "long"}),
        RowChange(
            notes, ChangeKind.UPDATE, new={"id": "1", "body": UNCHANGED}, old={"id": "1", "body": "long"}
        ),
        RowChange(items, ChangeKind.DELETE, old={"id": "2"}),
        RowChange(notes, ChangeKind.DELETE, old={"id": "1", "body": "long"}),
        RowChange(items, ChangeKind.TRUNCATE),
        RowChange(notes, ChangeKind.TRUNCATE),
    ]
    assert asm.mark == AppliedPosition(out.position, 9, True)


def test_a_transaction_of_tables_not_followed_hands_nothing_over() -> None:
    asm = assembler()
    relation = b.relation(OTHER, "public", "other", [("id", INT4, -1, True)])
    assert feed(asm, txn(2_000, 2_040, relation, b.insert(OTHER, ["1"]))) == []


def test_a_large_transaction_goes_out_in_chunks_once_its_end_is_known() -> None:
    asm = assembler(chunk_size=3)
    chunks: list[SourceTransaction] = []
    for data in [b.begin(2_000, AT, 9), ITEMS_RELATION, *inserts(0, 8)]:
        chunk = asm.feed(pgoutput.decode(data))
        if chunk is None and asm.wants_position:
            assert asm.open_xid == 9
            chunk = asm.position_found(5_000)  # the reader found the Commit ahead
        if chunk is not None:
            chunks.append(chunk)
    chunks += feed(asm, [b.commit(2_000, 5_000, AT)])
    assert [(c.first_index, len(c.changes), c.last_chunk) for c in chunks] == [
        (0, 3, False),
        (3, 3, False),
        (6, 2, True),
    ]
    assert {c.position for c in chunks} == {position(5_000)}
    assert [c.new["id"] for c in chunks for c in c.changes if c.new] == [str(i) for i in range(8)]
    assert asm.commit_starts == {5_000: 2_000}  # confirming in the middle advances the slot to its start


def test_the_last_chunk_is_never_empty() -> None:
    asm = assembler(chunk_size=3)
    out: list[SourceTransaction] = []
    for data in [b.begin(2_000, AT, 9), ITEMS_RELATION, *inserts(0, 6), b.commit(2_000, 5_000, AT)]:
        chunk = asm.feed(pgoutput.decode(data))
        if chunk is None and asm.wants_position:
            chunk = asm.position_found(5_000)
        if chunk is not None:
            out.append(chunk)
    assert [(c.first_index, len(c.changes), c.last_chunk) for c in out] == [(0, 3, False), (3, 3, True)]


def test_a_commit_that_differs_from_the_one_found_ahead_is_a_protocol_error() -> None:
    asm = assembler(chunk_size=1)
    feed(asm, [b.begin(2_000, AT, 9), ITEMS_RELATION, *inserts(0, 2)])
    asm.position_found(5_000)
    with pytest.raises(pgoutput.ProtocolError):
        feed(asm, [b.commit(2_000, 5_100, AT)])


def test_transactions_the_mark_covers_are_skipped() -> None:
    asm = assembler(mark=3_040)
    out = feed(
        asm,
        [
            *txn(2_000, 2_040, ITEMS_RELATION, *inserts(0, 2)),  # before the mark
            *txn(3_000, 3_040, *inserts(2, 2)),  # at the mark, complete
            *txn(4_000, 4_040, *inserts(4, 2)),
        ],
    )
    assert [(t.position.major, t.first_index, len(t.changes)) for t in out] == [(4_040, 0, 2)]
    assert asm.skipping is False


def test_a_mark_inside_a_transaction_skips_its_first_changes_only() -> None:
    asm = assembler()
    asm.reset(AppliedPosition(position(3_040), 3, complete=False))
    out = feed(
        asm,
        [
            *txn(2_000, 2_040, ITEMS_RELATION, *inserts(0, 5)),  # before: all of it applied
            *txn(3_000, 3_040, *inserts(10, 5)),  # the one applied in part
        ],
    )
    assert [(t.position.major, t.first_index, [c.new["id"] for c in t.changes if c.new]) for t in out] == [
        (3_040, 3, ["13", "14"])
    ]


def test_a_mark_inside_a_large_transaction_resumes_its_chunks() -> None:
    asm = assembler(chunk_size=2)
    asm.reset(AppliedPosition(position(3_040), 2, complete=False))
    out: list[SourceTransaction] = []
    for data in [b.begin(3_000, AT, 9), ITEMS_RELATION, *inserts(0, 7), b.commit(3_000, 3_040, AT)]:
        chunk = asm.feed(pgoutput.decode(data))
        if chunk is None and asm.wants_position:
            chunk = asm.position_found(3_040)
        if chunk is not None:
            out.append(chunk)
    assert [(c.first_index, len(c.changes), c.last_chunk) for c in out] == [
        (2, 2, False),
        (4, 2, False),
        (6, 1, True),
    ]


def test_a_transaction_wholly_covered_is_skipped_without_decoding() -> None:
    asm = assembler(mark=3_040)
    asm.feed(pgoutput.decode(b.begin(2_000, AT, 9)))
    assert asm.skipping


def test_a_relation_with_a_column_added_after_open_is_a_schema_change() -> None:
    asm = assembler()
    added = b.relation(
        ITEMS,
        "public",
        "items",
        [
            ("id", INT4, -1, True),
            ("name", TEXT, -1, False),
            ("qty", INT4, -1, False),
            ("color", TEXT, -1, False),
        ],
    )
    with pytest.raises(SourceSchemaChanged) as caught:
        feed(asm, [b.begin(3_000, AT, 9), added])
    assert (caught.value.table, caught.value.change) == ("public.items", "column color added")


def test_the_first_relation_after_a_restart_is_compared_with_the_start_too() -> None:
    """The comparison is with the columns at the capture's start, not with the first message seen:
    a reader restarted after the change still reports it."""
    added = b.relation(
        ITEMS,
        "public",
        "items",
        [("id", INT4, -1, True), ("name", TEXT, -1, False), ("qty", INT4, -1, False), ("x", TEXT, -1, False)],
    )
    for _ in range(2):
        with pytest.raises(SourceSchemaChanged, match="column x added"):
            feed(assembler(), [b.begin(3_000, AT, 9), added])
    assert (
        feed(assembler(), txn(3_000, 3_040, ITEMS_RELATION, *inserts(0, 1)))[0].changes[0].kind
        == ChangeKind.INSERT
    )


def test_a_type_change_a_drop_and_a_rename_are_schema_changes() -> None:
    retyped = b.relation(
        ITEMS,
        "public",
        "items",
        [("id", INT4, -1, True), ("name", TEXT, -1, False), ("qty", INT8, -1, False)],
    )
    with pytest.raises(SourceSchemaChanged, match="column qty type changed"):
        feed(assembler(), [b.begin(3_000, AT, 9), retyped])
    dropped = b.relation(ITEMS, "public", "items", [("id", INT4, -1, True), ("qty", INT4, -1, False)])
    with pytest.raises(SourceSchemaChanged, match="column name dropped"):
        feed(assembler(), [b.begin(3_000, AT, 9), dropped])
    renamed = b.relation(
        ITEMS,
        "public",
        "goods",
        [("id", INT4, -1, True), ("name", TEXT, -1, False), ("qty", INT4, -1, False)],
    )
    with pytest.raises(SourceSchemaChanged, match="renamed"):
        feed(assembler(), [b.begin(3_000, AT, 9), renamed])


def test_a_change_before_its_relation_or_outside_a_transaction_is_a_protocol_error() -> None:
    with pytest.raises(pgoutput.ProtocolError):
        feed(assembler(), [b.begin(2_000, AT, 9), *inserts(0, 1)])
    with pytest.raises(pgoutput.ProtocolError):
        feed(assembler(), [ITEMS_RELATION, *inserts(0, 1)])
