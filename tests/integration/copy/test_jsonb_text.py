"""The Python rendering of jsonb's text (ferry.copy.jsonb_text) is exactly what a real PostgreSQL
prints: random JSON texts (unicode, escapes, control characters, nesting, duplicate keys, big and
small numbers, exponents, -0, 1.0 against 1, odd spacing) go in as jsonb and `x::text` must equal
the rendering; where the rendering declines (None), it is for a reason the module names."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import psycopg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ferry.copy.jsonb_text import jsonb_text
from harness.databases import Database

NUMBER = r"-?(0|[1-9][0-9]{0,25})(\.[0-9]{1,14})?([eE][+-]?[0-9]{1,4})?"
numbers = st.from_regex(NUMBER, fullmatch=True) | st.sampled_from(
    ["-0", "-0.0", "0.000", "1.0", "1", "1.50", "1e2", "1E+2", "1.5e-3", "-0e5", "0.0e-7", "123e-1"]
)
texts = st.text(max_size=8) | st.sampled_from(["", "a", "ab", "é", "😀", "\x7f", "\u2028", '"\\/', "\x1f\n"])


def _string(s: str, ascii_only: bool) -> str:
    return json.dumps(s, ensure_ascii=ascii_only)


@st.composite
def strings(draw: st.DrawFn) -> str:
    return _string(draw(texts), draw(st.booleans()))


scalars = st.one_of(st.sampled_from(["true", "false", "null"]), numbers, strings())
spaces = st.sampled_from(["", " ", "\n\t ", "  "])


@st.composite
def containers(draw: st.DrawFn, inner: st.SearchStrategy[str]) -> str:
    gap = draw(spaces)
    items = draw(st.lists(inner, max_size=4))
    if draw(st.booleans()):
        return "[" + f"{gap},{gap}".join(items) + "]"
    names = strings() | st.sampled_from(['"a"', '"b"', '"aa"', '"é"', '"z"'])  # duplicates likely
    keys = draw(st.lists(names, min_size=len(items), max_size=len(items)))
    return "{" + gap + ",".join(f"{k}{gap}:{v}" for k, v in zip(keys, items, strict=True)) + "}"


documents = st.recursive(scalars, lambda inner: containers(inner), max_leaves=16)


def _declines_for_a_reason(text: str) -> bool:
    exponents = [int(m) for m in re.findall(r"[0-9][eE]([+-]?[0-9]+)", text)]
    return "\\u0000" in text or "\\u0001" in text or any(abs(e) > 900 for e in exponents)


@pytest.fixture
def pg(pg_db: Database) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(pg_db.libpq_dsn(), autocommit=True) as conn:
        yield conn


def _pg_text(conn: psycopg.Connection[tuple[object, ...]], text: str) -> str | None:
    try:
        row = conn.execute("SELECT %s::jsonb::text", (text,)).fetchone()
    except psycopg.Error:
        return None  # jsonb refused it (\u0000, numbers beyond numeric): the copy could not write it
    assert row is not None
    return str(row[0])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=documents)
@example(text='{"b": 1, "a": 2, "aa": {"b": [1.0, 1, -0, -0.0, 1e2, 1.5E-3]}, "a": 3}')
@example(text='{"é": "\\u00e9\\ud83d\\ude00", "z": "\\u001f\\b\\f\\n\\r\\t\\"\\\\\\/\\u007f"}')
@example(text="[12345678901234567890123456789, 0.000000000000000000001, 1e-20, 1.0e20, 9.99e999]")
@example(text='{"bb": {"é\\u00e9": "\\u001f\\b\\f\\n\\r\\t\\"\\\\\\u007f\u2028 😀"}, "a": [-0, 2]}')
@example(text='[-9223372036854775809, 18446744073709551615, 18446744073709551616, "a,b", "c:d"]')
@example(text='"\\u0000"')
@example(text='{"x": "\\u0001"}')
@example(text="[1e1001, 1e-1001]")
@example(text="[NaN]")
@example(text='"\\ud800"')
def test_rendering_is_postgresqls_jsonb_text(pg: psycopg.Connection[tuple[object, ...]], text: str) -> None:
    rendered = jsonb_text(text)
    expected = _pg_text(pg, text)
    if rendered is None:
        assert expected is None or _declines_for_a_reason(text), text
    else:
        assert rendered == expected, text
