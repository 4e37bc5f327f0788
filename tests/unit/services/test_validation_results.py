"""Reading a validation Job's stored results: complete shares only, and the report the status shows."""

from __future__ import annotations

import pytest

from ferry.copy.validate_ranges import summarize
from ferry.copy.validation_store import RangeResult
from ferry.services.validation import IncompleteValidation, _complete, _share_marker, report_of


def _range(table: str, part: int, source: int, target: int, match: bool | None = True) -> RangeResult:
    difference = None if match is not False else f"keys ({part * 100 + 1}) .. ({part * 100 + 100})"
    return RangeResult(f"{table}#{part + 1}/2", table, part, "[]", source, target, match, difference)


STORED = [
    _range("public.a", 0, 100, 100),
    _range("public.a", 1, 100, 100, match=False),
    _range("public.b", 0, 5, 5),
    _share_marker(0, 2, 2),
    _share_marker(1, 2, 1),
]


def test_the_report_of_complete_results_names_the_first_differing_range_per_table() -> None:
    report = report_of(summarize(_complete(STORED)))
    assert not report.ok and report.mismatched == ["public.a#2/2"]
    assert report.per_table == {
        "public.a": "checksum differs at keys (101) .. (200)",
        "public.b": "ok: rows and checksum match",
    }
    assert report.summary == (
        "1 of 2 tables differ; first: public.a (source 200 rows, target 200, "
        "first differing range keys (101) .. (200))"
    )


@pytest.mark.parametrize(
    "stored",
    [
        STORED[:-1],  # pod 1 never said its share was stored
        [r for r in STORED if r.table != "public.b"],  # a range missing from a finished share
        STORED[:3],  # no pod finished
    ],
    ids=["a-share-missing", "a-range-missing", "nothing-finished"],
)
def test_results_with_a_share_or_a_range_missing_are_not_a_verdict(stored: list[RangeResult]) -> None:
    with pytest.raises(IncompleteValidation, match="pods recorded their share"):
        _complete(stored)


def test_shares_taken_from_different_plans_are_not_a_verdict() -> None:
    """Two pods that planned different ranges (the source changed between their plans) may have
    stored as many ranges as their shares hold and still not cover the table."""
    ranges = [r for r in STORED if not r.range_id.startswith("~")]
    same = [*ranges, _share_marker(0, 2, 2, "1a2b"), _share_marker(1, 2, 1, "1a2b")]
    assert _complete(same) == ranges
    with pytest.raises(IncompleteValidation, match="planned different key ranges"):
        _complete([*ranges, _share_marker(0, 2, 2, "1a2b"), _share_marker(1, 2, 1, "3c4d")])


def test_repaired_ranges_show_in_the_message_and_the_table_entry() -> None:
    fixed = [_range("public.a", 0, 100, 100), RangeResult("public.a#2/2", "public.a", 1, "[]", 100, 100, True,
             None, repaired=True), _share_marker(0, 1, 2)]  # fmt: skip
    report = report_of(summarize(_complete(fixed)))
    assert report.ok and report.repaired == ["public.a#2/2"]
    assert (
        report.summary == "1 tables, 200 rows copied; row counts and checksums match; repaired 1 key ranges"
    )
    assert report.per_table["public.a"] == "ok: rows and checksum match (repaired 1 key ranges)"
