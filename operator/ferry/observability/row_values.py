"""Remove row values from database error text before it leaves the process.

A copy or apply error is about a row, and the engines quote the row's value in the message:
`invalid input syntax for type integer: "4111 1111 1111 1111"`, `Key (email)=(bob@example.com)
already exists`, MySQL's `Duplicate entry 'bob@example.com' for key 'email'`. Those values are
what a `transform` exists to protect, and status, events and logs are readable by far more people
than the tables. So the value is replaced by `…` and the rest kept: the table, the column, the
type, the constraint and the error code say what went wrong; Ferry adds the key range itself.

The patterns target the messages that carry values; identifiers stay (PostgreSQL double-quotes
identifiers too, so a blanket "strip quoted text" would remove the table names that make the
error useful).
"""

from __future__ import annotations

import re

HIDDEN = "…"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # PostgreSQL: invalid input syntax for type integer: "abc" / invalid input value for enum mood: "x"
    # / date/time field value out of range: "..." / value "..." is out of range for type ...
    (
        re.compile(
            r"((?:invalid input (?:syntax|value) for (?:type )?[^:]+|out of range|"
            r'invalid value for [^:]+|malformed [^:]+ literal):\s*)"(?:[^"]|"")*"'
        ),
        rf'\1"{HIDDEN}"',
    ),
    (re.compile(r'(\bvalue )"(?:[^"]|"")*"( is out of range)'), rf'\1"{HIDDEN}"\2'),
    # PostgreSQL DETAIL: Key (email)=(bob@example.com) already exists / is not present in table
    (re.compile(r"(\bKey \([^)]*\)=)\((?:[^()]|\([^()]*\))*\)"), rf"\1({HIDDEN})"),
    # PostgreSQL DETAIL: Failing row contains (1, bob, ...)
    (re.compile(r"(Failing row contains )\(.*\)", re.DOTALL), rf"\1({HIDDEN})"),
    # PostgreSQL CONTEXT of COPY: COPY t, line 3, column c: "value"
    (re.compile(r'(\bCOPY [^,]+, line \d+(?:, column [^:]+)?:\s*)"(?:[^"]|"")*"'), rf'\1"{HIDDEN}"'),
    (re.compile(r'(\bCOPY [^,]+, line \d+:\s*)"(?:[^"]|"")*"'), rf'\1"{HIDDEN}"'),
    # PostgreSQL: invalid byte sequence for encoding "UTF8": 0xe9 0x20
    (re.compile(r"(invalid byte sequence for encoding \"[^\"]+\":\s*)(?:0x[0-9a-f]{2}\s*)+"), rf"\1{HIDDEN}"),
    # MySQL/MariaDB: Duplicate entry 'x' for key / Incorrect integer value: 'x' for column /
    # Truncated incorrect DOUBLE value: 'x' / Data too long ... (no value) / Cannot add ... 'x'
    (re.compile(r"(Duplicate entry )'(?:[^'\\]|\\.|'')*'"), rf"\1'{HIDDEN}'"),
    (
        re.compile(r"((?:Incorrect|Truncated incorrect) [\w ]+ value:?\s*)'(?:[^'\\]|\\.|'')*'"),
        rf"\1'{HIDDEN}'",
    ),
)


def without_row_values(text: str) -> str:
    """`text` with the row values engines quote in their errors replaced by `…`."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
