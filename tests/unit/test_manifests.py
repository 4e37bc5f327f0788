"""Install manifests, chart values, examples and dashboard: parseable, complete, and least-privilege.

These tests need no helm: the RBAC rules in the chart templates are compared, as text, with
the kustomize manifests they were copied from. `tests/e2e/test_helm_chart.py` renders the
chart with a real helm (built by `make controlplane`) and dry-runs it on a real API server.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from ferry import __version__
from ferry.api.connection import DatabaseConnectionSpec
from ferry.api.migration import MigrationSpec
from ferry.cli.main import build_parser
from ferry.kube.election_settings import DEFAULT_LEASE_NAME
from ferry.kube.project_objects import ROLE_CLUSTERROLES
from ferry.kube.worker_job import secret_keys_needed, worker_labels
from ferry.kube.worker_rbac import WorkerIdentity, build_worker_role

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "manifests"
INSTALL = MANIFESTS / "install"
CHART = REPO / "charts" / "ferry"

# What the operator's code does with the API: (apiGroup, resource, verb, resourceName or None).
# Keep in step with ferry.controllers, ferry.services and ferry.kube; the ClusterRole must cover it.
OPERATOR_USES: list[tuple[str, str, str, str | None]] = [
    # kopf: get/list/watch the three kinds, patch finalizers and its annotations (never PUT).
    *[
        ("ferry.dev", kind, verb, None)
        for kind in ("databaseconnections", "migrations", "projects")
        for verb in ("get", "list", "watch", "patch")
    ],
    # Status through kopf's patch and ferry.kube.status.patch_status.
    *[
        ("ferry.dev", f"{kind}/status", verb, None)
        for kind in ("databaseconnections", "migrations", "projects")
        for verb in ("get", "patch")
    ],
    # A Job's blockOwnerDeletion owner reference (OwnerReferencesPermissionEnforcement).
    ("ferry.dev", "migrations/finalizers", "update", None),
    # kopf resolves resources from CRDs at startup.
    *[("apiextensions.k8s.io", "customresourcedefinitions", verb, None) for verb in ("get", "list", "watch")],
    # Connection probes read the Secrets they name, and their metadata to notice a change.
    ("", "secrets", "get", None),
    # Worker Jobs: create (or adopt after a restart), read, suspend/resume by patch.
    *[("batch", "jobs", verb, None) for verb in ("create", "get", "patch", "delete")],
    # kopf.event / kopf.info and ferry.kube.events post Events (POST only).
    *[(group, "events", "create", None) for group in ("", "events.k8s.io")],
    # Worker ServiceAccount/Role/RoleBinding by server-side apply (patch, create when absent);
    # delete: OwnerReferencesPermissionEnforcement asks for it to change their ownerReferences.
    *[
        (group, res, verb, None)
        for group, res in (("", "serviceaccounts"), ("rbac.authorization.k8s.io", "roles"))
        for verb in ("create", "patch", "delete")
    ],
    # Project member bindings: apply, list and prune.
    *[
        ("rbac.authorization.k8s.io", "rolebindings", verb, None)
        for verb in ("create", "patch", "list", "delete")
    ],
    *[("rbac.authorization.k8s.io", "clusterroles", "bind", role) for role in ROLE_CLUSTERROLES.values()],
    # Project namespaces: read the owner label, apply (create/patch); kopf lists and watches them.
    *[("", "namespaces", verb, None) for verb in ("get", "list", "watch", "create", "patch")],
    *[("", "resourcequotas", verb, None) for verb in ("create", "patch")],
    # The plan ConfigMap beside each Migration and the run report, by server-side apply.
    *[("", "configmaps", verb, None) for verb in ("get", "list", "create", "patch", "delete")],
    # A plan's MigrationApprovals, counted only while the policy that verifies approvers is bound:
    # kopf lists and watches them into an index (ferry.controllers.approval) that the Migration
    # reconcile reads, and whose changes wake a Migration awaiting approval at its next tick.
    *[("ferry.dev", "migrationapprovals", verb, None) for verb in ("list", "watch")],
    *[
        ("admissionregistration.k8s.io", resource, "get", "ferry-verified-approvals")
        for resource in ("validatingadmissionpolicies", "validatingadmissionpolicybindings")
    ],
]

# What the operator does in its own namespace: leader election on the Lease `ferry-operator`
# (ferry.kube.leader_election, through the client's LeaseLock: read, create when absent, replace).
LEADER_ELECTION_USES: list[tuple[str, str, str, str | None]] = [
    ("coordination.k8s.io", "leases", "create", None),
    ("coordination.k8s.io", "leases", "get", DEFAULT_LEASE_NAME),
    ("coordination.k8s.io", "leases", "update", DEFAULT_LEASE_NAME),
]
LEADER_ELECTION_ROLE = "ferry-operator-leader-election"

PLACEHOLDERS = {
    "HOST_SRC": "src.db",
    "PORT_SRC": "5432",
    "DB_SRC": "chinook",
    "USER_SRC": "reader",
    "PASSWORD_SRC": "x",
    "HOST_DST": "dst.db",
    "PORT_DST": "5433",
    "DB_DST": "chinook",
    "USER_DST": "writer",
    "PASSWORD_DST": "y",
}


def exported_metrics() -> list[str]:
    """Every metric ferry.observability.metrics defines (the operator's and the worker's)."""
    from prometheus_client.metrics import MetricWrapperBase

    from ferry.observability import metrics

    return sorted(m._name for m in vars(metrics).values() if isinstance(m, MetricWrapperBase))


def load_docs(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def install_objects() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((INSTALL / "kustomization.yaml").read_text())
    return [doc for name in kustomization["resources"] for doc in load_docs(INSTALL / name)]


def find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def covers(rules: list[dict[str, Any]], group: str, resource: str, verb: str, name: str | None) -> bool:
    for rule in rules:
        names = rule.get("resourceNames")
        if (
            group in rule.get("apiGroups", [])
            and resource in rule.get("resources", [])
            and verb in rule["verbs"]
            and (not names or (name is not None and name in names))
        ):
            return True
    return False


def permissions(rules: list[dict[str, Any]]) -> set[tuple[str, str, str, str | None]]:
    return {
        (group, resource, verb, name)
        for rule in rules
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
        for name in (rule.get("resourceNames") or [None])
    }


@pytest.mark.parametrize("path", sorted(MANIFESTS.rglob("*.yaml")), ids=lambda p: str(p.relative_to(REPO)))
def test_every_manifest_parses_into_named_objects(path: Path) -> None:
    if path.parent.name == "kustomizeconfig":  # kustomize transformer configuration, not objects
        return
    for doc in load_docs(path):
        if doc.get("kind") == "Kustomization":
            continue
        assert doc["apiVersion"] and doc["kind"] and doc["metadata"]["name"], path


def test_kustomization_lists_every_install_file() -> None:
    kustomization = yaml.safe_load((INSTALL / "kustomization.yaml").read_text())
    on_disk = {str(p.relative_to(INSTALL)) for p in INSTALL.rglob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) | set(kustomization["configurations"]) == on_disk
    assert kustomization["namespace"] == "ferry-system"


def test_install_crds_are_copies_of_the_generated_crds() -> None:
    generated = {p.name: p.read_text() for p in (REPO / "crds").glob("*.yaml")}
    copied = {p.name: p.read_text() for p in (INSTALL / "crds").glob("*.yaml")}
    assert copied == generated, "run `make crds` (manifests/sync-crds.sh)"


def test_chart_crds_are_the_generated_crds_behind_crds_create() -> None:
    for source in (REPO / "crds").glob("*.yaml"):
        text = (CHART / "templates" / "crds" / source.name).read_text()
        assert text.startswith("{{- if .Values.crds.create }}\n") and text.endswith("{{- end }}\n")
        body = yaml.safe_load("\n".join(text.splitlines()[1:-1]))
        assert body["metadata"]["annotations"] == {"helm.sh/resource-policy": "keep"}
        del body["metadata"]["annotations"]
        assert body == yaml.safe_load(source.read_text()), "run `make crds` (charts/sync-crds.sh)"


def test_chart_connection_policy_is_the_shipped_policy_behind_a_value_and_1_31() -> None:
    text = (CHART / "templates" / "policy-connections.yaml").read_text()
    lines = text.splitlines()
    assert lines[0] == (
        '{{- if and .Values.admissionPolicies.connections (semverCompare ">=1.31-0"'
        " .Capabilities.KubeVersion.Version) }}"
    )
    assert lines[-1] == "{{- end }}"
    shipped = MANIFESTS / "policies" / "ferry-connection-policy.yaml"
    body = list(yaml.safe_load_all("\n".join(lines[1:-1])))
    assert body == list(yaml.safe_load_all(shipped.read_text())), "run `make crds` (charts/sync-policies.sh)"
    assert yaml.safe_load((CHART / "values.yaml").read_text())["admissionPolicies"]["connections"] is True


def test_chart_approvals_policy_is_the_installed_policy_behind_a_value_and_1_30() -> None:
    lines = (CHART / "templates" / "policy-approvals.yaml").read_text().splitlines()
    assert lines[0] == (
        '{{- if and .Values.admissionPolicies.approvals (semverCompare ">=1.30-0"'
        " .Capabilities.KubeVersion.Version) }}"
    )
    assert lines[-1] == "{{- end }}"
    body = list(yaml.safe_load_all("\n".join(lines[1:-1])))
    assert body == list(yaml.safe_load_all((INSTALL / "policy-approvals.yaml").read_text()))
    assert [o["kind"] for o in body] == ["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"]
    assert body[1]["spec"]["validationActions"] == ["Deny"]  # what the operator checks before counting
    assert yaml.safe_load((CHART / "values.yaml").read_text())["admissionPolicies"]["approvals"] is True


def test_operator_cluster_role_covers_what_the_operator_does() -> None:
    rules = find(install_objects(), "ClusterRole", "ferry-operator")["rules"]
    missing = [use for use in OPERATOR_USES if not covers(rules, *use)]
    assert missing == []


def test_operator_cluster_role_grants_nothing_the_operator_does_not_use() -> None:
    """No pods, no PUT (`update`) on Ferry's kinds, no Job list/watch/delete: each verb is a call."""
    rules = find(install_objects(), "ClusterRole", "ferry-operator")["rules"]
    assert permissions(rules) == set(OPERATOR_USES)
    assert not any(resource == "pods" for _, resource, _, _ in permissions(rules))


def test_leader_election_role_covers_the_lease_and_nothing_else_in_the_operator_namespace() -> None:
    objects = install_objects()
    role = find(objects, "Role", LEADER_ELECTION_ROLE)
    assert role["metadata"]["namespace"] == "ferry-system"
    assert [use for use in LEADER_ELECTION_USES if not covers(role["rules"], *use)] == []
    # Only the three uses: reading or renewing any other Lease of the namespace is refused.
    assert permissions(role["rules"]) == set(LEADER_ELECTION_USES)
    binding = find(objects, "RoleBinding", LEADER_ELECTION_ROLE)
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": LEADER_ELECTION_ROLE,
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "ferry-operator", "namespace": "ferry-system"}
    ]


def test_operator_cluster_role_grants_no_leases() -> None:
    """Leases are granted in the operator's namespace only (kube-system's hold the control plane's)."""
    rules = find(install_objects(), "ClusterRole", "ferry-operator")["rules"]
    assert not any(resource == "leases" for _, resource, _, _ in permissions(rules))


def test_operator_can_grant_the_worker_role_without_escalating() -> None:
    """Kubernetes refuses a Role with permissions its creator lacks; the operator holds them all."""
    operator_rules = find(install_objects(), "ClusterRole", "ferry-operator")["rules"]
    worker = permissions(build_worker_role(WorkerIdentity("ns", "m", "uid", ("a", "b")))["rules"])
    assert worker and all(covers(operator_rules, g, r, v, n) for g, r, v, n in worker)


def test_operator_role_has_no_wildcards_and_binds_only_ferry_roles() -> None:
    rules = find(install_objects(), "ClusterRole", "ferry-operator")["rules"]
    for group, resource, verb, _ in permissions(rules):
        assert "*" not in (group, resource, verb)
        assert verb not in {"escalate", "impersonate"}
    binds = {name for _, resource, verb, name in permissions(rules) if verb == "bind"}
    assert binds == set(ROLE_CLUSTERROLES.values())


def test_operator_gets_secrets_by_name_and_never_lists_watches_or_writes_them() -> None:
    """No cluster-wide list or watch of Secrets (kube-system's included), in the install manifests
    and in the chart as rendered."""
    [chart] = _chart_rules(CHART / "templates" / "clusterrole-operator.yaml")
    for rules in (find(install_objects(), "ClusterRole", "ferry-operator")["rules"], chart):
        secret_verbs = {v for g, r, v, _ in permissions(rules) if r in ("secrets", "*")}
        assert secret_verbs == {"get"}


def test_user_roles_aggregate_into_the_built_in_roles() -> None:
    objects = install_objects()
    for ferry_role, builtin in (("ferry-admin", "admin"), ("ferry-editor", "edit"), ("ferry-viewer", "view")):
        labels = find(objects, "ClusterRole", ferry_role)["metadata"]["labels"]
        assert labels[f"rbac.authorization.k8s.io/aggregate-to-{builtin}"] == "true"


def test_user_roles_nest_and_keep_status_for_ferry() -> None:
    objects = install_objects()
    viewer, editor, admin = (
        permissions(find(objects, "ClusterRole", f"ferry-{role}")["rules"])
        for role in ("viewer", "editor", "admin")
    )
    approver = permissions(find(objects, "ClusterRole", "ferry-approver")["rules"])
    assert viewer < editor < admin and viewer < approver < admin
    assert approver - viewer == {("ferry.dev", "migrationapprovals", "create", None)}
    assert not any(r == "migrationapprovals" and v == "create" for _, r, v, _ in editor), (
        "editors don't approve"
    )
    assert {v for _, _, v, _ in viewer} == {"get", "list", "watch"}
    for kind in ("databaseconnections", "migrations", "projects"):
        assert ("ferry.dev", kind, "get", None) in viewer
    assert ("", "configmaps", "get", None) in viewer  # kubectl ferry plan mig/NAME
    assert ("", "configmaps", "list", None) in viewer  # kubectl ferry report mig/NAME
    for kind in ("databaseconnections", "migrations"):
        for verb in ("create", "update", "patch", "delete"):
            assert ("ferry.dev", kind, verb, None) in editor
    assert not any(r == "secrets" for _, r, _, _ in editor)
    assert ("", "secrets", "create", None) in admin
    for _, resource, verb, _ in admin:
        assert not (resource.endswith("/status") and verb != "get"), "status is written by Ferry only"
        assert (resource, verb) != ("projects", "create"), "Projects are cluster-admin business"


def _chart_rules(template: Path) -> list[list[dict[str, Any]]]:
    """The `rules:` blocks of a chart template (plain YAML there by design)."""
    blocks = []
    for part in template.read_text().split("\n---\n"):
        rules_text = part[part.index("rules:\n") :]
        rules_text = re.sub(r"\{\{-? end \}\}\s*$", "", rules_text)
        blocks.append(yaml.safe_load(rules_text)["rules"])
    return blocks


def test_chart_rbac_matches_the_install_manifests() -> None:
    objects = install_objects()
    [operator] = _chart_rules(CHART / "templates" / "clusterrole-operator.yaml")
    assert operator == find(objects, "ClusterRole", "ferry-operator")["rules"]
    [leader_election] = _chart_rules(CHART / "templates" / "role-leader-election.yaml")
    assert leader_election == find(objects, "Role", LEADER_ELECTION_ROLE)["rules"]
    users = _chart_rules(CHART / "templates" / "clusterroles-users.yaml")
    assert users == [
        find(objects, "ClusterRole", f"ferry-{r}")["rules"] for r in ("viewer", "approver", "editor", "admin")
    ]


def test_chart_values() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert values["crds"]["create"] is True
    assert values["rbac"]["create"] is True
    assert values["image"]["repository"] == "ghcr.io/ferry-dev/ferry"
    assert values["metrics"]["port"] == 8080
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["appVersion"] == __version__


def test_operator_deployment_is_restricted_and_probed() -> None:
    deployment = find(install_objects(), "Deployment", "ferry-operator")
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["image"] == f"ghcr.io/ferry-dev/ferry:{__version__}"
    command = container["command"]
    assert command[:3] == ["ferry", "operator", "--all-namespaces"]
    assert command[command.index("--liveness-port") + 1] == "8081"
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"metrics": 8080, "health": 8081}
    for probe in (container["readinessProbe"], container["livenessProbe"]):
        assert probe["httpGet"] == {"path": "/healthz", "port": "health"}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"] == {
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
    }
    assert pod["serviceAccountName"] == "ferry-operator"


def test_operator_deployment_elects_a_leader_and_rolls_updates() -> None:
    """Leader election on: a rolling update (new pod a standby until the old one is gone) is safe,
    and the downward API gives the Lease's namespace and the holder's name."""
    deployment = find(install_objects(), "Deployment", "ferry-operator")
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    args = build_parser("operator").parse_args(container["command"][1:])
    assert args.leader_elect and args.leader_election_namespace is None
    assert args.leader_election_id == DEFAULT_LEASE_NAME
    env = {e["name"]: e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") for e in container["env"]}
    assert env["POD_NAMESPACE"] == "metadata.namespace" and env["POD_NAME"] == "metadata.name"
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }


def test_chart_replicas_and_leader_election_values() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert values["operator"]["replicas"] == 1
    assert values["operator"]["leaderElection"]["enabled"] is True


def _example_objects(path: Path) -> list[dict[str, Any]]:
    text = path.read_text()
    for placeholder, value in PLACEHOLDERS.items():
        text = text.replace(placeholder, value)
    return [doc for doc in yaml.safe_load_all(text) if doc]


@pytest.mark.parametrize("path", sorted((MANIFESTS / "examples").glob("*.yaml")), ids=lambda p: p.name)
def test_examples_are_valid_and_self_contained(path: Path) -> None:
    """Each example bundle parses into the API models and holds every Secret key the worker needs."""
    objects = _example_objects(path)
    secrets = {o["metadata"]["name"]: o.get("stringData", {}) for o in objects if o["kind"] == "Secret"}
    connections = {
        o["metadata"]["name"]: DatabaseConnectionSpec.model_validate(o["spec"])
        for o in objects
        if o["kind"] == "DatabaseConnection"
    }
    migrations = [MigrationSpec.model_validate(o["spec"]) for o in objects if o["kind"] == "Migration"]
    assert migrations
    for spec in migrations:
        source = connections[spec.source.connection_ref.name]
        target = connections[spec.target.connection_ref.name]
        assert not target.read_only
        for secret, key in secret_keys_needed(spec, source, target):
            assert key in secrets.get(secret, {}), f"{path.name}: Secret {secret} lacks key {key}"


def test_demo_example_is_the_chinook_pg_migration() -> None:
    objects = _example_objects(MANIFESTS / "examples" / "chinook-pg.yaml")
    migration = find(objects, "Migration", "chinook")
    spec = MigrationSpec.model_validate(migration["spec"])
    assert spec.copy_.parallelism == 2
    assert spec.validation.row_count and spec.validation.checksum
    assert {spec.source.connection_ref.name, spec.target.connection_ref.name} == {
        "chinook-src",
        "chinook-dst",
    }
    raw = (MANIFESTS / "examples" / "chinook-pg.yaml").read_text()
    for placeholder in ("HOST_SRC", "PORT_SRC", "HOST_DST", "PORT_DST"):
        assert placeholder in raw


def test_dashboard_uses_every_ferry_metric_and_only_those() -> None:
    dashboard = json.loads((CHART / "dashboards" / "ferry.json").read_text())
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p.get("targets", []))
    exported = exported_metrics()
    assert len(exported) > 15  # the module's metrics were found
    missing = [metric for metric in exported if metric not in exprs]
    assert not missing, f"exported but on no dashboard panel: {missing}"
    # Counters are read as <name>_total, histograms as <name>_bucket/_sum/_count.
    suffixes = ("_total", "_bucket", "_sum", "_count")
    for used in set(re.findall(r"ferry_[a-z_]+", exprs)):
        assert any(used in (m, *(m + s for s in suffixes)) for m in exported), f"{used} is not exported"
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def _kubectl() -> str | None:
    assets = os.environ.get("KUBEBUILDER_ASSETS") or str(REPO / ".cache" / "controlplane" / "bin")
    candidate = Path(assets) / "kubectl"
    return str(candidate) if candidate.exists() else shutil.which("kubectl")


def test_kustomize_renders_the_install_base() -> None:
    kubectl = _kubectl()
    if kubectl is None:
        pytest.skip("no kubectl to run kustomize")
    rendered = subprocess.run(
        [kubectl, "kustomize", str(INSTALL)], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    objects = [doc for doc in yaml.safe_load_all(rendered) if doc]
    kinds = sorted(o["kind"] for o in objects)
    assert kinds.count("CustomResourceDefinition") == 4
    assert kinds.count("ClusterRole") == 5
    assert kinds.count("Role") == 1 and kinds.count("RoleBinding") == 1
    for obj in objects:
        if obj["kind"] in {"Deployment", "Service", "ServiceAccount", "Role", "RoleBinding"}:
            assert obj["metadata"]["namespace"] == "ferry-system"


DIGEST = "sha256:" + "ab" * 32
EGRESS_PORTS = {("UDP", 53), ("TCP", 53), ("TCP", 443), ("TCP", 6443), ("TCP", 5432), ("TCP", 3306)}


def _ports(rules: list[dict[str, Any]]) -> set[tuple[str, int]]:
    return {(p["protocol"], p["port"]) for rule in rules for p in rule["ports"]}


def test_operator_network_policy_admits_only_metrics_and_reaches_only_dns_api_and_databases() -> None:
    objects = install_objects()
    policy = find(objects, "NetworkPolicy", "ferry-operator")
    pod_labels = find(objects, "Deployment", "ferry-operator")["spec"]["template"]["metadata"]["labels"]
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= pod_labels.items()
    assert sorted(policy["spec"]["policyTypes"]) == ["Egress", "Ingress"]
    assert _ports(policy["spec"]["ingress"]) == {("TCP", 8080)}  # the metrics port, nothing else
    assert _ports(policy["spec"]["egress"]) == EGRESS_PORTS


def test_worker_network_policy_selects_worker_pods_admits_nothing_and_reaches_the_same() -> None:
    [policy] = load_docs(MANIFESTS / "network-policies" / "ferry-workers.yaml")
    assert "namespace" not in policy["metadata"]  # applied per Project namespace
    labels = worker_labels("orders", 1)
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
    assert sorted(policy["spec"]["policyTypes"]) == ["Egress", "Ingress"]
    assert "ingress" not in policy["spec"]  # Ingress isolated with no rule: nothing gets in
    assert _ports(policy["spec"]["egress"]) == EGRESS_PORTS


def test_an_overlay_pins_the_operator_and_worker_image_by_digest(tmp_path: Path) -> None:
    kubectl = _kubectl()
    if kubectl is None:
        pytest.skip("no kubectl to run kustomize")
    overlay = tmp_path / "release"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "resources": [os.path.relpath(INSTALL, overlay)],
                "images": [{"name": "ghcr.io/ferry-dev/ferry", "digest": DIGEST}],
            }
        )
    )
    rendered = subprocess.run(
        [kubectl, "kustomize", str(overlay)], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    deployment = next(d for d in yaml.safe_load_all(rendered) if d and d["kind"] == "Deployment")
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"ghcr.io/ferry-dev/ferry@{DIGEST}"
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["FERRY_WORKER_IMAGE"] == f"ghcr.io/ferry-dev/ferry@{DIGEST}"  # workers pinned as well
