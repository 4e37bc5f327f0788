"""A spec the models refuse, said the way the apiserver says it: one `spec.path: problem` each.

The CRD schema and its CEL rules refuse almost every bad spec before Ferry sees it. What still
arrives (an object stored under an older, looser CRD, or a rule only the models hold) is
reported in the object's status with the same field paths, so `kubectl describe` points at the
field to change whichever side refused it.
"""

from __future__ import annotations

from pydantic import ValidationError


def field_path(loc: tuple[int | str, ...]) -> str:
    """pydantic's location as a Kubernetes field path: ("tables", "overrides", 0, "name") ->
    "spec.tables.overrides[0].name". The wire (camelCase) names are kept."""
    out = "spec"
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def spec_problems(exc: ValidationError) -> str:
    """Every problem of `exc` as `spec.field: message`, joined by "; ". No input values: a
    rejected value may be a secret someone pasted into the wrong field."""
    return "; ".join(
        f"{field_path(tuple(e['loc']))}: {e['msg']}"
        for e in exc.errors(include_input=False, include_url=False)
    )
