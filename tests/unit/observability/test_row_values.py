"""Row values never leave the process in an error line; identifiers, types and constraints do."""

from __future__ import annotations

import pytest

from ferry.db.credentials import EnvSecretSource
from ferry.observability.errors import describe, first_line
from ferry.observability.row_values import without_row_values

SECRET = "4111 1111 1111 1111"

# Messages as PostgreSQL 15 and MariaDB 10.11 word them (first lines, DETAIL and CONTEXT lines).
CASES = [
    (f'invalid input syntax for type integer: "{SECRET}"', 'invalid input syntax for type integer: "…"'),
    (f'invalid input value for enum mood: "{SECRET}"', 'invalid input value for enum mood: "…"'),
    (f'date/time field value out of range: "{SECRET}"', 'date/time field value out of range: "…"'),
    (f'value "{SECRET}" is out of range for type integer', 'value "…" is out of range for type integer'),
    (f"Key (card)=({SECRET}) already exists.", "Key (card)=(…) already exists."),
    (f'Key (a, b)=(1, f({SECRET})) is not present in table "p".',
     'Key (a, b)=(…) is not present in table "p".'),
    (f"Failing row contains (1, {SECRET}, null).", "Failing row contains (…)."),
    (f'COPY items, line 3, column card: "{SECRET}"', 'COPY items, line 3, column card: "…"'),
    (f"Duplicate entry '{SECRET}' for key 'card'", "Duplicate entry '…' for key 'card'"),
    (f"Incorrect integer value: '{SECRET}' for column `db`.`t`.`n` at row 1",
     "Incorrect integer value: '…' for column `db`.`t`.`n` at row 1"),
    (f"Truncated incorrect DOUBLE value: '{SECRET}'", "Truncated incorrect DOUBLE value: '…'"),
    ('invalid byte sequence for encoding "UTF8": 0xe9 0x20', 'invalid byte sequence for encoding "UTF8": …'),
]  # fmt: skip


@pytest.mark.parametrize(("message", "expected"), CASES)
def test_values_are_hidden_and_the_rest_kept(message: str, expected: str) -> None:
    assert without_row_values(message) == expected


@pytest.mark.parametrize(
    "message",
    [
        'relation "public.items" does not exist',
        'duplicate key value violates unique constraint "items_card_key"',
        'null value in column "card" of relation "items" violates not-null constraint',
        "Table 'shop.items' doesn't exist",
    ],
)
def test_messages_without_values_are_untouched(message: str) -> None:
    assert without_row_values(message) == message


def test_first_line_and_describe_hide_row_values() -> None:
    error = ValueError(f'invalid input syntax for type integer: "{SECRET}"')
    assert SECRET not in first_line(error)
    assert SECRET not in describe(error)
    assert "integer" in describe(error)


def test_the_worker_knows_every_secret_it_was_given() -> None:
    source = EnvSecretSource(
        {"FERRY_SECRET_DB_PASSWORD": "pw-1", "FERRY_SECRET_KEYS_HMAC": "k-2", "HOME": "/x"}
    )
    assert sorted(source.values()) == ["k-2", "pw-1"]
