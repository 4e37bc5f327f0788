"""docs/api.md is the reference of the CRDs as generated (a stale page fails here), and every
field of every CRD says what it is for."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ferry.api.crd import all_crds
from ferry.api.reference import render_reference

API_MD = Path(__file__).resolve().parents[2] / "docs" / "api.md"
CRDS = all_crds()


def test_the_committed_api_reference_is_current() -> None:
    assert API_MD.read_text() == render_reference(CRDS), (
        "docs/api.md differs from what the CRDs generate: run `make crds` and commit the result"
    )


def _fields(schema: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, child in schema.get("properties", {}).items():
        yield f"{path}.{name}", child
        yield from _fields(child, f"{path}.{name}")
    if isinstance(schema.get("items"), dict):
        yield from _fields(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _fields(schema["additionalProperties"], f"{path}[*]")


@pytest.mark.parametrize("file_name", sorted(CRDS))
def test_every_field_has_a_description(file_name: str) -> None:
    [version] = CRDS[file_name]["spec"]["versions"]
    root = version["schema"]["openAPIV3Schema"]
    assert root.get("description")
    # `metadata` may hold nothing but its type: the apiserver refuses a description there.
    fields = [(path, field) for path, field in _fields(root, "") if path != ".metadata"]
    missing = [path for path, field in fields if not str(field.get("description", "")).strip()]
    assert missing == [], (
        f"fields without a description (Field(description=...) in operator/ferry/api): {missing}"
    )


def test_the_reference_shows_types_defaults_and_rules() -> None:
    page = render_reference(CRDS)
    assert "| `spec.healthCheck.intervalSeconds` | integer | `60` | ≥ 5; ≤ 86400 |" in page
    assert "tls.caSecretRef is required when tls.mode is verify-ca or verify-full" in page
    assert (
        "| `spec.engine` | string |  | required; one of `postgresql`, `mysql`, `mariadb`, `sqlite` |" in page
    )
