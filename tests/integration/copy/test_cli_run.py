"""`ferry run -f bundle.yaml`: plan, schema, copy and validate without a cluster; reruns resume."""

from __future__ import annotations

import textwrap

import pytest

from ferry.cli.main import main
from harness.databases import Database
from harness.datasets import load_chinook
from integration.copy.helpers import PG_FOREIGN_KEYS, mysql_rows, pg_exec, pg_rows

CHINOOK_ROWS = 15607


def _bundle(
    source: Database,
    target: Database,
    *,
    read_only: bool = False,
    extra: str = "",
    mode: str = "create",
    copy: str = "batchSize: 400, parallelism: 2",
) -> str:
    src_engine = "postgresql" if source.engine == "postgresql" else "mariadb"
    dst_engine = "postgresql" if target.engine == "postgresql" else "mariadb"
    target_schema = ", schema: public" if target.engine == "postgresql" else ""
    return (
        textwrap.dedent(f"""\
        apiVersion: v1
        kind: Secret
        metadata: {{name: src-creds}}
        stringData: {{username: {source.user}}}
        ---
        apiVersion: v1
        kind: Secret
        metadata: {{name: dst-creds}}
        stringData: {{username: {target.user}, password: {target.password}}}
        ---
        apiVersion: v1
        kind: Secret
        metadata: {{name: pii}}
        stringData: {{hmac: pepper}}
        ---
        apiVersion: ferry.dev/v1alpha1
        kind: DatabaseConnection
        metadata: {{name: legacy}}
        spec: {{engine: {src_engine}, host: {source.host}, port: {source.port}, database: {source.name},
               credentialsSecretRef: {{name: src-creds}}, readOnly: true}}
        ---
        apiVersion: ferry.dev/v1alpha1
        kind: DatabaseConnection
        metadata: {{name: modern}}
        spec: {{engine: {dst_engine}, host: {target.host}, port: {target.port}, database: {target.name},
               credentialsSecretRef: {{name: dst-creds}}, readOnly: {str(read_only).lower()}}}
        ---
        apiVersion: ferry.dev/v1alpha1
        kind: Migration
        metadata: {{name: shop}}
        spec:
          source: {{connectionRef: {{name: legacy}}}}
          target: {{connectionRef: {{name: modern}}{target_schema}}}
          schema: {{mode: {mode}}}
          copy: {{{copy}}}
          validation: {{rowCount: true, checksum: true}}
        """)
        + extra
    )


def _run(tmp_path, text: str, monkeypatch: pytest.MonkeyPatch, password: str) -> int:  # type: ignore[no-untyped-def]
    bundle = tmp_path / "bundle.yaml"
    bundle.write_text(text)
    monkeypatch.setenv("FERRY_SECRET_SRC_CREDS_PASSWORD", password)
    return main(["run", "-f", str(bundle), "--secrets-from-env", "--no-progress"])


def test_run_copies_chinook_from_mariadb_and_a_rerun_is_a_no_op(
    chinook_maria: Database,
    pg_db2: Database,
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    text = _bundle(chinook_maria, pg_db2, extra=textwrap.indent(textwrap.dedent("""\
        tables:
          overrides:
            - name: Customer
              transforms: [{column: Email, type: hash, keySecretRef: {name: pii, key: hmac}}]
        """), "  "))  # fmt: skip

    assert _run(tmp_path, text, monkeypatch, chinook_maria.password) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    assert f"{CHINOOK_ROWS:,} rows" in out and "MISMATCH" not in out and "checksum ok" in out

    tables = pg_rows(pg_db2, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
    assert tables == [(11,)]
    emails = pg_rows(
        pg_db2, 'SELECT count(*) FROM "Customer" WHERE "Email" LIKE \'%@%\' OR length("Email") <> 64'
    )
    assert emails == [(0,)]

    assert _run(tmp_path, text, monkeypatch, chinook_maria.password) == 0  # resumes: every unit is done
    assert pg_rows(pg_db2, 'SELECT count(*) FROM "Track"') == [(3503,)]


def test_run_resumes_after_an_interrupted_copy(
    chinook_pg: Database,
    pg_db2: Database,
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    text = _bundle(chinook_pg, pg_db2)
    assert _run(tmp_path, text, monkeypatch, chinook_pg.password) == 0, capsys.readouterr()
    # Simulate an interruption: forget the last batches of one table, as if they had never committed.
    pg_exec(pg_db2, "DELETE FROM invoice_line WHERE invoice_line_id > 1600",
            "UPDATE ferry._ferry_checkpoints SET last_key = '[\"1600\"]', rows_copied = 1600, done = false "
            "WHERE unit_id = 'public.invoice_line'")  # fmt: skip

    assert _run(tmp_path, text, monkeypatch, chinook_pg.password) == 0, capsys.readouterr()
    assert pg_rows(pg_db2, "SELECT count(*), count(DISTINCT invoice_line_id) FROM invoice_line") == [
        (2240, 2240)
    ]


def test_run_refuses_a_read_only_target(
    chinook_pg: Database,
    pg_db2: Database,
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    assert _run(tmp_path, _bundle(chinook_pg, pg_db2, read_only=True), monkeypatch, chinook_pg.password) == 2
    assert pg_rows(
        pg_db2, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
    ) == [(0,)]


DROP_KEYS = """DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT conrelid::regclass AS t, conname FROM pg_constraint
           WHERE connamespace = 'public'::regnamespace ORDER BY contype = 'p' LOOP
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.t, r.conname);
  END LOOP; END $$"""
KEY_COUNTS = (
    "SELECT contype, count(*) FROM pg_constraint WHERE connamespace = 'public'::regnamespace "
    "AND contype IN ('p', 'f') GROUP BY contype ORDER BY contype"
)


def test_a_rerun_in_mode_create_builds_the_keys_an_interruption_left_out(
    chinook_pg: Database,
    pg_db2: Database,
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    text = _bundle(chinook_pg, pg_db2)  # schema mode create
    assert _run(tmp_path, text, monkeypatch, chinook_pg.password) == 0, capsys.readouterr()
    keys = pg_rows(pg_db2, KEY_COUNTS)
    assert keys == [("f", 11), ("p", 11)]
    # Interrupted before the post-data: the rows are in, keys and foreign keys are not.
    pg_exec(pg_db2, DROP_KEYS)
    assert pg_rows(pg_db2, KEY_COUNTS) == []

    assert _run(tmp_path, text, monkeypatch, chinook_pg.password) == 0, capsys.readouterr()
    assert pg_rows(pg_db2, KEY_COUNTS) == keys


def test_a_target_that_has_the_tables_and_their_foreign_keys_loads_in_any_order(
    chinook_pg: Database,
    pg_db2: Database,
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    # The application's own schema, foreign keys included, already on the target: units start
    # largest first (invoice_line, playlist_track before invoice, track), two at a time.
    load_chinook(pg_db2)
    foreign_keys = pg_rows(pg_db2, PG_FOREIGN_KEYS)
    assert len(foreign_keys) == 11
    copy = "batchSize: 400, parallelism: 2, truncateTarget: true"
    # Emptying tables that hold rows is destructive: refused until the bundle allows it.
    assert (
        _run(tmp_path, _bundle(chinook_pg, pg_db2, mode="diff", copy=copy), monkeypatch, chinook_pg.password)
        == 2
    )
    assert "destructive operations" in capsys.readouterr().err
    text = _bundle(chinook_pg, pg_db2, mode="diff, allowDestructive: true", copy=copy)

    assert _run(tmp_path, text, monkeypatch, chinook_pg.password) == 0, capsys.readouterr()
    assert "checksum ok" in capsys.readouterr().out
    assert pg_rows(pg_db2, PG_FOREIGN_KEYS) == foreign_keys
    assert pg_rows(pg_db2, 'SELECT count(*) FROM ferry."_ferry_deferred_fks"') == [(0,)]


def test_run_creates_chinook_on_a_mariadb_target_with_its_keys(
    chinook_pg: Database,
    mariadb_db: Database,
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    text = _bundle(chinook_pg, mariadb_db)  # schema mode create: PostgreSQL DDL mapped to MariaDB

    assert _run(tmp_path, text, monkeypatch, chinook_pg.password) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    assert f"{CHINOOK_ROWS:,} rows" in out and "MISMATCH" not in out and "checksum ok" in out
    keys = mysql_rows(
        mariadb_db,
        "SELECT constraint_type, count(*) FROM information_schema.table_constraints "
        f"WHERE table_schema = '{mariadb_db.name}' AND table_name NOT LIKE '\\_ferry%' "
        "AND constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY') "
        "GROUP BY constraint_type ORDER BY constraint_type",
    )
    assert keys == [("FOREIGN KEY", 11), ("PRIMARY KEY", 11)]


def test_a_damaged_target_fails_validation_and_run_repair_copies_the_range_again(
    chinook_pg: Database,
    pg_db2: Database,
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    text = _bundle(chinook_pg, pg_db2)
    assert _run(tmp_path, text, monkeypatch, chinook_pg.password) == 0, capsys.readouterr()
    capsys.readouterr()
    # Rows other tables refer to (playlist_track, invoice_line → track): a repair must not delete them.
    pg_exec(pg_db2, "UPDATE track SET name = 'tampered' WHERE track_id = 7")

    assert _run(tmp_path, text, monkeypatch, chinook_pg.password) == 1
    out = " ".join(capsys.readouterr().out.split())  # the console wraps long lines
    assert (
        "public.track: source 3,503 target 3,503 checksum differs MISMATCH first difference: keys (1) .."
        in out
    )

    bundle = tmp_path / "bundle.yaml"
    assert main(["run", "-f", str(bundle), "--secrets-from-env", "--no-progress", "--repair"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "public.track: source 3,503 target 3,503 checksum ok ok (repaired 1 key ranges)" in out
    assert pg_rows(pg_db2, "SELECT name FROM track WHERE track_id = 7") == pg_rows(
        chinook_pg, "SELECT name FROM track WHERE track_id = 7"
    )
