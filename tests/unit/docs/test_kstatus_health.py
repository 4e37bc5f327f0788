"""What Flux, kpt and kubectl apply tooling read from Ferry's objects, computed by kstatus itself
(sigs.k8s.io/cli-utils, through tests/controlplane/kstatus) for the statuses the operator writes
in every phase, against the kstatus column of docs/gitops.md."""

from __future__ import annotations

import pytest

from harness.kstatus import compute

from .health_cases import Case, cases


@pytest.mark.parametrize("case", cases(), ids=lambda case: case.id)
def test_kstatus_reads_what_the_docs_say(case: Case) -> None:
    status, message = compute(case.obj())
    assert status == case.kstatus, message
