"""`ferry run` from MariaDB with zeroDates (issue 11): error keeps NOT NULL and stops the copy at
the batch holding a zero date, naming table and column but no value; null writes NULL."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest

from ferry.cli import local_steps
from ferry.cli.main import main
from harness.databases import Database
from integration.copy.helpers import mysql_exec, pg_exec, pg_rows
from integration.copy.test_cli_run import _bundle, _run

pytestmark = pytest.mark.integration

# Ten rows, three to a batch: (-, 3], (3, 6], (6, 9], (9, 10]. Row 7 holds the zero date.
HAPPENED = {i: "0000-00-00 00:00:00" if i == 7 else f"2024-03-{i:02d} 10:00:00" for i in range(1, 11)}
EVENTS = (
    """CREATE TABLE events (id int NOT NULL PRIMARY KEY, happened datetime NOT NULL,
      day date NOT NULL, title varchar(40) NOT NULL)""",
    "INSERT INTO events VALUES "
    + ", ".join(f"({i}, '{at}', '2024-03-{i:02d}', 't{i}')" for i, at in HAPPENED.items()),
)


def _zero_dates(columns: str = "", copy_wide: str = "", transform: bool = False) -> dict[str, str]:
    override = [f"zeroDates: {{{columns}}}"] if columns else []
    if transform:  # a transformed column sends the table down the row path
        override.append("transforms: [{column: title, type: mask, keepFirst: 1}]")
    extra = "tables:\n  overrides:\n    - name: events\n" + "".join(f"      {o}\n" for o in override)
    copy = "batchSize: 3, parallelism: 1" + (f", zeroDates: {copy_wide}" if copy_wide else "")
    return {"extra": textwrap.indent(extra, "  ") if override else "", "copy": copy}


def _nullable(target: Database) -> dict[str, str]:
    rows = pg_rows(
        target,
        "SELECT column_name, is_nullable FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name = 'events'",
    )
    return {str(name): str(nullable) for name, nullable in rows}


def test_error_on_a_column_without_zero_dates_keeps_not_null_and_null_stays_the_default(
    mariadb_db: Database,
    pg_db2: Database,
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    mysql_exec(mariadb_db, *EVENTS)
    bundle = _bundle(mariadb_db, pg_db2, **_zero_dates("day: error"))

    assert _run(tmp_path, bundle, monkeypatch, mariadb_db.password) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    assert "checksum ok" in out and "MISMATCH" not in out
    # day keeps NOT NULL; happened (the default, null) accepts NULL and holds it for row 7.
    assert _nullable(pg_db2) == {"id": "NO", "happened": "YES", "day": "NO", "title": "NO"}
    assert pg_rows(pg_db2, "SELECT id FROM events WHERE happened IS NULL") == [(7,)]
    assert pg_rows(pg_db2, "SELECT count(*) FROM events WHERE day IS NOT NULL") == [(10,)]

    # A zero date written on the source after the copy: validation's checksum, which converts
    # as the copy does, stops on it too and names table and column, not the value.
    mysql_exec(mariadb_db, "UPDATE events SET day = '0000-00-00' WHERE id = 3")
    assert _run(tmp_path, bundle, monkeypatch, mariadb_db.password) == 1
    captured = capsys.readouterr()
    output = " ".join((captured.out + captured.err).split())
    assert "table events: column day holds a zero date (zeroDates: error), found by the checksum" in output
    assert "0000" not in output


@pytest.mark.parametrize(
    "path",
    [_zero_dates("happened: error"), _zero_dates(copy_wide="error", transform=True)],
    ids=["csv", "rows"],
)
def test_error_on_a_column_holding_a_zero_date_fails_the_batch_and_names_no_value(
    path: dict[str, str],
    mariadb_db: Database,
    pg_db2: Database,
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    mysql_exec(mariadb_db, *EVENTS)

    assert _run(tmp_path, _bundle(mariadb_db, pg_db2, **path), monkeypatch, mariadb_db.password) == 1
    captured = capsys.readouterr()
    output = " ".join((captured.out + captured.err).split())  # the console wraps lines
    assert "table events: column happened holds a zero date (zeroDates: error)" in output, output
    assert "from key (6) (excluded) to key (9)" in output, output
    assert "0000" not in output and "t7" not in output
    # The target keeps NOT NULL; the batches before the failing one are committed, none of it is.
    assert _nullable(pg_db2)["happened"] == "NO"
    assert pg_rows(pg_db2, "SELECT id FROM events ORDER BY id") == [(i,) for i in range(1, 7)]


def test_the_csv_path_refuses_a_zero_date_even_into_a_text_column_the_user_made(
    mariadb_db: Database,
    pg_db2: Database,
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    mysql_exec(mariadb_db, *EVENTS)
    # The target table exists with happened as text (schema mode create leaves it as is): the
    # target would accept the CSV path's marker, so the worker must find it first.
    pg_exec(
        pg_db2,
        "CREATE TABLE events (id integer PRIMARY KEY, happened text NOT NULL, day date NOT NULL, "
        "title varchar(40) NOT NULL)",
    )

    bundle = _bundle(mariadb_db, pg_db2, **_zero_dates("happened: error"))
    assert _run(tmp_path, bundle, monkeypatch, mariadb_db.password) == 1
    captured = capsys.readouterr()
    output = " ".join((captured.out + captured.err).split())
    assert "table events: column happened holds a zero date (zeroDates: error)" in output, output
    assert pg_rows(pg_db2, "SELECT id FROM events ORDER BY id") == [(i,) for i in range(1, 7)]
    assert pg_rows(pg_db2, "SELECT count(*) FROM events WHERE happened LIKE 'ferry%'") == [(0,)]


def test_by_default_a_not_null_column_without_zero_dates_keeps_not_null_and_a_later_one_fails(
    mariadb_db: Database,
    pg_db2: Database,
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    """Read at planning: `day` holds no zero date (NOT NULL kept), `happened` holds one (relaxed,
    and the plan says why). A zero date written into `day` after the plan, before the copy reads
    it, fails the batch like zeroDates: error, naming table, column and key range."""
    mysql_exec(mariadb_db, *EVENTS)
    real_plan = local_steps.plan_migration

    def plan_then_write(*args: Any, **kwargs: Any) -> Any:
        planned = real_plan(*args, **kwargs)
        mysql_exec(mariadb_db, "UPDATE events SET day = '0000-00-00' WHERE id = 8")  # an application write
        return planned

    monkeypatch.setattr(local_steps, "plan_migration", plan_then_write)
    assert _run(tmp_path, _bundle(mariadb_db, pg_db2, **_zero_dates()), monkeypatch, mariadb_db.password) == 1
    captured = capsys.readouterr()
    output = " ".join((captured.out + captured.err).split())
    assert "table events: column day holds a zero date" in output, output
    assert "column held no zero date when the plan was made" in output, output
    assert "from key (6) (excluded) to key (9)" in output, output
    assert _nullable(pg_db2) == {"id": "NO", "happened": "YES", "day": "NO", "title": "NO"}
    assert pg_rows(pg_db2, "SELECT id FROM events ORDER BY id") == [(i,) for i in range(1, 7)]

    # The next plan reads the zero date and relaxes day, saying why.
    monkeypatch.setattr(local_steps, "plan_migration", real_plan)
    bundle = tmp_path / "plan.yaml"
    bundle.write_text(_bundle(mariadb_db, pg_db2, **_zero_dates()))
    capsys.readouterr()
    assert main(["plan", "-f", str(bundle), "--secrets-from-env", "--output", "json"]) in (0, 2)
    plan = json.loads(capsys.readouterr().out)
    details = [op["detail"] for op in plan["operations"] if op["kind"] == "convert_values"]
    relaxed = "(NOT NULL not kept: it holds zero dates)"
    assert details == [f"columns happened {relaxed}, day {relaxed}"]
