"""The PostgreSQL capture against a real server: checks, start, reading changes, confirm, drop."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time

import psycopg
import pytest

from ferry.cdc import pg_capture
from ferry.cdc.changes import UNCHANGED, AppliedPosition, ChangeKind, RowChange, SourceSchemaChanged
from ferry.cdc.names import capture_name
from ferry.cdc.pgoutput import parse_lsn
from ferry.services.planning import Side
from harness.databases import PG_BIN, Database, PostgresServer
from integration.cdc.pg_helpers import (
    applied,
    execute,
    flat,
    mapping,
    read_changes,
    rows,
    settle,
    side_of,
    slot_row,
)

ITEMS = mapping("items", [("id", "integer"), ("name", "text"), ("qty", "integer")])


def create_items(db: Database) -> None:
    execute(db, "CREATE TABLE items (id integer PRIMARY KEY, name text, qty integer)")


# --- check_source ---------------------------------------------------------------------------------


def test_check_accepts_a_primary_key_replica_identity_full_and_using_index(
    source_db: Database, source: Side
) -> None:
    execute(
        source_db,
        "CREATE TABLE with_pk (id integer PRIMARY KEY, v text)",
        "CREATE TABLE with_full (code text NOT NULL UNIQUE, v text)",
        "ALTER TABLE with_full REPLICA IDENTITY FULL",
        "CREATE TABLE with_index (code text NOT NULL, v text)",
        "CREATE UNIQUE INDEX with_index_code ON with_index (code)",
        "ALTER TABLE with_index REPLICA IDENTITY USING INDEX with_index_code",
    )
    mappings = [
        mapping("with_pk", [("id", "integer"), ("v", "text")]),
        mapping("with_full", [("code", "text"), ("v", "text")], key=("code",)),
        mapping("with_index", [("code", "text"), ("v", "text")], key=("code",)),
    ]
    assert pg_capture.check_source(source, mappings) == []


def test_check_refuses_tables_whose_updates_would_not_carry_the_key(
    source_db: Database, source: Side
) -> None:
    execute(
        source_db,
        "CREATE TABLE no_pk (code text NOT NULL, v text, CONSTRAINT no_pk_code UNIQUE (code))",
        "CREATE TABLE nothing (id integer PRIMARY KEY, v text)",
        "ALTER TABLE nothing REPLICA IDENTITY NOTHING",
        "CREATE TABLE keyless (v text)",
        "CREATE TABLE other_key (id integer PRIMARY KEY, code text NOT NULL UNIQUE)",
        "CREATE TABLE computed (id integer PRIMARY KEY, v integer, "
        "twice integer GENERATED ALWAYS AS (v * 2) STORED)",
    )
    problems = pg_capture.check_source(
        source,
        [
            mapping("no_pk", [("code", "text"), ("v", "text")], key=("code",)),
            mapping("nothing", [("id", "integer"), ("v", "text")]),
            mapping("keyless", [("v", "text")], key=()),
            mapping("other_key", [("id", "integer"), ("code", "text")], key=("code",)),
            mapping("computed", [("id", "integer"), ("v", "integer"), ("twice", "integer")]),
        ],
    )
    assert len(problems) == 5, problems
    no_pk, nothing, keyless, other_key, computed = problems
    assert no_pk.startswith("table public.no_pk has no primary key")
    assert "ALTER TABLE public.no_pk ADD PRIMARY KEY (code)" in no_pk
    assert "ALTER TABLE public.no_pk REPLICA IDENTITY USING INDEX no_pk_code" in no_pk
    assert "ALTER TABLE public.no_pk REPLICA IDENTITY FULL" in no_pk
    assert (
        "REPLICA IDENTITY NOTHING" in nothing
        and "ALTER TABLE public.nothing REPLICA IDENTITY FULL" in nothing
    )
    assert "public.keyless has no primary key nor unique key" in keyless and "ADD PRIMARY KEY" in keyless
    assert "replica identity (id)" in other_key and "key ferry applies changes by (code)" in other_key
    assert "column twice is generated" in computed
    assert not any(source_db.password in p for p in problems)


def test_check_refuses_a_role_without_replication_and_tables_it_does_not_own(
    pg_server: PostgresServer, pg_db: Database
) -> None:
    with pg_server.admin(pg_db.name) as conn:
        conn.execute("CREATE TABLE foreign_owned (id integer PRIMARY KEY)")
        conn.execute(f'GRANT SELECT ON foreign_owned TO "{pg_db.user}"')
    execute(pg_db, "CREATE TABLE mine (id integer PRIMARY KEY)")
    problems = pg_capture.check_source(
        side_of(pg_db), [mapping("foreign_owned", [("id", "integer")]), mapping("mine", [("id", "integer")])]
    )
    assert problems == [
        f"role {pg_db.user} may not create a replication slot: ALTER ROLE {pg_db.user} REPLICATION "
        "(or connect as a superuser)",
        f"role {pg_db.user} does not own public.foreign_owned, and only a table's owner (or a superuser) may "
        f"add it to a publication: connect as the owner, or ALTER TABLE … OWNER TO {pg_db.user}",
    ]
    # A superuser may do both.
    assert (
        pg_capture.check_source(
            side_of(pg_server.as_superuser(pg_db)), [mapping("foreign_owned", [("id", "integer")])]
        )
        == []
    )


def test_check_refuses_a_role_that_may_not_create_a_publication(
    pg_server: PostgresServer, pg_db: Database
) -> None:
    role = f"{pg_db.user}_rep"
    with pg_server.admin(pg_db.name) as conn:
        conn.execute(f"CREATE ROLE \"{role}\" LOGIN REPLICATION PASSWORD '{pg_db.password}'")
        conn.execute("CREATE TABLE shared (id integer PRIMARY KEY)")
        conn.execute(f'ALTER TABLE shared OWNER TO "{role}"')
    other = Database(pg_db.engine, pg_db.host, pg_db.port, pg_db.name, role, pg_db.password)
    assert pg_capture.check_source(side_of(other), [mapping("shared", [("id", "integer")])]) == [
        f"role {role} may not create a publication in database {pg_db.name}: "
        f"GRANT CREATE ON DATABASE {pg_db.name} TO {role}"
    ]


# --- start, drop, health --------------------------------------------------------------------------


def test_start_creates_publication_and_slot_once_and_returns_the_slot_position(
    source_db: Database, source: Side, migration_uid: str
) -> None:
    create_items(source_db)
    first = pg_capture.start(source, [ITEMS], migration_uid)
    execute(source_db, "INSERT INTO items VALUES (1, 'a', 1)")
    again = pg_capture.start(source, [ITEMS], migration_uid)
    name = capture_name(migration_uid)
    slot = slot_row(source_db, name)
    assert slot is not None
    assert (slot["plugin"], slot["slot_type"], slot["temporary"]) == ("pgoutput", "logical", False)
    assert first == again and first.text == slot["confirmed"] and first.major == parse_lsn(slot["confirmed"])
    assert rows(source_db, f"SELECT tablename FROM pg_publication_tables WHERE pubname = '{name}'") == [
        ("items",)
    ]
    assert first <= pg_capture.current_position(source)


async def test_start_names_the_transaction_wait_when_the_slot_cannot_start(
    source_db: Database, source: Side, migration_uid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_items(source_db)
    monkeypatch.setattr(pg_capture, "SLOT_CREATE_TIMEOUT_SECONDS", 1)
    with psycopg.connect(source_db.libpq_dsn()) as open_transaction:
        open_transaction.execute("INSERT INTO items VALUES (1, 'before the start', 1)")
        with pytest.raises(pg_capture.CaptureError, match="waited 1 s for the transactions running"):
            pg_capture.start(source, [ITEMS], migration_uid)
        assert slot_row(source_db, capture_name(migration_uid)) is None
    # Once it committed, the retry starts after it: that row is the copy's, not the stream's.
    start = pg_capture.start(source, [ITEMS], migration_uid)
    execute(source_db, "INSERT INTO items VALUES (2, 'after the start', 2)")
    src = await pg_capture.open_source(source, [ITEMS], migration_uid, start)
    try:
        txns, _ = await read_changes(src, AppliedPosition(start), 1)
    finally:
        await src.close()
    assert [c.new for c in flat(txns)] == [{"id": "2", "name": "after the start", "qty": "2"}]


def test_drop_removes_slot_and_publication_and_is_idempotent(
    source_db: Database, source: Side, migration_uid: str
) -> None:
    create_items(source_db)
    pg_capture.start(source, [ITEMS], migration_uid)
    name = capture_name(migration_uid)
    assert pg_capture.drop(source, migration_uid) == f"slot {name} and publication {name} dropped"
    assert slot_row(source_db, name) is None
    assert rows(source_db, f"SELECT count(*) FROM pg_publication WHERE pubname = '{name}'") == [(0,)]
    assert pg_capture.drop(source, migration_uid) == ""
    assert pg_capture.slot_health(source, migration_uid) is None


def test_drop_terminates_a_backend_that_holds_the_slot(
    source_db: Database, source: Side, migration_uid: str
) -> None:
    create_items(source_db)
    pg_capture.start(source, [ITEMS], migration_uid)
    name = capture_name(migration_uid)
    # pg_recvlogical keeps the slot active for as long as it streams.
    env = {**os.environ, "PGPASSWORD": source_db.password}
    holder = subprocess.Popen(
        [str(PG_BIN / "pg_recvlogical"), "-h", source_db.host, "-p", str(source_db.port),
         "-U", source_db.user, "-d", source_db.name, "-S", name, "--start", "-f", "/dev/null",
         "-o", "proto_version=1", "-o", f"publication_names={name}", "--no-loop"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while not rows(source_db, f"SELECT active FROM pg_replication_slots WHERE slot_name = '{name}'")[0][
            0
        ]:
            assert time.monotonic() < deadline, "pg_recvlogical did not take the slot"
            time.sleep(0.1)
        health = pg_capture.slot_health(source, migration_uid)
        assert health is not None and health.active
        assert pg_capture.drop(source, migration_uid) == f"slot {name} and publication {name} dropped"
        assert slot_row(source_db, name) is None
        assert holder.wait(timeout=10) != 0  # its backend was terminated
    finally:
        holder.kill()
        holder.wait()


def test_slot_health_reports_retained_wal(source_db: Database, source: Side, migration_uid: str) -> None:
    create_items(source_db)
    pg_capture.start(source, [ITEMS], migration_uid)
    # A synchronous commit flushes the WAL, so the write position the health reads is past the rows
    # (the test server commits asynchronously).
    execute(
        source_db,
        "SET synchronous_commit = on; "
        "INSERT INTO items SELECT g, repeat('x', 100), g FROM generate_series(1, 2000) g",
    )
    health = pg_capture.slot_health(source, migration_uid)
    assert health is not None
    assert health.wal_status == "reserved" and not health.active
    assert health.retained_bytes is not None and health.retained_bytes > 200_000


# --- reading changes ------------------------------------------------------------------------------


async def test_changes_come_out_in_commit_order_with_kinds_and_text_values(
    source_db: Database, source: Side, migration_uid: str
) -> None:
    execute(
        source_db,
        "CREATE TABLE things (id integer PRIMARY KEY, name text, price numeric(10,2), data bytea, "
        "tags text[], seen timestamptz, doc jsonb, note text)",
    )
    things = mapping(
        "things",
        [("id", "integer"), ("name", "text"), ("price", "numeric(10,2)"), ("data", "bytea"),
         ("tags", "text[]"), ("seen", "timestamp with time zone"), ("doc", "jsonb"), ("note", "text")],
    )  # fmt: skip
    start = pg_capture.start(source, [things], migration_uid)
    execute(
        source_db,
        "INSERT INTO things VALUES (1, 'naïve ☃', 12.50, '\\x00ff10'::bytea, ARRAY['a', 'b c', NULL], "
        "'2024-05-17 09:30:00+02', '{\"k\": [1, 2]}', NULL)",
        "INSERT INTO things (id, name) VALUES (2, 'second')",
    )
    expected_first = rows(
        source_db,
        "SELECT id::text, name::text, price::text, data::text, tags::text, seen::text, doc::text, note::text "
        "FROM things WHERE id = 1",
    )[0]
    # Two transactions that commit in the other order than they began.
    with psycopg.connect(source_db.libpq_dsn()) as early, psycopg.connect(source_db.libpq_dsn()) as late:
        early.execute("UPDATE things SET name = 'committed last' WHERE id = 1")
        late.execute("UPDATE things SET id = 20 WHERE id = 2")  # a key update
        late.commit()
        early.commit()
    execute(source_db, "DELETE FROM things WHERE id = 20", "UPDATE things SET note = 'n' WHERE id = 1")
    src = await pg_capture.open_source(source, [things], migration_uid, start)
    try:
        txns, _ = await read_changes(src, AppliedPosition(start), 6)
    finally:
        await src.close()
    assert [t.position for t in txns] == sorted(t.position for t in txns)
    assert all(t.position > start and t.first_index == 0 and t.last_chunk for t in txns)
    changes = flat(txns)
    table = ("public", "things")
    columns = ("id", "name", "price", "data", "tags", "seen", "doc", "note")
    assert changes[0] == RowChange(
        table, ChangeKind.INSERT, new=dict(zip(columns, expected_first, strict=True))
    )
    assert (
        changes[0].new is not None
        and changes[0].new["data"] == "\\x00ff10"
        and changes[0].new["note"] is None
    )
    assert changes[0].new["tags"] == '{a,"b c",NULL}'
    assert (
        changes[1].kind == ChangeKind.INSERT
        and changes[1].new is not None
        and changes[1].new["price"] is None
    )
    assert changes[2] == RowChange(
        table,
        ChangeKind.UPDATE,
        new={**dict.fromkeys(columns), "id": "20", "name": "second"},
        old={"id": "2"},  # the key changed: the old key comes along
    )
    assert changes[3].kind == ChangeKind.UPDATE and changes[3].old is None
    assert changes[3].new is not None and changes[3].new["name"] == "committed last"
    assert changes[4] == RowChange(table, ChangeKind.DELETE, old={"id": "20"})
    assert changes[5].new is not None and changes[5].new["note"] == "n"


async def test_an_unchanged_toasted_value_is_unchanged(
    source_db: Database, source: Side, migration_uid: str
) -> None:
    execute(source_db, "CREATE TABLE docs (id integer PRIMARY KEY, body text, hits integer)")
    docs = mapping("docs", [("id", "integer"), ("body", "text"), ("hits", "integer")])
    start = pg_capture.start(source, [docs], migration_uid)
    # md5 hex does not compress well: stored out of line (TOAST), far past the 2 kB threshold.
    execute(
        source_db,
        "INSERT INTO docs SELECT 1, string_agg(md5(g::text), '' ORDER BY g), 0 "
        "FROM generate_series(1, 8000) g",
        "UPDATE docs SET hits = 1 WHERE id = 1",
        "UPDATE docs SET body = 'short now', hits = 2 WHERE id = 1",
    )
    body = rows(source_db, "SELECT string_agg(md5(g::text), '' ORDER BY g) FROM generate_series(1, 8000) g")[
        0
    ][0]
    src = await pg_capture.open_source(source, [docs], migration_uid, start)
    try:
        changes = flat((await read_changes(src, AppliedPosition(start), 3))[0])
    finally:
        await src.close()
    assert changes[0].new == {"id": "1", "body": body, "hits": "0"}
    assert changes[1].new == {"id": "1", "body": UNCHANGED, "hits": "1"}
    assert changes[2].new == {"id": "1", "body": "short now", "hits": "2"}


async def test_a_transaction_over_many_tables_and_a_truncate(
    source_db: Database, source: Side, migration_uid: str
) -> None:
    names = [f"t{i}" for i in range(6)]
    execute(source_db, *(f"CREATE TABLE {n} (id integer PRIMARY KEY, v text)" for n in names))
    mappings = [mapping(n, [("id", "integer"), ("v", "text")]) for n in names]
    start = pg_capture.start(source, mappings, migration_uid)
    with psycopg.connect(source_db.libpq_dsn()) as conn:
        for i, n in enumerate(names):
            conn.execute(f"INSERT INTO {n} VALUES ({i}, '{n}')")  # type: ignore[arg-type]
        conn.execute("UPDATE t0 SET v = 'again'")
    execute(source_db, "TRUNCATE t1, t2")
    src = await pg_capture.open_source(source, mappings, migration_uid, start)
    try:
        txns, _ = await read_changes(src, AppliedPosition(start), 9)
    finally:
        await src.close()
    assert len(txns) == 2
    assert [(c.table[1], c.kind) for c in txns[0].changes] == [
        *((n, ChangeKind.INSERT) for n in names),
        ("t0", ChangeKind.UPDATE),
    ]
    assert txns[1].changes == (
        RowChange(("public", "t1"), ChangeKind.TRUNCATE),
        RowChange(("public", "t2"), ChangeKind.TRUNCATE),
    )


async def test_a_large_transaction_comes_in_bounded_chunks(
    source_db: Database, source: Side, migration_uid: str
) -> None:
    create_items(source_db)
    start = pg_capture.start(source, [ITEMS], migration_uid)
    execute(
        source_db,
        "INSERT INTO items VALUES (0, 'before', 0)",
        "INSERT INTO items SELECT g, 'big', g FROM generate_series(1, 50000) g",
        "UPDATE items SET qty = -1 WHERE id = 0",
    )
    src = await pg_capture.open_source(source, [ITEMS], migration_uid, start)
    try:
        txns, _ = await read_changes(src, AppliedPosition(start), 50_002, max_changes=4000)
    finally:
        await src.close()
    small_before, *big, small_after = txns
    assert len(small_before.changes) == 1 and len(small_after.changes) == 1
    assert (
        len({t.position for t in big}) == 1 and small_before.position < big[0].position < small_after.position
    )
    assert all(len(t.changes) <= 4000 for t in big)
    assert [t.first_index for t in big] == list(range(0, 50_000, 4000))
    assert [t.last_chunk for t in big] == [False] * (len(big) - 1) + [True]
    assert [c.new["id"] for c in flat(big) if c.new] == [str(i) for i in range(1, 50_001)]


async def test_wide_rows_come_whole_in_chunks(source_db: Database, source: Side, migration_uid: str) -> None:
    """Rows of 640 kB: the reader fetches fewer of them at a time, and a transaction of them still
    comes in chunks of the size asked for."""
    execute(source_db, "CREATE TABLE blobs (id integer PRIMARY KEY, body text)")
    blobs = mapping("blobs", [("id", "integer"), ("body", "text")])
    start = pg_capture.start(source, [blobs], migration_uid)
    wide = "(SELECT string_agg(md5(i::text || g::text), '') FROM generate_series(1, 20000) g)"
    execute(source_db, f"INSERT INTO blobs SELECT i, {wide} FROM generate_series(1, 40) i")
    src = await pg_capture.open_source(source, [blobs], migration_uid, start)
    try:
        txns, _ = await read_changes(src, AppliedPosition(start), 40, max_changes=8)
    finally:
        await src.close()
    assert [(t.first_index, len(t.changes), t.last_chunk) for t in txns] == [
        (i, 8, i == 32) for i in range(0, 40, 8)
    ]
    bodies = rows(source_db, "SELECT body FROM blobs ORDER BY id")
    assert [c.new["body"] for c in flat(txns) if c.new] == [b for (b,) in bodies]


async def test_a_column_added_to_a_followed_table_stops_the_stream(
    source_db: Database, source: Side, migration_uid: str
) -> None:
    create_items(source_db)
    start = pg_capture.start(source, [ITEMS], migration_uid)
    execute(
        source_db,
        "INSERT INTO items VALUES (1, 'a', 1)",
        "ALTER TABLE items ADD COLUMN color text",
        "INSERT INTO items VALUES (2, 'b', 2, 'red')",
    )
    src = await pg_capture.open_source(source, [ITEMS], migration_uid, start)
    try:
        txns, after = await read_changes(src, AppliedPosition(start), 1)
        assert flat(txns)[0].new == {"id": "1", "name": "a", "qty": "1"}
        for _ in range(2):  # and it stays stopped
            with pytest.raises(SourceSchemaChanged) as caught:
                await src.read(after, 100, 5.0)
            assert (caught.value.table, caught.value.change) == ("public.items", "column color added")
    finally:
        await src.close()


async def test_confirm_advances_the_slot_and_a_reopened_source_returns_only_what_was_not_confirmed(
    source_db: Database, source: Side, migration_uid: str
) -> None:
    create_items(source_db)
    start = pg_capture.start(source, [ITEMS], migration_uid)
    execute(source_db, *(f"INSERT INTO items VALUES ({i}, 'v', {i})" for i in range(1, 4)))
    name = capture_name(migration_uid)
    src = await pg_capture.open_source(source, [ITEMS], migration_uid, start)
    try:
        (first, second, third), _ = await read_changes(src, AppliedPosition(start), 3)
        await src.confirm(applied(first))
        slot = slot_row(source_db, name)
        assert slot is not None and parse_lsn(slot["confirmed"]) == first.position.major
        lag = await src.lag(applied(first))
        assert (
            lag.bytes_behind is not None and lag.bytes_behind >= third.position.major - first.position.major
        )
        assert lag.current >= third.position
    finally:
        await src.close()
    # The follower committed `second` too but crashed before confirming it; `third` was read and
    # never applied. Reopened, the source returns both again (exactly-once relies on that); the
    # follower's position skips the one it applied.
    src = await pg_capture.open_source(source, [ITEMS], migration_uid, start)
    try:
        again = await src.read(applied(first), 100, 5.0)
        assert [t.position for t in again] == [second.position, third.position]
        skipped = await src.read(applied(second), 100, 5.0)
        assert [t.position for t in skipped] == [third.position]
        assert flat(skipped) == list(third.changes)
    finally:
        await src.close()


async def test_a_retry_with_the_same_position_returns_the_same_changes(
    source_db: Database, source: Side, migration_uid: str
) -> None:
    create_items(source_db)
    start = pg_capture.start(source, [ITEMS], migration_uid)
    execute(source_db, "INSERT INTO items SELECT g, 'v', g FROM generate_series(1, 10) g")
    src = await pg_capture.open_source(source, [ITEMS], migration_uid, start)
    try:
        chunks, _ = await read_changes(src, AppliedPosition(start), 4, max_changes=4)
        assert [(c.first_index, len(c.changes), c.last_chunk) for c in chunks] == [(0, 4, False)]
        # The target's transaction failed: the follower asks again from where it was.
        retried = await src.read(AppliedPosition(start), 4, 5.0)
        assert retried == chunks
        rest = await src.read(applied(retried[-1]), 100, 5.0)
        assert [(c.first_index, len(c.changes), c.last_chunk) for c in rest] == [(4, 6, True)]
    finally:
        await src.close()


async def test_a_partitioned_table_is_followed_through_its_root(
    source_db: Database, source: Side, migration_uid: str
) -> None:
    execute(
        source_db,
        "CREATE TABLE events (id integer, day date, PRIMARY KEY (id, day)) PARTITION BY RANGE (day)",
        "CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
        "CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
    )
    events = mapping("events", [("id", "integer"), ("day", "date")], key=("id", "day"))
    start = pg_capture.start(source, [events], migration_uid)
    execute(source_db, "INSERT INTO events VALUES (1, '2024-03-01'), (2, '2025-03-01')")
    src = await pg_capture.open_source(source, [events], migration_uid, start)
    try:
        changes = flat((await read_changes(src, AppliedPosition(start), 2))[0])
    finally:
        await src.close()
    assert changes == [
        RowChange(("public", "events"), ChangeKind.INSERT, new={"id": "1", "day": "2024-03-01"}),
        RowChange(("public", "events"), ChangeKind.INSERT, new={"id": "2", "day": "2025-03-01"}),
    ]


async def test_waiting_returns_a_change_committed_during_the_wait(
    source_db: Database, source: Side, migration_uid: str
) -> None:
    create_items(source_db)
    start = pg_capture.start(source, [ITEMS], migration_uid)
    src = await pg_capture.open_source(source, [ITEMS], migration_uid, start)
    try:
        began = time.monotonic()
        assert await src.read(AppliedPosition(start), 100, 0.5) == []
        assert 0.5 <= time.monotonic() - began < 3
        later = asyncio.get_running_loop().call_later(
            0.5, execute, source_db, "INSERT INTO items VALUES (1, 'late', 1)"
        )
        began = time.monotonic()
        txns = await src.read(AppliedPosition(start), 100, 15.0)
        later.cancel()
        assert [c.new for c in flat(txns)] == [{"id": "1", "name": "late", "qty": "1"}]
        assert time.monotonic() - began < 10
    finally:
        await src.close()


async def test_a_quiet_capture_lets_the_slot_move_past_other_tables_wal(
    source_db: Database, source: Side, migration_uid: str
) -> None:
    create_items(source_db)
    execute(source_db, "CREATE TABLE busy (id integer PRIMARY KEY, v text)")
    start = pg_capture.start(source, [ITEMS], migration_uid)
    execute(source_db, "INSERT INTO busy SELECT g, repeat('x', 200) FROM generate_series(1, 5000) g")
    written = pg_capture.current_position(source)
    await settle()
    src = await pg_capture.open_source(source, [ITEMS], migration_uid, start)
    try:
        assert await src.read(AppliedPosition(start), 100, 1.0) == []
        details = await src.details()
        lag = await src.lag(AppliedPosition(start))
    finally:
        await src.close()
    slot = slot_row(source_db, capture_name(migration_uid))
    assert slot is not None and parse_lsn(slot["confirmed"]) >= written.major
    assert details["slotName"] == capture_name(migration_uid) and details["walStatus"] == "reserved"
    # The other table's WAL is not lag: nothing of it is left to apply.
    assert lag.bytes_behind is not None and lag.bytes_behind < (written.major - start.major) // 10


async def test_a_reader_of_a_dropped_capture_is_told_so(
    source_db: Database, source: Side, migration_uid: str
) -> None:
    create_items(source_db)
    start = pg_capture.start(source, [ITEMS], migration_uid)
    pg_capture.drop(source, migration_uid)
    with pytest.raises(pg_capture.CaptureError, match="does not exist on the source"):
        await pg_capture.open_source(source, [ITEMS], migration_uid, start)
