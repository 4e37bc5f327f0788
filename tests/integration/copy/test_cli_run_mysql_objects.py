"""`ferry run` of MariaDB objects beyond tables into PostgreSQL (issue 11, "nothing silent"):
the application reads a translated view and a generated column on the target, TIME durations
arrive as intervals, BIT(n), YEAR, SET and ENUM values arrive exact, and what is not carried
(a trigger, a procedure, a view sqlglot cannot translate exactly) is named by the plan."""

from __future__ import annotations

import json

import pytest

from ferry.cli.main import main
from harness.databases import Database
from integration.copy.helpers import mysql_exec, pg_exec, pg_rows
from integration.copy.test_cli_run import _bundle, _run

pytestmark = pytest.mark.integration

SHOP = (
    """CREATE TABLE customers (id int PRIMARY KEY, first_name varchar(40) NOT NULL,
      last_name varchar(40) NOT NULL, active tinyint(1) NOT NULL DEFAULT 1,
      full_name varchar(81) AS (concat(first_name, ' ', last_name)) VIRTUAL)""",
    """CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL, price decimal(10,2) NOT NULL,
      qty int NOT NULL, total decimal(12,2) AS (price * qty) STORED,
      note_bytes int AS (length(first_note)) VIRTUAL, first_note varchar(20),
      FOREIGN KEY (customer_id) REFERENCES customers (id))""",
    "CREATE VIEW active_customers AS SELECT id, full_name FROM customers WHERE active = 1",
    """CREATE VIEW customer_totals AS SELECT c.id, c.full_name, count(o.id) AS orders,
      sum(o.total) AS spent FROM active_customers c LEFT JOIN orders o ON o.customer_id = c.id
      GROUP BY c.id, c.full_name""",
    "CREATE VIEW note_sizes AS SELECT id, length(first_note) AS bytes FROM orders",
    "CREATE TRIGGER orders_qty BEFORE INSERT ON orders FOR EACH ROW SET NEW.qty = GREATEST(NEW.qty, 1)",
    "CREATE PROCEDURE reset_orders() DELETE FROM orders",
    "INSERT INTO customers (id, first_name, last_name, active) VALUES (1, 'Ada', 'Lovelace', 1), "
    "(2, 'Bob', 'Byte', 0), (3, 'Cy', 'Ng', 1)",
    "INSERT INTO orders (id, customer_id, price, qty, first_note) VALUES (1, 1, 2.50, 4, 'héllo'), "
    "(2, 1, 10.00, 1, NULL), (3, 2, 1.00, 3, 'x')",
    """CREATE TABLE kinds (id int PRIMARY KEY, worked time(3), clock time, flags bit(5), wide bit(64),
      born year, colours set('red','green','blue'), size enum('s','m','x''l'))""",
    "INSERT INTO kinds VALUES (1, '838:59:59.000', '23:59:59', b'10110', "
    f"b'1{'0' * 62}1', 2155, 'red,blue', 'x''l'), "
    "(2, '-838:59:59.000', '00:00:00', b'00001', b'0', 1901, '', 's'), "
    "(3, '-00:00:01.250', NULL, NULL, NULL, NULL, NULL, NULL), "
    "(4, '25:00:00', '12:30:00', b'0', b'1', 0, 'green', 'm')",
    # Only numbers and times: this table takes the server-formatted CSV path of the copy.
    "CREATE TABLE durations (id int PRIMARY KEY, d time(6))",
    "INSERT INTO durations VALUES (1, '-838:59:59.000000'), (2, '100:00:00.000001'), (3, NULL)",
)


def test_views_generated_columns_and_exact_values_arrive(
    mariadb_db: Database,
    pg_db2: Database,
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    mysql_exec(mariadb_db, *SHOP)
    bundle = tmp_path / "plan.yaml"
    bundle.write_text(_bundle(mariadb_db, pg_db2))
    monkeypatch.setenv("FERRY_SECRET_SRC_CREDS_PASSWORD", mariadb_db.password)
    assert main(["plan", "-f", str(bundle), "--secrets-from-env", "--output", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    # The plan names what it does not carry, each object by name, and creates the views.
    warnings = "\n".join(plan["warnings"])
    for named in (
        "trigger orders_qty on table orders is not carried",
        "procedure reset_orders is not carried",
        "view note_sizes is not carried: OCTET_LENGTH",
        "generated column created as a plain column and its values copied: OCTET_LENGTH",
    ):
        assert named in warnings, named
    interval = next(w for w in plan["warnings"] if "created as interval" in w)
    assert interval.endswith(": durations.d, kinds.worked"), interval
    views = [op["table"] for op in plan["operations"] if op["kind"] == "create_view"]
    assert views == ["public.active_customers", "public.customer_totals"]

    assert _run(tmp_path, _bundle(mariadb_db, pg_db2), monkeypatch, mariadb_db.password) == 0, (
        capsys.readouterr()
    )
    out = capsys.readouterr().out
    assert "MISMATCH" not in out and "checksum ok" in out
    # A rerun converges: the views and generated columns exist, nothing is planned again.
    assert _run(tmp_path, _bundle(mariadb_db, pg_db2), monkeypatch, mariadb_db.password) == 0

    # The application reads the translated views (a view over a view, TINYINT(1) compared with 1).
    assert pg_rows(pg_db2, "SELECT id, full_name, orders, spent FROM customer_totals ORDER BY id") == [
        (1, "Ada Lovelace", 2, 20), (3, "Cy Ng", 0, None)
    ]  # fmt: skip
    # Generated columns are computed by PostgreSQL for new rows and updates; the untranslatable
    # one (MySQL's byte length) holds the copied values.
    pg_exec(pg_db2, "INSERT INTO orders (id, customer_id, price, qty) VALUES (4, 3, 3.25, 2)")
    pg_exec(pg_db2, "UPDATE customers SET last_name = 'King' WHERE id = 1")
    assert pg_rows(pg_db2, "SELECT id, total, note_bytes FROM orders ORDER BY id") == [
        (1, 10, 6), (2, 10, None), (3, 3, 1), (4, 6.5, None)
    ]  # fmt: skip
    assert pg_rows(pg_db2, "SELECT full_name FROM active_customers ORDER BY id") == [
        ("Ada King",),
        ("Cy Ng",),
    ]
    assert pg_rows(
        pg_db2,
        "SELECT attname FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attgenerated = 's'",
    ) == [("total",)]

    # TIME durations arrive whole as interval; a column of times of day stays time.
    assert pg_rows(pg_db2, "SELECT id, worked::text FROM kinds ORDER BY id") == [
        (1, "838:59:59"), (2, "-838:59:59"), (3, "-00:00:01.25"), (4, "25:00:00")
    ]  # fmt: skip
    assert pg_rows(
        pg_db2, "SELECT data_type FROM information_schema.columns WHERE table_name = 'kinds' "
        "AND column_name IN ('worked', 'clock') ORDER BY column_name",
    ) == [("time without time zone",), ("interval",)]  # fmt: skip
    assert pg_rows(pg_db2, "SELECT d::text FROM durations ORDER BY id") == [
        ("-838:59:59",), ("100:00:00.000001",), (None,)
    ]  # fmt: skip
    # BIT(n) bit-exact, YEAR, SET and ENUM values exact.
    assert pg_rows(
        pg_db2, "SELECT flags::text, wide::text, born, colours, size::text FROM kinds ORDER BY id"
    ) == [
        ("10110", "1" + "0" * 62 + "1", 2155, "red,blue", "x'l"),
        ("00001", "0" * 64, 1901, "", "s"),
        (None, None, None, None, None),
        ("00000", "0" * 63 + "1", 0, "green", "m"),
    ]
