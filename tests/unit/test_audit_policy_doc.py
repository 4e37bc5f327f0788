"""docs/audit.md shows the audit policy that ships in manifests/audit, word for word.

(The apiserver's own acceptance of the policy is tests/e2e/test_audit_policy.py.)
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
POLICY = REPO / "manifests" / "audit" / "ferry-audit-policy.yaml"


def test_the_page_shows_the_shipped_policy() -> None:
    page = (REPO / "docs" / "audit.md").read_text()
    [shown] = re.findall(r"```yaml\n(.*?)```", page, flags=re.S)
    shipped = POLICY.read_text()
    assert shown == shipped[shipped.index("apiVersion:") :]
    policy = yaml.safe_load(shipped)
    assert (policy["apiVersion"], policy["kind"]) == ("audit.k8s.io/v1", "Policy")
    assert {rule["level"] for rule in policy["rules"]} <= {"None", "Metadata", "Request", "RequestResponse"}
