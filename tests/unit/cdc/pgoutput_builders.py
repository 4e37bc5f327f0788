"""pgoutput messages built by hand, byte by byte, as PostgreSQL's "Logical Replication Message
Formats" describes them (protocol version 1): the decoder's tests must not use the decoder."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from datetime import datetime

from ferry.cdc.changes import UNCHANGED
from ferry.cdc.pgoutput import PG_EPOCH


def micros(at: datetime) -> int:
    delta = at - PG_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def string(text: str) -> bytes:
    return text.encode() + b"\0"


def tuple_data(values: Sequence[object]) -> bytes:
    out = struct.pack(">h", len(values))
    for value in values:
        if value is None:
            out += b"n"
        elif value is UNCHANGED:
            out += b"u"
        else:
            raw = str(value).encode()
            out += b"t" + struct.pack(">i", len(raw)) + raw
    return out


def begin(final_lsn: int, at: datetime, xid: int) -> bytes:
    return b"B" + struct.pack(">QqI", final_lsn, micros(at), xid)


def commit(commit_lsn: int, end_lsn: int, at: datetime) -> bytes:
    return b"C" + struct.pack(">bQQq", 0, commit_lsn, end_lsn, micros(at))


def origin(lsn: int, name: str) -> bytes:
    return b"O" + struct.pack(">Q", lsn) + string(name)


def relation(
    oid: int, namespace: str, name: str, columns: Sequence[tuple[str, int, int, bool]], identity: str = "d"
) -> bytes:
    """columns: (name, type OID, type modifier, part of the key)."""
    out = b"R" + struct.pack(">I", oid) + string(namespace) + string(name) + identity.encode()
    out += struct.pack(">h", len(columns))
    for column, type_oid, modifier, key in columns:
        out += struct.pack(">b", 1 if key else 0) + string(column) + struct.pack(">Ii", type_oid, modifier)
    return out


def type_message(oid: int, namespace: str, name: str) -> bytes:
    return b"Y" + struct.pack(">I", oid) + string(namespace) + string(name)


def insert(oid: int, values: Sequence[object]) -> bytes:
    return b"I" + struct.pack(">I", oid) + b"N" + tuple_data(values)


def update(
    oid: int, new: Sequence[object], old: Sequence[object] | None = None, old_kind: str = "K"
) -> bytes:
    out = b"U" + struct.pack(">I", oid)
    if old is not None:
        out += old_kind.encode() + tuple_data(old)
    return out + b"N" + tuple_data(new)


def delete(oid: int, old: Sequence[object], old_kind: str = "K") -> bytes:
    return b"D" + struct.pack(">I", oid) + old_kind.encode() + tuple_data(old)


def truncate(oids: Sequence[int], options: int = 0) -> bytes:
    return b"T" + struct.pack(">ib", len(oids), options) + b"".join(struct.pack(">I", o) for o in oids)


def logical_message(prefix: str, content: bytes, transactional: bool = True, lsn: int = 0) -> bytes:
    flags = 1 if transactional else 0
    return b"M" + struct.pack(">bQ", flags, lsn) + string(prefix) + struct.pack(">i", len(content)) + content
