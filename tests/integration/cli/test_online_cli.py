"""`ferry run` online and `ferry cutover` end to end with the real PostgreSQL capture (pgoutput):
writes on the source while the copy and the follower run, then the cutover, completion and
validation. Enabled once `ferry.cdc.pg_capture` is in the tree (it is built beside this branch).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.databases import Database, PostgresServer
from integration.cdc.helpers import pg_query
from integration.cli.online_bundle import (
    ferry,
    load_source,
    run_beside,
    same_rows,
    state,
    wait_for_state,
    write_bundle,
)
from integration.copy.helpers import pg_exec

pytest.importorskip("ferry.cdc.pg_capture", reason="the PostgreSQL capture engine is not in this tree yet")


def test_run_follows_a_real_slot_and_cutover_ends_it(
    pg_server: PostgresServer,
    pg_db: Database,
    pg_db2: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    load_source(pg_db)
    with pg_server.admin() as admin:  # a logical slot needs the REPLICATION attribute
        admin.execute(f'ALTER ROLE "{pg_db.user}" REPLICATION')
    bundle = write_bundle(tmp_path, pg_db, pg_db2)

    def while_following() -> int:
        wait_for_state(pg_db2, ("Following",))
        pg_exec(
            pg_db,
            "INSERT INTO customers VALUES (201, 'n@shop.test', 'new', 'short bio')",
            "INSERT INTO orders (id, customer_id, total, note) VALUES (5002, 201, 1.00, 'for the new one')",
            "UPDATE customers SET email = 'x1@shop.test' WHERE id = 1",
            "UPDATE customers SET email = 'c1@shop.test', name = 'took' WHERE id = 201",
            "UPDATE customers SET name = 'toast kept' WHERE id = 2",  # bio is TOASTed and not sent
            "INSERT INTO customers SELECT 300, 'k@shop.test', 'to move', string_agg(md5(j::text), '') "
            "FROM generate_series(1, 300) j",
            "UPDATE customers SET id = 1300 WHERE id = 300",  # a key update of a row with a TOASTed value
            "UPDATE orders SET total = total + 1, customer_id = 201 WHERE id = 10",
            "DELETE FROM orders WHERE id IN (11, 12, 13)",
            "INSERT INTO orders (customer_id, total, note) SELECT 1 + i % 50, i, 'burst ' || i "
            "FROM generate_series(1, 2000) i",
        )
        return ferry("cutover", bundle, "--timeout", "120")

    run_code, cutover_code = run_beside(bundle, monkeypatch, pg_db, while_following)
    out = capsys.readouterr()
    assert run_code == 0 and cutover_code == 0, out
    assert "row counts and checksums match" in out.out
    same_rows(pg_db, pg_db2)
    assert state(pg_db2) == "Succeeded"
    # The capture is gone from the source: no slot keeps its WAL.
    assert pg_query(
        pg_db, "SELECT count(*) FROM pg_replication_slots WHERE database = current_database()"
    ) == [(0,)]
