"""The pgoutput decoder on hand-built messages (real server output: tests/integration/cdc)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ferry.cdc import pgoutput
from ferry.cdc.changes import UNCHANGED
from ferry.cdc.pgoutput import (
    Begin,
    Commit,
    Delete,
    Insert,
    LogicalMessage,
    Origin,
    ProtocolError,
    Relation,
    RelationColumn,
    Truncate,
    TypeInfo,
    Update,
)
from unit.cdc import pgoutput_builders as b

AT = datetime(2024, 5, 17, 9, 30, 15, 123456, tzinfo=UTC)


def test_begin_and_commit_carry_lsns_time_and_xid() -> None:
    assert pgoutput.decode(b.begin(0x1_6B37_4D48, AT, 4_000_000_000)) == Begin(
        0x1_6B37_4D48, AT, 4_000_000_000
    )
    assert pgoutput.decode(b.commit(0x16B3748, 0x16B3778, AT)) == Commit(0, 0x16B3748, 0x16B3778, AT)


def test_timestamps_before_the_postgresql_epoch() -> None:
    early = datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    message = pgoutput.decode(b.begin(1, early, 1))
    assert isinstance(message, Begin) and message.commit_time == early


def test_relation_lists_columns_with_types_modifiers_and_key_flags() -> None:
    data = b.relation(
        16386,
        "sales",
        "Order Lines",
        [("id", 23, -1, True), ("note", 1043, 84, False), ("prix €", 1700, 655366, False)],
        identity="f",
    )
    assert pgoutput.decode(data) == Relation(
        16386,
        "sales",
        "Order Lines",
        "f",
        (
            RelationColumn("id", 23, -1, True),
            RelationColumn("note", 1043, 84, False),
            RelationColumn("prix €", 1700, 655366, False),
        ),
    )


def test_relation_of_a_table_without_columns() -> None:
    assert pgoutput.decode(b.relation(5, "public", "empty", [])) == Relation(5, "public", "empty", "d", ())


def test_insert_values_are_text_none_or_unchanged() -> None:
    data = b.insert(16386, ["42", None, "naïve ☃", "", UNCHANGED, "{1,2}", "\\x00ff"])
    assert pgoutput.decode(data) == Insert(16386, ("42", None, "naïve ☃", "", UNCHANGED, "{1,2}", "\\x00ff"))


def test_update_without_old_tuple() -> None:
    assert pgoutput.decode(b.update(7, ["1", "b"])) == Update(7, None, None, ("1", "b"))


def test_update_with_key_or_full_old_tuple() -> None:
    key = pgoutput.decode(b.update(7, ["2", "b"], old=["1", None], old_kind="K"))
    assert key == Update(7, "K", ("1", None), ("2", "b"))
    full = pgoutput.decode(b.update(7, ["1", "b"], old=["1", "a"], old_kind="O"))
    assert full == Update(7, "O", ("1", "a"), ("1", "b"))


def test_delete_with_key_or_full_old_tuple() -> None:
    assert pgoutput.decode(b.delete(7, ["1", None], "K")) == Delete(7, "K", ("1", None))
    assert pgoutput.decode(b.delete(7, ["1", "a"], "O")) == Delete(7, "O", ("1", "a"))


def test_truncate_lists_relations_and_options() -> None:
    data = b.truncate([16386, 16390], options=pgoutput.TRUNCATE_CASCADE | pgoutput.TRUNCATE_RESTART_IDENTITY)
    assert pgoutput.decode(data) == Truncate(3, (16386, 16390))


def test_origin_type_and_logical_message() -> None:
    assert pgoutput.decode(b.origin(99, "node_a")) == Origin(99, "node_a")
    assert pgoutput.decode(b.type_message(16400, "public", "mood")) == TypeInfo(16400, "public", "mood")
    message = pgoutput.decode(b.logical_message("ferry", b"\x00hello", transactional=False, lsn=12))
    assert message == LogicalMessage(False, 12, "ferry", b"\x00hello")


def test_a_large_value_is_decoded_whole() -> None:
    big = "x" * 3_000_000
    message = pgoutput.decode(b.insert(1, ["1", big]))
    assert isinstance(message, Insert) and message.new[1] == big


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"S\x00\x00\x00\x01",  # stream start: protocol version 2, never asked for
        b"I\x00\x00\x00\x07X\x00\x00",  # insert without 'N'
        b"I\x00\x00\x00\x07N\x00\x01t\x00\x00\x00\x09abc",  # value shorter than its length
        b"I\x00\x00\x00\x07N\x00\x01b\x00\x00\x00\x01a",  # binary value: never asked for
        b"D\x00\x00\x00\x07N\x00\x00",  # delete without old tuple
        b"B\x00\x00",  # truncated begin
        b"R\x00\x00\x00\x01public",  # relation without the NUL after its namespace
    ],
)
def test_malformed_messages_raise_protocol_error(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        pgoutput.decode(data)


def test_lsn_text_round_trip() -> None:
    assert pgoutput.lsn_text(0x16B3748) == "0/16B3748"
    assert pgoutput.lsn_text(0x16_B374D848) == "16/B374D848"
    assert pgoutput.parse_lsn("16/B374D848") == 0x16_B374D848
    with pytest.raises(ValueError):
        pgoutput.parse_lsn("16B374D848")


def test_key_values_keep_only_the_replica_identity_columns() -> None:
    relation = Relation(
        1,
        "public",
        "t",
        "d",
        (
            RelationColumn("a", 23, -1, True),
            RelationColumn("b", 25, -1, False),
            RelationColumn("c", 23, -1, True),
        ),
    )
    assert pgoutput.key_values(relation, ("1", None, "3")) == {"a": "1", "c": "3"}
    assert pgoutput.row_values(relation, ("1", None, "3")) == {"a": "1", "b": None, "c": "3"}
    with pytest.raises(ProtocolError):
        pgoutput.row_values(relation, ("1", None))
