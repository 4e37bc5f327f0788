"""The MariaDB binlog capture on a real server: checks, positions, transactions, values, resume, DDL.

The server (tests/conftest.py) writes a row-based binlog with full row images. Each test makes
its own database; the binlog is the server's, shared by all tests, so each test reads from a
position it took itself.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from ferry.cdc import mysql_capture
from ferry.cdc.changes import AppliedPosition, ChangeKind, Position, SourceSchemaChanged
from ferry.cdc.mysql_change_source import MySQLChangeSource
from ferry.cdc.mysql_connection import BinlogPurged
from ferry.copy.mysql_source import MySQLSource
from ferry.copy.projection import build_projection
from ferry.schema.mapping import ColumnMapping, TableMapping
from harness.databases import Database, MariaDBServer
from integration.cdc.mysql_helpers import (
    as_tuple,
    changes_in,
    collect,
    grant_replication,
    mappings,
    real,
    run,
    side,
)
from integration.copy.helpers import mysql_endpoint

UID = "5b0c4a6e-0d1f-4c39-9a43-3f8d2c1e7a10"


@pytest.fixture
def source_db(mariadb_server: MariaDBServer, mariadb_db: Database) -> Database:
    """A database whose user may read the binlog."""
    grant_replication(mariadb_server, mariadb_db)
    return mariadb_db


async def _open(db: Database, tables: list[TableMapping], start: Position) -> MySQLChangeSource:
    return await mysql_capture.open_source(side(db), tables, UID, start)


@pytest.fixture
async def closing() -> AsyncIterator[list[MySQLChangeSource]]:
    opened: list[MySQLChangeSource] = []
    yield opened
    for source in opened:
        await source.close()


# -- check_source ------------------------------------------------------------------------------


def test_check_source_accepts_a_ready_source(source_db: Database) -> None:
    run(source_db, "CREATE TABLE t (id int PRIMARY KEY, v text)")
    assert mysql_capture.check_source(side(source_db), mappings(source_db, "t")) == []


def test_check_source_names_a_table_without_key_and_missing_privileges(mariadb_db: Database) -> None:
    run(mariadb_db, "CREATE TABLE keyed (id int PRIMARY KEY)", "CREATE TABLE loose (a int, b text)")

    problems = mysql_capture.check_source(side(mariadb_db), mappings(mariadb_db, "keyed", "loose"))

    assert len(problems) == 2, problems
    privileges, key = problems
    assert "REPLICATION SLAVE and REPLICATION CLIENT" in privileges
    assert f"GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '{mariadb_db.user}'@'%'" in privileges
    assert "loose has no primary key" in key
    assert all(mariadb_db.password not in p and "PASSWORD" not in p for p in problems)


def test_check_source_reads_the_global_binlog_format_not_the_session(
    mariadb_server: MariaDBServer, source_db: Database
) -> None:
    """A session's binlog_format (what SET SESSION changes) is not what other sessions write with."""
    run(source_db, "CREATE TABLE t (id int PRIMARY KEY)")
    with mariadb_server.admin(source_db.name) as conn, conn.cursor() as cur:
        cur.execute("SET SESSION binlog_format = 'STATEMENT'")
        cur.execute("SELECT @@SESSION.binlog_format, @@GLOBAL.binlog_format")
        assert cur.fetchone() == ("STATEMENT", "ROW")
        assert mysql_capture.check_source(side(source_db), mappings(source_db, "t")) == []


# -- positions ---------------------------------------------------------------------------------


def _server_position(server: MariaDBServer) -> Position:
    with server.admin() as conn, conn.cursor() as cur:
        cur.execute("SHOW MASTER STATUS")
        name, pos = cur.fetchone()[:2]
    return Position(int(name.rsplit(".", 1)[1]), int(pos), f"{name}:{pos}")


def test_start_returns_the_current_binlog_position(
    mariadb_server: MariaDBServer, source_db: Database
) -> None:
    run(source_db, "CREATE TABLE t (id int PRIMARY KEY)")
    before = _server_position(mariadb_server)

    started = mysql_capture.start(side(source_db), mappings(source_db, "t"), UID)

    assert started == before and started.text == before.text
    run(source_db, "INSERT INTO t VALUES (1)")
    assert mysql_capture.current_position(side(source_db)) == _server_position(mariadb_server) > started
    assert mysql_capture.drop(side(source_db), UID) == ""


# -- values ------------------------------------------------------------------------------------

EVERY_TYPE = """CREATE TABLE every (
    id int PRIMARY KEY, ti tinyint, flag tinyint(1), tu tinyint unsigned, si smallint, su smallint unsigned,
    mi mediumint, mu mediumint unsigned, i int, iu int unsigned, bi bigint, bu bigint unsigned,
    de decimal(12,3), d5 decimal(5,5), fl float, fu float unsigned, f2 float(7,3), db double, d2 double(10,2),
    ch char(5), vc varchar(300), lat varchar(10) CHARACTER SET latin1, bn binary(4), vb varbinary(10),
    bl blob, tx text, js json, d date, dt datetime, dt6 datetime(6), ts timestamp(3) NULL DEFAULT NULL,
    tm time, tm3 time(3), y year, e enum('a','b c','it''s'), s set('x','y','z'), b1 bit(1), b10 bit(10),
    u uuid, i6 inet6, i4 inet4)"""

EVERY_ROWS = [
    "(1, -5, 1, 250, -300, 65535, -8000000, 16000000, -2147483648, 4294967295, -9223372036854775808, "
    "18446744073709551615, -123456789.125, 0.12345, 1.1, 3.5, 1234.567, 0.30000000000000004, 12345678.91, "
    "'ab  ', 'héllo 😀', 'café€', 'a\\0', 0x00ff10, 0xdeadbeef00, 'text', '{\"b\": 1, \"a\": [1,2]}', "
    "'2024-02-29', '2024-01-02 03:04:05', '2024-01-02 03:04:05.123456', '2024-03-01 10:00:00.5', "
    "'-12:30:45', '-00:00:00.001', 2024, 'it''s', 'x,z', b'1', b'1000000001', "
    "'123e4567-e89b-12d3-a456-426614174000', '::ffff:1.2.3.4', '10.0.0.1')",
    # zero dates and the values the binlog shortens: empty strings, zero bytes, an empty SET
    "(2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.1234567, 0, -999.999, 1e300, 0, '', '', '', '', '', '', "
    "'', '[]', '0000-00-00', '0000-00-00 00:00:00', '2024-00-00 00:00:00', '0000-00-00 00:00:00', "
    "'-838:59:59', '-12:00:00.25', 0, '', '', b'0', b'0', '00000000-0000-0000-0000-000000000000', '::', "
    "'0.0.0.0')",
    "(3" + ", NULL" * 40 + ")",
]


async def _copy_reads(db: Database, mapping: TableMapping) -> dict[object, tuple[object, ...]]:
    """Every row as the initial copy reads it: its connection, session and select list."""
    projection = build_projection(mapping, "mysql", "postgresql", None)
    copy = await MySQLSource.open(mysql_endpoint(db), projection, bounds_only=True)
    try:
        query = copy.batch_query(None, None)
        with copy.conn.cursor() as cur:
            cur.execute(query.sql, tuple(query.params))
            rows = [tuple(r) for r in cur.fetchall()]
        copy.conn.commit()
    finally:
        await copy.close()
    key = [c.source for c in mapping.columns].index("id")
    return {row[key]: row for row in rows}


def _partial_zero_date(column: ColumnMapping, binlog: object, copy: object) -> bool:
    """'2024-00-00' comes from the binlog as the all-zero text (the library drops the value); the
    copy's fixes only ask whether a date column holds a string (ferry.cdc.mysql_capture_values)."""
    dated = column.source_type.startswith(("date", "timestamp"))
    texts = isinstance(binlog, str) and isinstance(copy, str) and len(binlog) == len(copy)
    return dated and texts and str(binlog).strip("0-:. ") == ""


def _differences(binlog: tuple[object, ...], copy: tuple[object, ...], mapping: TableMapping) -> list[str]:
    return [
        f"{c.source} ({c.source_type}): binlog {b!r}, copy {v!r}"
        for c, b, v in zip(mapping.columns, binlog, copy, strict=True)
        if (b != v or type(b) is not type(v)) and not _partial_zero_date(c, b, v)
    ]


async def test_binlog_values_equal_what_the_copy_reads(
    source_db: Database, closing: list[MySQLChangeSource]
) -> None:
    run(source_db, EVERY_TYPE)
    (mapping,) = mappings(source_db, "every")
    start = mysql_capture.start(side(source_db), [mapping], UID)
    closing.append(source := await _open(source_db, [mapping], start))
    run(source_db, *(f"INSERT INTO every VALUES {row}" for row in EVERY_ROWS), sql_mode="")
    inserted = await _copy_reads(source_db, mapping)
    run(
        source_db,
        "UPDATE every SET id = 10, vc = 'moved', tm3 = '-00:00:59.5' WHERE id = 1",
        "DELETE FROM every WHERE id = 2",
        sql_mode="",
    )
    updated = await _copy_reads(source_db, mapping)

    txns = real(await collect(source, AppliedPosition(start), changes=5))

    changes = [c for t in txns for c in t.changes]
    assert [c.kind for c in changes] == [ChangeKind.INSERT] * 3 + [ChangeKind.UPDATE, ChangeKind.DELETE]
    assert all(c.table == (mapping.source_schema, "every") for c in changes)
    for change in changes[:3]:
        assert change.new is not None
        row = as_tuple(change.new, mapping)
        assert _differences(row, inserted[row[0]], mapping) == []
    update, delete = changes[3], changes[4]
    assert update.old is not None and update.new is not None and delete.old is not None
    assert _differences(as_tuple(update.old, mapping), inserted[1], mapping) == []
    assert _differences(as_tuple(update.new, mapping), updated[10], mapping) == []
    assert _differences(as_tuple(delete.old, mapping), inserted[2], mapping) == []
    # The projection (zero dates to NULL, booleans, bit strings) gives the same target values.
    projection = build_projection(mapping, "mysql", "postgresql", None)
    assert projection.apply(as_tuple(changes[1].new, mapping)) == projection.apply(inserted[2])
    assert update.new["tm3"] == -timedelta(seconds=59.5) and changes[0].new["tm3"] == -timedelta(
        milliseconds=1
    )


# -- transactions ------------------------------------------------------------------------------


async def test_changes_come_per_transaction_in_commit_order(
    mariadb_server: MariaDBServer, source_db: Database, closing: list[MySQLChangeSource]
) -> None:
    run(
        source_db, "CREATE TABLE a (id int PRIMARY KEY, v text)", "CREATE TABLE b (k varchar(10) PRIMARY KEY)"
    )
    run(source_db, "CREATE TABLE other (id int PRIMARY KEY)")
    tables = mappings(source_db, "a", "b")
    start = mysql_capture.start(side(source_db), tables, UID)
    closing.append(source := await _open(source_db, tables, start))
    run(
        source_db,
        "INSERT INTO a VALUES (1, 'one')",
    )
    with mariadb_server.admin() as conn, conn.cursor() as cur:
        cur.execute("FLUSH BINARY LOGS")  # the next transactions are in the next file
    run(
        source_db,
        "BEGIN",
        "INSERT INTO b VALUES ('x')",
        "UPDATE a SET id = 2, v = 'two' WHERE id = 1",
        "INSERT INTO other VALUES (1)",
        "DELETE FROM b WHERE k = 'x'",
        "COMMIT",
        "INSERT INTO other VALUES (2)",
        "TRUNCATE TABLE a",
    )
    end = mysql_capture.current_position(side(source_db))

    txns = await collect(source, AppliedPosition(start), until=end)

    first, second, truncate = real(txns)
    assert [(c.kind, c.table[1]) for c in first.changes] == [(ChangeKind.INSERT, "a")]
    assert [(c.kind, c.table[1]) for c in second.changes] == [
        (ChangeKind.INSERT, "b"),
        (ChangeKind.UPDATE, "a"),
        (ChangeKind.DELETE, "b"),
    ]
    moved = second.changes[1]
    assert moved.old == {"id": 1, "v": "one"} and moved.new == {"id": 2, "v": "two"}
    assert [c.kind for c in truncate.changes] == [ChangeKind.TRUNCATE]
    assert start < first.position < second.position < truncate.position <= end
    assert second.position.major == first.position.major + 1
    assert all(t.last_chunk and t.first_index == 0 and t.commit_time is not None for t in real(txns))
    # Transactions on other tables come as empty markers: the follower can reach the server's position.
    assert max(t.position for t in txns) >= end
    assert [t.position for t in txns] == sorted(t.position for t in txns)


async def test_a_large_transaction_comes_in_bounded_chunks(
    source_db: Database, closing: list[MySQLChangeSource]
) -> None:
    run(source_db, "CREATE TABLE big (id int PRIMARY KEY, v varchar(40))")
    tables = mappings(source_db, "big")
    start = mysql_capture.start(side(source_db), tables, UID)
    closing.append(source := await _open(source_db, tables, start))
    rows = 50_000  # past HOLD_CHANGES: read a second time, handed over as chunks fill
    run(
        source_db,
        "INSERT INTO big SELECT seq, CONCAT('row ', seq) FROM seq_1_to_50000",
        "INSERT INTO big VALUES (0, 'after')",
        "UPDATE big SET v = 'mid' WHERE id BETWEEN 1 AND 12000",  # held whole, split in chunks at its end
    )

    txns = real(await collect(source, AppliedPosition(start), changes=rows + 1 + 12_000, max_changes=7000))

    large = [t for t in txns if t.position == txns[0].position]
    assert [t.first_index for t in large] == list(range(0, rows, 5000))
    assert [t.last_chunk for t in large] == [False] * 9 + [True]
    assert [c.new["id"] for t in large for c in t.changes] == list(range(1, rows + 1))  # type: ignore[index]
    single, held = txns[len(large)], txns[len(large) + 1 :]
    assert single.position > large[0].position and single.changes[0].new == {"id": 0, "v": "after"}
    assert [t.first_index for t in held] == [0, 5000, 10000] and held[-1].last_chunk
    assert changes_in(held) == 12_000 and len({t.position for t in held}) == 1


async def test_resume_from_a_stored_position_has_no_gap_and_no_duplicate(
    source_db: Database, closing: list[MySQLChangeSource]
) -> None:
    run(source_db, "CREATE TABLE r (id int PRIMARY KEY)")
    tables = mappings(source_db, "r")
    start = mysql_capture.start(side(source_db), tables, UID)
    for i in range(1, 7):
        run(source_db, f"INSERT INTO r VALUES ({i})")
    run(source_db, "INSERT INTO r SELECT seq FROM seq_100_to_12099")  # one transaction of 12000
    first = await _open(source_db, tables, start)
    txns = real(await collect(first, AppliedPosition(start), changes=6 + 12_000))
    await first.close()
    assert [t.changes[0].new["id"] for t in txns[:6]] == [1, 2, 3, 4, 5, 6]  # type: ignore[index]

    # The target committed the first three transactions: a new follower starts after them.
    closing.append(again := await _open(source_db, tables, start))
    resumed = real(await collect(again, AppliedPosition(txns[2].position), changes=3 + 12_000))
    assert [t.changes[0].new["id"] for t in resumed[:3]] == [4, 5, 6]  # type: ignore[index]
    assert changes_in(resumed) == 3 + 12_000

    # Killed in the middle of the large transaction: the rest of it, from the next change on.
    large = txns[6].position
    closing.append(middle := await _open(source_db, tables, start))
    rest = real(await collect(middle, AppliedPosition(large, 7000, complete=False), changes=5000))
    assert rest[0].position == large and rest[0].first_index == 7000
    assert rest[0].changes[0].new == {"id": 100 + 7000}
    assert changes_in(rest) == 5000 and rest[-1].last_chunk


async def test_alter_table_stops_the_capture_naming_the_table(
    source_db: Database, closing: list[MySQLChangeSource]
) -> None:
    run(source_db, "CREATE TABLE s (id int PRIMARY KEY, v text)")
    tables = mappings(source_db, "s")
    start = mysql_capture.start(side(source_db), tables, UID)
    closing.append(source := await _open(source_db, tables, start))
    run(
        source_db,
        "INSERT INTO s VALUES (1, 'before')",
        "ALTER TABLE s ADD COLUMN w int",
        "INSERT INTO s VALUES (2, 'x', 3)",
    )

    before = real(await collect(source, AppliedPosition(start), changes=1))
    assert before[0].changes[0].new == {"id": 1, "v": "before"}
    with pytest.raises(SourceSchemaChanged) as raised:
        await collect(source, AppliedPosition(before[0].position), timeout=10)
    assert (
        raised.value.table == "s"
        and "ALTER TABLE" in raised.value.change
        and "ADD COLUMN w" in str(raised.value)
    )

    # A follower started after the ALTER, reading from before it, finds the rows' columns changed.
    closing.append(later := await _open(source_db, tables, start))
    with pytest.raises(
        SourceSchemaChanged, match="table s: the binlog describes 2 columns where the table had 3"
    ):
        await collect(later, AppliedPosition(start), timeout=10)


async def test_a_table_changed_since_the_plan_is_refused_at_the_first_read(
    source_db: Database, closing: list[MySQLChangeSource]
) -> None:
    run(source_db, "CREATE TABLE c (id int PRIMARY KEY, v text)")
    tables = mappings(source_db, "c")
    run(source_db, "ALTER TABLE c MODIFY v varchar(20)")
    start = mysql_capture.start(side(source_db), tables, UID)
    closing.append(source := await _open(source_db, tables, start))

    with pytest.raises(
        SourceSchemaChanged, match="table c: column v is varchar\\(20\\) now, the plan has text"
    ):
        await source.read(AppliedPosition(start), 100, 0.1)


async def test_a_purged_binlog_is_a_clear_error(
    mariadb_server: MariaDBServer, source_db: Database, closing: list[MySQLChangeSource]
) -> None:
    run(source_db, "CREATE TABLE p (id int PRIMARY KEY)")
    tables = mappings(source_db, "p")
    start = mysql_capture.start(side(source_db), tables, UID)
    file = start.text.split(":")[0]
    with mariadb_server.admin() as conn, conn.cursor() as cur:
        cur.execute("FLUSH BINARY LOGS")
        cur.execute("SHOW MASTER STATUS")
        newest = cur.fetchone()[0]
        # The server keeps a file a binlog reader still has open (an earlier test's reader thread
        # may take a moment to go): purge until the start's file is really gone.
        for _ in range(50):
            cur.execute(f"PURGE BINARY LOGS TO '{newest}'")
            cur.execute("SHOW BINARY LOGS")
            if file not in {row[0] for row in cur.fetchall()}:
                break
            await asyncio.sleep(0.2)
        else:
            pytest.fail(f"binlog {file} could not be purged")
    closing.append(source := await _open(source_db, tables, start))

    with pytest.raises(BinlogPurged) as raised:
        await source.read(AppliedPosition(start), 100, 1)
    assert str(raised.value).startswith(f"binlog {file} was purged") and "must start again" in str(
        raised.value
    )


async def test_lag_and_details(source_db: Database, closing: list[MySQLChangeSource]) -> None:
    run(source_db, "CREATE TABLE l (id int PRIMARY KEY, v text)")
    tables = mappings(source_db, "l")
    start = mysql_capture.start(side(source_db), tables, UID)
    closing.append(source := await _open(source_db, tables, start))
    run(source_db, "INSERT INTO l VALUES (1, REPEAT('x', 1000))")

    lag = await source.lag(AppliedPosition(start))
    (txn,) = real(await collect(source, AppliedPosition(start), changes=1))
    details = await source.details()

    assert lag.current >= txn.position and lag.bytes_behind == lag.current.minor - start.minor > 1000
    assert (await source.lag(AppliedPosition(lag.current))).bytes_behind == 0
    assert details["binlogFormat"] == "ROW" and details["gtid"].count("-") == 2
    assert int(details["serverId"]) == mysql_capture.server_id_for(UID, 1) > 1
    assert f"{details['binlogFile']}:{details['binlogPosition']}" == txn.position.text


# -- throughput --------------------------------------------------------------------------------


async def test_reads_200k_row_changes(source_db: Database, closing: list[MySQLChangeSource]) -> None:
    """Throughput of the capture alone (decoding and conversion, no apply), reported on stdout."""
    run(
        source_db,
        "CREATE TABLE fast (id int PRIMARY KEY, n bigint, v varchar(40), d datetime(6), x decimal(10,2))",
    )
    tables = mappings(source_db, "fast")
    start = mysql_capture.start(side(source_db), tables, UID)
    batch = "SELECT seq, seq * 7, CONCAT('value ', seq), NOW(6), seq / 100 FROM seq_{}_to_{}"
    for lo in range(1, 100_001, 10_000):  # 10 transactions of 10000 inserts, then 10 of 10000 updates
        run(source_db, f"INSERT INTO fast {batch.format(lo, lo + 9999)}")
    for lo in range(1, 100_001, 10_000):
        run(source_db, f"UPDATE fast SET n = n + 1 WHERE id BETWEEN {lo} AND {lo + 9999}")
    closing.append(source := await _open(source_db, tables, start))

    began = time.monotonic()
    txns = await collect(source, AppliedPosition(start), changes=200_000, max_changes=20_000, timeout=300)
    took = time.monotonic() - began

    assert changes_in(txns) == 200_000
    print(f"\nbinlog capture: 200000 row changes in {took:.1f} s = {200_000 / took:,.0f} changes/s")


def test_server_id_avoids_the_source_own_id() -> None:
    chosen = mysql_capture.server_id_for(UID, 0)
    assert mysql_capture.server_id_for(UID, chosen) == chosen + 1
    assert mysql_capture.SERVER_ID_BASE <= chosen < 2**31


async def test_read_returns_nothing_when_idle(source_db: Database, closing: list[MySQLChangeSource]) -> None:
    run(source_db, "CREATE TABLE q (id int PRIMARY KEY)")
    tables = mappings(source_db, "q")
    start = mysql_capture.start(side(source_db), tables, UID)
    closing.append(source := await _open(source_db, tables, start))
    began = time.monotonic()
    txns: list[Any] = await source.read(AppliedPosition(start), 100, 0.3)
    assert real(txns) == [] and time.monotonic() - began < 5
    await asyncio.sleep(0)
