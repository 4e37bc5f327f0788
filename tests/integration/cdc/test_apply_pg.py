"""The applier on a real PostgreSQL target: idempotent semantics, compaction, the set-wise
fallback, projections, TRUNCATE, and the position stored with every batch."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import asyncpg
import pytest

from ferry.api.migration import Transform, TransformType
from ferry.cdc import bookkeeping
from ferry.cdc.apply_pg import ApplyError, BatchResult, ConcurrentFollower, PgApplier
from ferry.cdc.changes import UNCHANGED, AppliedPosition, ChangeKind, Position, RowChange, SourceTransaction
from ferry.copy import CopyJob, Endpoints, plan_units, run_units
from ferry.copy.sql import Dialect
from ferry.schema.mapping import ColumnMapping, TableMapping
from harness.databases import Database
from integration.cdc.helpers import (
    delete,
    insert,
    pg_query,
    side,
    stored_position,
    table_digest,
    truncate,
    txn,
    update,
)
from integration.copy.helpers import pg_endpoint, pg_exec, table_mapping

UID = "test/apply"
ITEMS = table_mapping(
    "items", [("id", "integer"), ("name", "text"), ("note", "text"), ("n", "integer")],
    source_schema="public", not_null=("id",),
)  # fmt: skip


def _items(db: Database, *rows: tuple[int, str | None, str | None, int | None]) -> None:
    pg_exec(db, "CREATE TABLE items (id integer PRIMARY KEY, name text, note text, n integer)")
    for row in rows:
        values = ", ".join("NULL" if v is None else repr(v) if isinstance(v, int) else f"'{v}'" for v in row)
        pg_exec(db, f"INSERT INTO items VALUES ({values})")
    bookkeeping.record_start(side(db), UID, Position(0, 0, "0/0"))


async def _apply(
    db: Database,
    *transactions: SourceTransaction,
    mappings: Sequence[TableMapping] = (ITEMS,),
    dialect: Dialect = "postgresql",
    secrets: object = None,
) -> BatchResult:
    conn = await pg_endpoint(db).connect()
    try:
        applier = await PgApplier.open(conn, UID, mappings, dialect, secrets)  # type: ignore[arg-type]
        return await applier.apply(list(transactions), stored_position(db, UID))
    finally:
        await conn.close()


def _rows(db: Database) -> list[tuple[object, ...]]:
    return pg_query(db, "SELECT id, name, note, n FROM items ORDER BY id")


async def test_inserts_updates_and_deletes_converge_whatever_the_copy_read(pg_db: Database) -> None:
    # The copy read 1 after its update, 2 before it, 3 after its delete, 4 before its delete.
    _items(pg_db, (1, "one v2", "n1", 1), (2, "two", "n2", 2), (4, "four", "n4", 4))
    result = await _apply(
        pg_db,
        txn(10, insert(1, name="one", note="n1", n="1"), insert(3, name="three", note="n3", n="3")),
        txn(20, update(1, name="one v2", note="n1", n="1"), update(2, name="two v2", note="n2", n="2")),
        txn(30, delete(3), delete(4), insert(5, name="five", note=None, n=None)),
    )
    assert _rows(pg_db) == [(1, "one v2", "n1", 1), (2, "two v2", "n2", 2), (5, "five", None, None)]
    assert result.applied == AppliedPosition(Position(30), 3, True) and result.changes == 7
    assert stored_position(pg_db, UID) == AppliedPosition(Position(30), 3, True)
    record = bookkeeping.read(side(pg_db), UID)
    assert record is not None and record.changes_applied == 7 and record.last_commit_time is not None


async def test_a_partial_update_sets_only_what_was_sent_and_skips_a_missing_row(pg_db: Database) -> None:
    _items(pg_db, (1, "one", "big toasted value", 1))
    await _apply(
        pg_db,
        txn(10, update(1, name="uno", note=UNCHANGED, n="11")),
        # Row 2 is not on the target: deleted later on the source, and the copy read after that.
        txn(11, update(2, name="dos", note=UNCHANGED, n="22")),
    )
    assert _rows(pg_db) == [(1, "uno", "big toasted value", 11)]


async def test_a_full_update_of_a_missing_row_inserts_it(pg_db: Database) -> None:
    _items(pg_db)
    await _apply(pg_db, txn(10, update(7, name="seven", note="x", n="7")))
    assert _rows(pg_db) == [(7, "seven", "x", 7)]


async def test_key_updates_each_case(pg_db: Database) -> None:
    _items(
        pg_db,
        (1, "a", "toast a", 1),  # full row 1 -> 100: only the old key is there
        (2, "b", "toast b", 2),  # partial 2 -> 200: only the old key is there: moved, toast kept
        (3, "c", "toast c", 3),  # partial 3 -> 300: both there (copy read 300 after the update)
        (300, "c-later", "toast c later", 33),
        # partial 4 -> 400: neither there (nothing happens); full 5 -> 500: neither there (upserted)
    )
    await _apply(
        pg_db,
        txn(10, update(100, old_key=1, name="a2", note="toast a", n="1")),
        txn(11, update(200, old_key=2, name="b2", note=UNCHANGED, n="2")),
        txn(12, update(300, old_key=3, name="c2", note=UNCHANGED, n="3")),
        txn(13, update(400, old_key=4, name="d2", note=UNCHANGED, n="4")),
        txn(14, update(500, old_key=5, name="e2", note="toast e", n="5")),
    )
    assert _rows(pg_db) == [
        (100, "a2", "toast a", 1),
        (200, "b2", "toast b", 2),
        (300, "c2", "toast c later", 3),
        (500, "e2", "toast e", 5),
    ]


async def test_a_batch_is_compacted_per_key_and_the_last_change_decides(pg_db: Database) -> None:
    _items(pg_db, (9, "nine", "keep", 9))
    await _apply(
        pg_db,
        txn(
            10,
            insert(1, name="one", note="t1", n="1"),
            update(1, name="one b", note=UNCHANGED, n="2"),  # merged into the full image before it
            insert(2, name="two", note="t2", n="2"),
            delete(2),
            update(9, name="nine b", note=UNCHANGED, n=None),
            update(9, name=UNCHANGED, note=UNCHANGED, n="99"),  # merged into the partial before it
            delete(3),
            insert(3, name="three", note="t3", n="3"),
            # A partial key update right after a full image of the old key: one upsert of the new key.
            insert(4, name="four", note="t4", n="4"),
            update(40, old_key=4, name="forty", note=UNCHANGED, n="40"),
        ),
    )
    assert _rows(pg_db) == [
        (1, "one b", "t1", 2),
        (3, "three", "t3", 3),
        (9, "nine b", "keep", 99),
        (40, "forty", "t4", 40),
    ]


async def test_a_unique_value_moved_between_rows_falls_back_to_source_order(pg_db: Database) -> None:
    _items(pg_db, (1, "x", None, None), (2, "y", None, None))
    pg_exec(pg_db, "ALTER TABLE items ADD CONSTRAINT items_name UNIQUE (name)")
    result = await _apply(
        pg_db,
        txn(10, update(1, name="tmp", note=None, n=None)),
        txn(11, update(2, name="x", note=None, n=None)),
        txn(12, update(1, name="y", note=None, n=None)),
    )
    assert result.change_by_change
    assert _rows(pg_db) == [(1, "y", None, None), (2, "x", None, None)]
    assert stored_position(pg_db, UID) == AppliedPosition(Position(12), 1, True)


async def test_truncate_empties_the_table_and_what_follows_stays(pg_db: Database) -> None:
    _items(pg_db, (1, "one", None, 1), (2, "two", None, 2))
    result = await _apply(
        pg_db,
        txn(
            10, insert(5, name="five", note=None, n="5"), truncate(), insert(6, name="six", note=None, n="6")
        ),
    )
    assert _rows(pg_db) == [(6, "six", None, 6)]
    assert result.truncated == ('"public"."items"',)


async def test_changes_of_an_inherits_parent_leave_its_childrens_rows_alone(pg_db: Database) -> None:
    # A child row with the parent's key: the parent's own changes (captured on the parent alone)
    # must not reach it, as PostgreSQL's UPDATE/DELETE/TRUNCATE of a parent otherwise would.
    _items(pg_db, (1, "parent", None, 1), (2, "parent", None, 2))
    pg_exec(pg_db, "CREATE TABLE items_child () INHERITS (items)")
    pg_exec(pg_db, "INSERT INTO items_child VALUES (1, 'child', NULL, 10), (3, 'child', NULL, 30)")
    await _apply(
        pg_db,
        txn(10, update(1, name="parent v2", note=None, n="1"), delete(2)),
        txn(
            20,
            delete(1),
            insert(4, name="parent", note=None, n="4"),
            update(3, name="absent", note=None, n="3"),
        ),
    )
    assert pg_query(pg_db, "SELECT id, name, n FROM ONLY items ORDER BY id") == [
        (3, "absent", 3),
        (4, "parent", 4),
    ]
    assert pg_query(pg_db, "SELECT id, name, n FROM items_child ORDER BY id") == [
        (1, "child", 10),
        (3, "child", 30),
    ]
    await _apply(pg_db, txn(30, truncate()))
    assert pg_query(pg_db, "SELECT count(*) FROM ONLY items") == [(0,)]
    assert pg_query(pg_db, "SELECT count(*) FROM items_child") == [(2,)]


async def test_changes_of_tables_not_followed_are_ignored_but_counted(pg_db: Database) -> None:
    _items(pg_db)
    result = await _apply(
        pg_db, txn(10, insert(1, table=("public", "other"), name="x"), insert(2, name="two"))
    )
    assert _rows(pg_db) == [(2, "two", None, None)]
    assert result.changes == 2


async def test_a_failing_batch_leaves_rows_and_position_as_they_were(pg_db: Database) -> None:
    _items(pg_db, (1, "one", None, 1))
    before = stored_position(pg_db, UID)
    with pytest.raises(asyncpg.exceptions.InvalidTextRepresentationError):
        await _apply(
            pg_db, txn(10, insert(2, name="two"), update(1, name="uno", note=None, n="not a number"))
        )
    assert _rows(pg_db) == [(1, "one", None, 1)]
    assert stored_position(pg_db, UID) == before


async def test_a_second_follower_cannot_move_the_position(pg_db: Database) -> None:
    _items(pg_db)
    conn = await pg_endpoint(pg_db).connect()
    try:
        applier = await PgApplier.open(conn, UID, [ITEMS], "postgresql", None)
        start = stored_position(pg_db, UID)
        await applier.apply([txn(10, insert(1, name="one"))], start)
        with pytest.raises(ConcurrentFollower):
            await applier.apply([txn(11, insert(2, name="two"))], start)  # what it had read is stale
    finally:
        await conn.close()
    assert _rows(pg_db) == [(1, "one", None, None)]


async def test_a_target_without_the_key_is_refused_with_the_reason(pg_db: Database) -> None:
    pg_exec(pg_db, "CREATE TABLE items (id integer, name text, note text, n integer)")
    bookkeeping.record_start(side(pg_db), UID, Position(0))
    with pytest.raises(ApplyError, match=r"no primary key or unique index on \(id\)"):
        await _apply(pg_db, txn(10, insert(1, name="one")))


async def test_chunks_of_one_transaction_resume_at_their_index(pg_db: Database) -> None:
    _items(pg_db)
    changes = [insert(i, name=f"r{i}") for i in range(1, 7)]
    first = SourceTransaction(Position(10), None, changes[:4], 0, last_chunk=False)
    result = await _apply(pg_db, first)
    assert result.applied == AppliedPosition(Position(10), 4, False)
    result = await _apply(pg_db, SourceTransaction(Position(10), None, changes[4:], 4, last_chunk=True))
    assert result.applied == AppliedPosition(Position(10), 6, True)
    assert [r[0] for r in _rows(pg_db)] == [1, 2, 3, 4, 5, 6]


# --- values: the copy's projection, type by type ---


async def test_values_from_a_mysql_source_take_the_copys_fixes(pg_db: Database) -> None:
    pg_exec(
        pg_db,
        "CREATE TABLE m (id bigint PRIMARY KEY, flag boolean, price numeric(10,2), at timestamp, d date, "
        "t interval, raw bytea, doc jsonb, tags text, label varchar(5), bits bit(3))",
    )
    bookkeeping.record_start(side(pg_db), UID, Position(0))
    columns = [
        ("id", "bigint unsigned", "bigint"),
        ("flag", "tinyint(1)", "boolean"),
        ("price", "decimal(10,2)", "numeric(10,2)"),
        ("at", "datetime", "timestamp"),
        ("d", "date", "date"),
        ("t", "time", "interval"),
        ("raw", "blob", "bytea"),
        ("doc", "json", "jsonb"),
        ("tags", "set('a','b')", "text"),
        ("label", "varchar(5)", "varchar(5)"),
        ("bits", "bit(3)", "bit(3)"),
    ]
    mapping = table_mapping("m", columns, not_null=("id",))
    row = {
        "id": 1, "flag": 1, "price": Decimal("12.50"), "at": dt.datetime(2024, 2, 29, 23, 59, 59, 123456),
        "d": dt.date(1999, 12, 31), "t": dt.timedelta(hours=30, seconds=5), "raw": b"\x00\x01\xff",
        "doc": '{"a": [1, 2]}', "tags": {"b", "a"}, "label": "abcde", "bits": b"\x05",
    }  # fmt: skip
    await _apply(
        pg_db,
        txn(10, RowChange((None, "m"), ChangeKind.INSERT, new=row)),
        mappings=[mapping],
        dialect="mysql",
    )
    assert pg_query(pg_db, "SELECT id, flag, price, at, d, t, raw, doc, tags, label, bits::text FROM m") == [
        (
            1,
            True,
            Decimal("12.50"),
            row["at"],
            row["d"],
            row["t"],
            b"\x00\x01\xff",
            {"a": [1, 2]},
            "a,b",
            "abcde",
            "101",
        )
    ]
    # A value too long for its column fails as the copy's would, instead of being cut to fit.
    with pytest.raises(asyncpg.exceptions.StringDataRightTruncationError):
        await _apply(
            pg_db,
            txn(11, RowChange((None, "m"), ChangeKind.INSERT, new=row | {"id": 2, "label": "abcdef"})),
            mappings=[mapping],
            dialect="mysql",
        )


async def test_transforms_and_renames_write_changes_exactly_as_the_copy_writes_rows(
    pg_db: Database, pg_db2: Database
) -> None:
    pg_exec(
        pg_db,
        "CREATE TABLE people (id integer PRIMARY KEY, email text, phone text, photo bytea, born date, "
        "score numeric(6,2), tags text[], at timestamptz)",
        "INSERT INTO people VALUES "
        "(1, 'a@x.org', '+33 1 23 45 67', '\\xdeadbeef', '1980-01-02', 12.5, '{a,b}', "
        "'2024-01-01 10:00+02'), (2, 'b@y.org', NULL, NULL, NULL, NULL, '{}', NULL), "
        "(3, 'C\u00e9@z.org', '555', '\\x00', '2000-02-29', -1, '{\"x y\",NULL}', "
        "'2020-06-30 23:59:59.5+00')",
    )
    for table in ("people_copied", "people_followed"):
        pg_exec(
            pg_db2,
            f"CREATE TABLE {table} (person integer PRIMARY KEY, email_hash text, phone text, "
            "photo_hash text, born date, score numeric(6,2), tags text[], at timestamptz)",
        )
    bookkeeping.record_start(side(pg_db2), UID, Position(0))
    transforms = {
        "email": Transform(column="email", type=TransformType.HASH, key_secret_ref={"name": "k", "key": "k"}),
        "phone": Transform(column="phone", type=TransformType.MASK, keep_last=2),
        "photo": Transform(column="photo", type=TransformType.HASH, key_secret_ref={"name": "k", "key": "k"}),
    }

    renamed = {"id": "person", "email": "email_hash", "photo": "photo_hash"}
    retyped = {"email": "text", "photo": "text"}
    source_types = {"id": "integer", "email": "text", "phone": "text", "photo": "bytea", "born": "date",
                    "score": "numeric(6,2)", "tags": "text[]", "at": "timestamptz"}  # fmt: skip

    def mapping(target: str) -> TableMapping:
        columns = tuple(
            ColumnMapping(name, renamed.get(name, name), type_, retyped.get(name, type_), name != "id",
                          transforms.get(name))
            for name, type_ in source_types.items()
        )  # fmt: skip
        return TableMapping("public", "people", "public", target, columns, ("id",))

    class Secrets:
        def get(self, name: str, key: str) -> str:
            return "pepper"

    job = CopyJob(UID, Endpoints(pg_endpoint(pg_db), pg_endpoint(pg_db2)), secrets=Secrets())
    copied = mapping("people_copied")
    results = await run_units(job, await plan_units([copied], job.endpoints.source, job.copy))
    assert results.ok, results
    # What pgoutput sends for the same rows: each column's text form (bytea as \x…).
    texts = pg_query(
        pg_db, "SELECT id::text, email, phone, photo::text, born::text, score::text, tags::text, at::text "
        "FROM people ORDER BY id",
    )  # fmt: skip
    names = tuple(source_types)
    inserts = [
        RowChange(("public", "people"), ChangeKind.INSERT, new=dict(zip(names, row, strict=True)))
        for row in texts
    ]
    await _apply(pg_db2, txn(10, *inserts), mappings=[mapping("people_followed")], secrets=Secrets())

    copied_rows = table_digest(pg_db2, "people_copied")
    assert copied_rows[0] == 3
    assert table_digest(pg_db2, "people_followed") == copied_rows


async def test_position_after_many_batches_in_order(pg_db: Database) -> None:
    _items(pg_db)
    for lsn in range(10, 60, 10):
        await _apply(pg_db, txn(lsn, insert(lsn, name=str(lsn))))
    assert stored_position(pg_db, UID) == AppliedPosition(Position(50), 1, True)
    assert [r[0] for r in _rows(pg_db)] == [10, 20, 30, 40, 50]


async def test_an_identity_key_generated_always_takes_the_sources_values(pg_db: Database) -> None:
    pg_exec(pg_db, "CREATE TABLE items (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text, "
            "note text, n integer)")  # fmt: skip
    bookkeeping.record_start(side(pg_db), UID, Position(0))
    await _apply(
        pg_db,
        txn(10, insert(41, name="a"), insert(42, name="b")),
        txn(
            11,
            update(41, name="a2", note=UNCHANGED, n="1"),
            update(42, name="b2", note="x", n=None),
            delete(41),
        ),
    )
    assert _rows(pg_db) == [(42, "b2", "x", None)]
