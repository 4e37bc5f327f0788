"""`ferry run` online and `ferry cutover` end to end, with a scripted capture engine in place of
`ferry.cdc.pg_capture`: real source and target databases, real copy, keys, follower, cutover,
completion and validation; only the change stream is made by the test, which reads each row it
writes back from the source as pgoutput would send it (every column's text form).
(tests/integration/cli/test_online_cli.py runs the same with the real capture.)
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace

import pytest

import ferry.cdc as cdc_package
from ferry.cdc.changes import AppliedPosition, ChangeKind, Position, RowChange, SourceTransaction
from harness.databases import Database
from integration.cdc.helpers import ScriptedSource, pg_query, txn
from integration.cli.online_bundle import (
    ferry,
    interrupt_ferry,
    load_source,
    run_beside,
    same_rows,
    state,
    wait_for_state,
    write_bundle,
)
from integration.copy.helpers import pg_exec

COLUMNS = {"customers": ("id", "email", "name", "bio"), "orders": ("id", "customer_id", "total", "note")}


class ScriptedCapture:
    """The engine module's functions (check_source, start, drop, current_position, open_source)
    over a list of transactions the test appends to as it writes to the source."""

    def __init__(self, source: Database) -> None:
        self.db = source
        self.transactions: list[SourceTransaction] = []
        self.lsn = 1000
        self.sources: list[ScriptedSource] = []
        self.dropped: list[str] = []
        self.on_start: list[str] = []  # SQL run right after the capture opens (before the copy reads)

    def check_source(self, source: object, mappings: Sequence[object]) -> list[str]:
        return []

    def start(self, source: object, mappings: Sequence[object], uid: str) -> Position:
        start = Position(self.lsn, 0, f"0/{self.lsn:X}")
        for statement in self.on_start:  # committed after P0: the copy reads their result, then they replay
            self.write(statement)
        return start

    def drop(self, source: object, uid: str) -> str:
        self.dropped.append(uid)
        return "slot ferry_localshop"

    def current_position(self, source: object) -> Position:
        return Position(self.lsn, 0, f"0/{self.lsn:X}")

    async def open_source(
        self, source: object, mappings: object, uid: str, start: Position, sessions: object = None
    ) -> ScriptedSource:
        confirmed = self.sources[-1].confirmed if self.sources else AppliedPosition(start)
        self.sources.append(ScriptedSource(self.transactions, confirmed=confirmed))
        return self.sources[-1]

    def write(self, statement: str) -> None:
        """Run a write on the source and append the change it made, read back from the source.

        Statements are `insert|update|delete <table> <id> <SQL>`."""
        kind, table, key, sql = statement.split(" ", 3)
        pg_exec(self.db, sql)
        self.lsn += 10
        if kind == "delete":
            change = RowChange(("public", table), ChangeKind.DELETE, old={"id": key})
        else:
            columns = COLUMNS[table]
            select = ", ".join(f"{c}::text" for c in columns)
            (row,) = pg_query(self.db, f"SELECT {select} FROM {table} WHERE id = {int(key)}")
            new = dict(zip(columns, row, strict=True))
            change = RowChange(("public", table), ChangeKind(kind), new=new)
        self.transactions.append(txn(self.lsn, change))


@pytest.fixture
def scripted(pg_db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedCapture]:
    capture = ScriptedCapture(pg_db)
    engine = SimpleNamespace(
        check_source=capture.check_source, start=capture.start, drop=capture.drop,
        current_position=capture.current_position, open_source=capture.open_source,
    )  # fmt: skip
    had_capture = "ferry.cdc.capture" in sys.modules
    for name in ("pg_capture", "mysql_capture"):
        monkeypatch.setitem(sys.modules, f"ferry.cdc.{name}", engine)
        monkeypatch.setattr(cdc_package, name, engine, raising=False)
    import ferry.cdc.capture as capture_module

    monkeypatch.setattr(capture_module, "pg_capture", engine)
    yield capture
    if not had_capture:  # imported over the scripted engines: the next import must see the real ones
        sys.modules.pop("ferry.cdc.capture", None)
        if hasattr(cdc_package, "capture"):
            delattr(cdc_package, "capture")


def test_run_follows_the_source_and_cutover_ends_it(
    pg_db: Database,
    pg_db2: Database,
    scripted: ScriptedCapture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    load_source(pg_db)
    # Committed after the capture opened and before the copy read the tables: copied and replayed.
    scripted.on_start = [
        "update customers 7 UPDATE customers SET name = 'seven' WHERE id = 7",
        "delete orders 3 DELETE FROM orders WHERE id = 3",
        "insert orders 501 INSERT INTO orders VALUES (501, 7, 9.99, 'new during the copy')",
    ]
    bundle = write_bundle(tmp_path, pg_db, pg_db2, freeze=True)

    def while_following() -> int:
        wait_for_state(pg_db2, ("Following",))
        # While following the target has its keys (changes are applied by them), and nothing else yet.
        keys = (
            "SELECT conrelid::regclass::text, contype FROM pg_constraint "
            "WHERE contype IN ('p', 'f') AND connamespace = 'public'::regnamespace ORDER BY 1"
        )
        assert pg_query(pg_db2, keys) == [("customers", "p"), ("orders", "p")]
        assert pg_query(pg_db2, "SELECT count(*) FROM pg_indexes WHERE indexname = 'orders_customer'") == [
            (0,)
        ]
        for statement in (
            "insert customers 201 INSERT INTO customers VALUES (201, 'n@shop.test', 'new', 'short bio')",
            "insert orders 502 INSERT INTO orders VALUES (502, 201, 1.00, 'for the new one')",
            # A unique value moves from one row to another (the target's set-wise upsert trips on it).
            "update customers 1 UPDATE customers SET email = 'x1@shop.test' WHERE id = 1",
            "update customers 201 UPDATE customers SET email = 'c1@shop.test', name = 'took' WHERE id = 201",
            "update orders 10 UPDATE orders SET total = total + 1, customer_id = 201 WHERE id = 10",
            "delete orders 11 DELETE FROM orders WHERE id = 11",
        ):
            scripted.write(statement)
        return ferry("cutover", bundle, "--timeout", "90")

    run_code, cutover_code = run_beside(bundle, monkeypatch, pg_db, while_following)
    out = capsys.readouterr()
    assert run_code == 0 and cutover_code == 0, out
    assert "cut over at 0/" in out.out and "row counts and checksums match" in out.out
    assert "read-only for new sessions" in out.out

    same_rows(pg_db, pg_db2)
    assert state(pg_db2) == "Succeeded" and scripted.dropped == ["local/shop"]
    # Completed as offline: the foreign key, the index and the identity's counter are there.
    assert pg_query(pg_db2, "SELECT conname FROM pg_constraint WHERE contype = 'f'") == [
        ("orders_customer_id_fkey",)
    ]
    assert pg_query(pg_db2, "SELECT count(*) FROM pg_indexes WHERE indexname = 'orders_customer'") == [(1,)]
    assert pg_query(pg_db2, "SELECT nextval(pg_get_serial_sequence('orders', 'id'))") == [(503,)]
    # freezeSource: new sessions on the source are read-only.
    assert pg_query(pg_db, "SHOW default_transaction_read_only") == [("on",)]

    assert ferry("run", bundle) == 0  # done: nothing left to do
    assert "nothing to do" in capsys.readouterr().out


def test_an_interrupted_follow_resumes_from_the_target_without_a_new_copy(
    pg_db: Database,
    pg_db2: Database,
    scripted: ScriptedCapture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    load_source(pg_db)
    bundle = write_bundle(tmp_path, pg_db, pg_db2)

    def interrupt() -> int:
        wait_for_state(pg_db2, ("Following",))
        scripted.write("update customers 5 UPDATE customers SET name = 'five' WHERE id = 5")
        wait_for_state(pg_db2, ("Following",))
        interrupt_ferry()  # Ctrl-C: the follower stops between batches
        return 0

    run_code, _ = run_beside(bundle, monkeypatch, pg_db, interrupt)
    out = capsys.readouterr().out
    assert run_code == 1 and "run it again to continue" in out and "capture opened" in out

    def cut_over() -> int:
        wait_for_state(pg_db2, ("Following",))
        scripted.write("delete orders 20 DELETE FROM orders WHERE id = 20")
        return ferry("cutover", bundle, "--timeout", "90")

    checkpoints = pg_query(pg_db2, "SELECT count(*), sum(rows_copied) FROM ferry._ferry_checkpoints")
    run_code, cutover_code = run_beside(bundle, monkeypatch, pg_db, cut_over)
    out = capsys.readouterr().out
    assert run_code == 0 and cutover_code == 0, out
    assert "capture opened" not in out  # the same capture, from the stored position
    assert pg_query(pg_db2, "SELECT count(*), sum(rows_copied) FROM ferry._ferry_checkpoints") == checkpoints
    same_rows(pg_db, pg_db2)


def test_cutover_without_a_follower_says_so(
    pg_db: Database, pg_db2: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    bundle = write_bundle(tmp_path, pg_db, pg_db2)
    monkeypatch.setenv("FERRY_SECRET_SRC_CREDS_PASSWORD", pg_db.password)
    assert ferry("cutover", bundle) == 1
    assert "is not following its source: run `ferry run" in capsys.readouterr().err
