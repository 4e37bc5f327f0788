"""docs/schema.md shows the type rules as they are in code."""

from __future__ import annotations

from pathlib import Path

from ferry.schema.typerules_doc import render_table

DOC = Path(__file__).resolve().parents[3] / "docs" / "schema.md"


def test_docs_type_table_matches_the_rules() -> None:
    assert render_table() in DOC.read_text(), (
        "docs/schema.md is out of date: run python -c 'from ferry.schema.typerules_doc import update' "
        "(update(text) rewrites the generated block)"
    )
