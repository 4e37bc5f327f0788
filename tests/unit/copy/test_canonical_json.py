"""The canonical text of JSON (ferry.copy.canonical) through orjson is exactly the text json gave
before: the same checksums, the same stored table digests, only faster."""

from __future__ import annotations

import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ferry.copy import canonical
from ferry.copy.canonical import canonical_for


def before(v: object) -> str:
    """The canonical JSON text as ferry.copy.canonical computed it with json alone."""
    try:
        doc = json.loads(v) if isinstance(v, str | bytes) else v
    except ValueError:
        return str(v)
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
keys = st.one_of(
    st.text(max_size=6), st.text(surrogates, max_size=2), st.sampled_from(["a", "B", "é", "😀", ""])
)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-(2**70), 2**70), st.floats(),
    st.floats(min_value=-1e-3, max_value=1e-3), st.text(), st.text(surrogates, max_size=3),
)  # fmt: skip
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=20,
)


@st.composite
def spelled(draw: st.DrawFn) -> str:
    """A document written as a database or an application might: any key order, spacing, escapes."""
    doc = draw(documents)
    indent = draw(st.sampled_from([None, 0, 2]))
    separators = draw(st.sampled_from([None, (",", ":"), (", ", ": ")]))
    return json.dumps(doc, ensure_ascii=draw(st.booleans()), indent=indent, separators=separators)


@settings(max_examples=600, deadline=None)
@given(
    st.one_of(spelled(), st.text(), st.binary(), spelled().map(lambda s: s.encode("utf-8", "surrogatepass")))
)
@example('{"b":1,"a":[1.0,1e-7,0.00001,9.99e-05,0.0001,1e16,1e+300,-0.0,5e-324]}')
@example("18446744073709551616")  # beyond 64 bits: orjson reads a float
@example("-9223372036854775809")
@example('{"a":1,"a":2}')  # the last of a duplicated key
@example("NaN")
@example("1E400")
@example('"\\ud800"')
@example("-0")
@example('{"\\u001f":"\\u0000\\n\\t\\u007f\\u2028","é":1,"e":2,"😀":3,"\\uffff":4}')
@example(b"\xff")
def test_orjson_gives_the_text_json_gave(value: str | bytes) -> None:
    # A lone surrogate stays in the text on both paths (json keeps it; orjson refuses and hands over).
    assert canonical_for("jsonb")(value) == before(value)


def test_ordinary_documents_take_orjson(monkeypatch: pytest.MonkeyPatch) -> None:
    def slow(v: object) -> str:
        raise AssertionError(f"json was used for {v!r}")

    monkeypatch.setattr(canonical, "_as_json_slow", slow)
    doc = '{"sku": 1234, "qty": 3, "gift": false, "name": "Grüße 😀", "price": 12.5, "tags": [], "n": null}'
    assert (
        canonical_for("json")(doc)
        == '{"gift":false,"n":null,"name":"Grüße 😀","price":12.5,"qty":3,"sku":1234,"tags":[]}'
    )
