"""Generated specs against the API models and the CRDs' CEL rules (the apiserver's side is
tests/e2e/test_spec_fuzz.py).

Every spec the CRD schema refuses, the models refuse too, at the same field path, and the
operator's message for it names that path; every valid spec parses and survives the round trip
to the wire unchanged; every CEL rule names an existing field (or, for a rule over several
fields, names them in its message).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from ferry.api.connection import DatabaseConnectionSpec
from ferry.api.migration import MigrationSpec
from ferry.api.project import ProjectSpec
from ferry.api.spec_errors import field_path, spec_problems
from harness.spec_fuzz import KINDS, Case, all_invalid_cases, crd_spec_schema, valid_specs, with_tweaks

MODELS: dict[str, type[BaseModel]] = {
    "DatabaseConnection": DatabaseConnectionSpec,
    "Migration": MigrationSpec,
    "Project": ProjectSpec,
}
SCHEMA_CASES = [case for case in all_invalid_cases() if case.why != "CEL rule"]
# No shrinking: a failing example is one case, printed whole, and shrinking a sampled case
# through its drawn tweaks takes minutes.
FUZZ = settings(
    max_examples=300,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)


def refusal(case: Case) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        MODELS[case.kind].model_validate(case.spec)
    return caught.value


def test_the_schema_yields_cases_of_every_kind_of_violation() -> None:
    whys = {case.why for case in SCHEMA_CASES}
    assert whys >= {"wrong type", "unknown field", "too long", "missing", "below minimum", "above maximum",
                    "off pattern", "unknown enum value"}  # fmt: skip
    assert {case.kind for case in SCHEMA_CASES} == set(KINDS)


@FUZZ
@given(st.sampled_from(SCHEMA_CASES), st.data())
def test_every_schema_violation_is_refused_by_the_model_at_its_path(case: Case, data: st.DataObject) -> None:
    case = with_tweaks(case, data.draw(valid_specs(case.kind)))
    assert case.path is not None
    paths = [field_path(tuple(e["loc"])) for e in refusal(case).errors()]
    # A union (an int-or-string, an optional) adds the branch tried: the path is a prefix.
    assert any(p == case.path or p.startswith((case.path + ".", case.path + "[")) for p in paths), (
        case,
        paths,
    )


@FUZZ
@given(st.sampled_from(SCHEMA_CASES))
def test_the_operators_message_names_the_field_and_never_the_value(case: Case) -> None:
    message = spec_problems(refusal(case))
    assert case.path is not None and case.path in message, message
    assert "Bad Name!" not in message and "bogus-value" not in message, message


@FUZZ
@given(st.sampled_from(KINDS).flatmap(valid_specs))
def test_a_valid_spec_parses_and_round_trips(case: Case) -> None:
    model = MODELS[case.kind]
    parsed = model.model_validate(case.spec)
    wire: dict[str, Any] = parsed.to_wire()  # type: ignore[attr-defined]
    assert model.model_validate(wire) == parsed


def _rules(node: dict[str, Any], path: str) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    found = [(path, node, rule) for rule in node.get("x-kubernetes-validations", [])]
    for name, child in node.get("properties", {}).items():
        found += _rules(child, f"{path}.{name}")
    if "items" in node:
        found += _rules(node["items"], f"{path}[*]")
    if isinstance(node.get("additionalProperties"), dict):
        found += _rules(node["additionalProperties"], f"{path}.*")
    return found


# Rules over several fields, reported at their object: the message names the fields instead.
OBJECT_RULES = {
    "exactly one of credentialsSecretRef or urlSecretRef must be set",
    "use either include or exclude for columns, not both",
    "source and target are immutable; create a new Migration instead",
    "an approval cannot be changed; delete it and approve again",
}


@pytest.mark.parametrize("kind", KINDS)
def test_every_cel_rule_names_a_real_field(kind: str) -> None:
    rules = _rules(crd_spec_schema(kind), "spec")
    assert rules
    for path, node, rule in rules:
        assert rule.get("message"), (path, rule)
        if "fieldPath" not in rule:
            assert rule["message"] in OBJECT_RULES, f"{path}: rule without fieldPath: {rule}"
            continue
        # fieldPath is relative to the node holding the rule: each step must be a property there.
        walked = node
        for step in rule["fieldPath"].strip(".").split("."):
            assert step in walked.get("properties", {}), (
                f"{path}: fieldPath {rule['fieldPath']} names no field"
            )
            walked = walked["properties"][step]
