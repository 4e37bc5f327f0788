"""Transforms on the way: hashed keys still join, encrypted values decrypt, masks keep the shape."""

from __future__ import annotations

from ferry.api.migration import CopySpec, Transform
from ferry.copy import CopyJob, Endpoints, plan_units, run_units, validate
from ferry.copy.transforms import decrypt
from harness.databases import Database
from integration.copy.helpers import (
    DictSecrets,
    mysql_endpoint,
    mysql_exec,
    pg_endpoint,
    pg_exec,
    pg_rows,
    table_mapping,
)

HMAC_KEY = "pepper-for-tests"
AES_KEY = "0123456789abcdef0123456789abcdef"  # 32 bytes: AES-256
SECRETS = DictSecrets({("pii", "hmac"): HMAC_KEY, ("pii", "aes"): AES_KEY})


def _hash(column: str) -> Transform:
    return Transform.model_validate(
        {"column": column, "type": "hash", "keySecretRef": {"name": "pii", "key": "hmac"}}
    )


ENCRYPT = Transform.model_validate(
    {"column": "ssn", "type": "encrypt", "keySecretRef": {"name": "pii", "key": "aes"}}
)
MASK = Transform.model_validate({"column": "card", "type": "mask", "keepLast": 4, "maskChar": "#"})
NULLIFY = Transform.model_validate({"column": "note", "type": "null"})

TARGET_DDL = (
    "CREATE TABLE customers (id integer PRIMARY KEY, email text, card varchar(19), ssn bytea, note text)",
    "CREATE TABLE orders (id integer PRIMARY KEY, customer_email text, total numeric(10,2))",
)


async def _copy_and_check(job: CopyJob, source_types: dict[str, str], target: Database) -> None:
    customers = table_mapping(
        "customers",
        [("id", source_types["int"], "integer"), ("email", source_types["text"], "text"),
         ("card", source_types["text"], "varchar(19)"), ("ssn", source_types["text"], "bytea"),
         ("note", source_types["text"], "text")],
        transforms={"email": _hash("email"), "card": MASK, "ssn": ENCRYPT, "note": NULLIFY},
    )  # fmt: skip
    orders = table_mapping(
        "orders",
        [("id", source_types["int"], "integer"), ("customer_email", source_types["text"], "text"),
         ("total", source_types["money"], "numeric(10,2)")],
        transforms={"customer_email": _hash("customer_email")},
    )  # fmt: skip

    results = await run_units(job, await plan_units([customers, orders], job.endpoints.source, job.copy))

    assert results.ok, results.failed
    joined = "SELECT count(*) FROM orders o JOIN customers c ON c.email = o.customer_email"
    assert pg_rows(target, joined) == [(60,)]
    assert pg_rows(
        target, "SELECT count(*) FROM customers WHERE email LIKE '%@%' OR length(email) <> 64"
    ) == [(0,)]
    for card, ssn, note, cid in pg_rows(target, "SELECT card, ssn, note, id FROM customers ORDER BY id"):
        assert card == "#" * 15 + f"{cid:04d}" and len(card) == 19
        assert decrypt(AES_KEY, ssn) == f"123-45-{cid:04d}".encode()
        assert note is None
    checks = await validate(job, [customers, orders], checksum=True)
    assert all(c.ok and c.checksum_match for c in checks), checks


SOURCE_ROWS = [
    "INSERT INTO customers SELECT i, 'user' || i || '@example.com', "
    "'4111-1111-1111-' || lpad(i::text, 4, '0'), "
    "'123-45-' || lpad(i::text, 4, '0'), 'secret note' FROM generate_series(1, 30) i",
    "INSERT INTO orders SELECT i, 'user' || (1 + i % 30) || '@example.com', i * 1.25 "
    "FROM generate_series(1, 60) i",
]


async def test_pg_transforms_join_decrypt_and_mask(pg_db: Database, pg_db2: Database) -> None:
    customers = "CREATE TABLE customers (id integer PRIMARY KEY, email text, card text, ssn text, note text)"
    orders = "CREATE TABLE orders (id integer PRIMARY KEY, customer_email text, total numeric(10,2))"
    pg_exec(pg_db, customers, orders, *SOURCE_ROWS)
    pg_exec(pg_db2, *TARGET_DDL)
    job = CopyJob("pii", Endpoints(pg_endpoint(pg_db), pg_endpoint(pg_db2)), CopySpec(batch_size=7), SECRETS)
    await _copy_and_check(job, {"int": "integer", "text": "text", "money": "numeric(10,2)"}, pg_db2)


async def test_mariadb_transforms_join_decrypt_and_mask(mariadb_db: Database, pg_db: Database) -> None:
    mysql_exec(
        mariadb_db,
        "CREATE TABLE customers (id INT PRIMARY KEY, email VARCHAR(80), card VARCHAR(19), ssn VARCHAR(11), "
        "note TEXT)",
        "CREATE TABLE orders (id INT PRIMARY KEY, customer_email VARCHAR(80), total DECIMAL(10,2))",
        "INSERT INTO customers WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 30) "
        "SELECT i, CONCAT('user', i, '@example.com'), CONCAT('4111-1111-1111-', LPAD(i, 4, '0')), "
        "CONCAT('123-45-', LPAD(i, 4, '0')), 'secret note' FROM s",
        "INSERT INTO orders WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 60) "
        "SELECT i, CONCAT('user', 1 + i % 30, '@example.com'), i * 1.25 FROM s",
    )
    pg_exec(pg_db, *TARGET_DDL)
    job = CopyJob(
        "pii", Endpoints(mysql_endpoint(mariadb_db), pg_endpoint(pg_db)), CopySpec(batch_size=7), SECRETS
    )
    await _copy_and_check(job, {"int": "int(11)", "text": "varchar(80)", "money": "decimal(10,2)"}, pg_db)
