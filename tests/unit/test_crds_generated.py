"""The committed CRDs are exactly what the pydantic models generate (no hand edits, no drift)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ferry.api.crd import all_crds
from ferry.api.generate import render

CRD_DIR = Path(__file__).resolve().parents[2] / "crds"
GENERATED = all_crds()


@pytest.mark.parametrize("file_name", sorted(GENERATED))
def test_committed_crd_matches_the_models(file_name: str) -> None:
    committed = CRD_DIR / file_name
    assert committed.exists(), f"{committed} is missing: run `make crds` and commit the result"
    assert committed.read_text() == render(GENERATED[file_name]), (
        f"{committed} differs from what operator/ferry/api generates: run `make crds` and commit the result"
    )


def test_no_stale_crd_files() -> None:
    stale = sorted({path.name for path in CRD_DIR.glob("*.yaml")} - set(GENERATED))
    assert not stale, f"crds/ holds files no model generates: {stale}; delete them (or run `make crds`)"
