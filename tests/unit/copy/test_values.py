"""Values in transit: checkpoint key codec, COPY text rendering, checksum canonical forms."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from ferry.copy.canonical import canonical_for
from ferry.copy.keys import decode_key, encode_key
from ferry.copy.render import copy_line

key_values = st.one_of(
    st.integers(), st.text(), st.binary(), st.decimals(allow_nan=False, allow_infinity=False),
    st.datetimes(), st.dates(), st.floats(allow_nan=False),
)  # fmt: skip


@given(st.lists(key_values, min_size=1, max_size=3))
def test_checkpoint_keys_round_trip_through_json(values: list[object]) -> None:
    assert decode_key(encode_key(values)) == tuple(values)


def test_copy_text_escapes_what_the_format_reserves() -> None:
    line = copy_line([1, "a\tb\nc\\d", None, b"\x00\xff", True, dt.timedelta(hours=30, seconds=1)])
    assert line == "1\ta\\tb\\nc\\\\d\t\\N\t\\\\x00ff\tt\t30:00:01\n"


def test_canonical_forms_agree_across_engines() -> None:
    assert canonical_for("boolean")(1) == canonical_for("boolean")(True) == canonical_for("boolean")("true")
    assert canonical_for("numeric(12,2)")(Decimal("1.50")) == canonical_for("numeric(12,2)")("1.5")
    naive = dt.datetime(2024, 1, 2, 3, 4, 5)
    aware = dt.datetime(2024, 1, 2, 5, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert canonical_for("timestamptz")(naive) == canonical_for("timestamptz")(aware)
    assert canonical_for("timestamptz")("2024-01-02 03:04:05+00") == canonical_for("timestamptz")(naive)
    assert canonical_for("jsonb")('{"b": 1, "a": [1, 2]}') == canonical_for("jsonb")('{"a":[1,2],"b":1}')
    assert canonical_for("time")(dt.timedelta(hours=1, minutes=2)) == canonical_for("time")(dt.time(1, 2))
    assert canonical_for("bytea")(b"\x01") == canonical_for("bytea")("\\x01")


def test_canonical_forms_still_tell_real_differences_apart() -> None:
    assert canonical_for("numeric")(Decimal("1.5")) != canonical_for("numeric")(Decimal("1.51"))
    assert canonical_for("jsonb")('{"a": 1}') != canonical_for("jsonb")('{"a": "1"}')
    assert canonical_for("text")("a") != canonical_for("text")("A")
