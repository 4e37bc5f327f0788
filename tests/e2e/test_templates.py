"""manifests/templates: each kustomize component, used by its example, renders with the real
kubectl kustomize, gives the Migration the component promises, and the test API server accepts
the result (server-side dry run against the generated CRDs and their CEL rules)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ferry.api.migration import MigrationSpec
from harness.controlplane import ControlPlane

TEMPLATES = Path(__file__).resolve().parents[2] / "manifests" / "templates"
EXAMPLES = sorted(p.name for p in (TEMPLATES / "examples").iterdir() if p.is_dir())


def _render(control_plane: ControlPlane, example: str) -> list[dict[str, Any]]:
    out = control_plane.kubectl("kustomize", str(TEMPLATES / "examples" / example)).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def _expect(example: str, spec: MigrationSpec) -> None:
    if example == "pg-to-pg":
        assert spec.validation.checksum and spec.rollback.on_failure.value == "drop-created"
    elif example == "mariadb-to-pg":
        transforms = {t.column: t.type.value for o in spec.tables.overrides for t in o.transforms}
        assert transforms == {"email": "hash", "phone": "mask"}
    elif example == "online":
        assert spec.mode.value == "online" and spec.cutover.freeze_source and spec.schedule.windows
    else:
        pytest.fail(f"no expectation for example {example}: add one")


def test_there_is_an_example_for_every_component() -> None:
    components = {p.name for p in TEMPLATES.iterdir() if (p / "kustomization.yaml").exists()}
    used = set()
    for example in EXAMPLES:
        kustomization = yaml.safe_load((TEMPLATES / "examples" / example / "kustomization.yaml").read_text())
        used |= {Path(c).name for c in kustomization["components"]}
    assert components == used == {"pg-to-pg-validated", "mariadb-to-pg-pii", "online-cutover"}


@pytest.mark.parametrize("example", EXAMPLES)
def test_a_template_renders_and_the_api_server_accepts_it(
    control_plane: ControlPlane, crds: list[str], namespace: str, example: str, tmp_path: Path
) -> None:
    objects = _render(control_plane, example)
    [migration] = [o for o in objects if o["kind"] == "Migration"]
    _expect(example, MigrationSpec.model_validate(migration["spec"]))
    rendered = tmp_path / f"{example}.yaml"
    rendered.write_text(yaml.safe_dump_all(objects))
    result = control_plane.kubectl(
        "apply", "--dry-run=server", "-n", namespace, "-f", str(rendered), check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("(server dry run)") == len(objects)
