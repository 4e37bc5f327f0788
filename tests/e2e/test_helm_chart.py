"""The Helm chart, rendered by a real helm and checked by a real kube-apiserver (server-side dry run).

helm is built beside the control plane (`make controlplane`). The rendered default install must
be what `manifests/install` is (same pod spec, same RBAC rules), and every value that switches
something on or off must show in the objects.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from ferry.cli.main import build_parser
from harness.controlplane import ControlPlane, assets_dir

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "ferry"
INSTALL = REPO / "manifests" / "install"


def render(namespace: str, *settings: str, kube_version: str | None = None) -> list[dict[str, Any]]:
    argv = [str(assets_dir() / "helm"), "template", "ferry", str(CHART), "--namespace", namespace]
    argv += ["--kube-version", kube_version] if kube_version else []
    for setting in settings:
        argv += ["--set", setting]
    out = subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def by_kind_name(objects: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(o["kind"], o["metadata"]["name"]): o for o in objects}


def install_manifests() -> dict[tuple[str, str], dict[str, Any]]:
    objects = []
    for path in sorted(INSTALL.rglob("*.yaml")):
        if path.name != "kustomization.yaml" and path.parent.name != "kustomizeconfig":
            objects += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return by_kind_name(objects)


def test_the_default_render_is_the_install_manifests_and_the_api_server_accepts_it(
    control_plane: ControlPlane, tmp_path: Path
) -> None:
    # The test apiserver's version: the chart's admission policies render for it (helm's own
    # default version is older), the verified-approvals one as in the install base.
    objects = render("ferry-system", kube_version="1.34.0")
    chart, install = by_kind_name(objects), install_manifests()
    connection_policy = {
        (doc["kind"], doc["metadata"]["name"])
        for doc in yaml.safe_load_all(
            (REPO / "manifests" / "policies" / "ferry-connection-policy.yaml").read_text()
        )
        if doc
    }  # shipped in the chart behind a value; in manifests/policies/, not the install base
    assert set(chart) - connection_policy == set(install) - {("Namespace", "ferry-system")}
    for key in (("ClusterRole", f"ferry-{role}") for role in ("operator", "viewer", "editor", "admin")):
        assert chart[key]["rules"] == install[key]["rules"], key
        assert chart[key].get("aggregationRule") == install[key].get("aggregationRule"), key
    for key in (
        ("CustomResourceDefinition", name) for kind, name in install if kind == "CustomResourceDefinition"
    ):
        assert chart[key]["spec"] == install[key]["spec"], key
    pod, reference = (
        objects["spec"]["template"]["spec"] for objects in (chart[("Deployment", "ferry-operator")],
                                                            install[("Deployment", "ferry-operator")])
    )  # fmt: skip
    assert pod == reference
    # The operator's own argument parser takes the command the chart writes.
    [container] = pod["containers"]
    args = build_parser().parse_args(container["command"][1:])
    assert args.all_namespaces and args.metrics_port == 8080 and args.liveness_port == 8081
    assert args.leader_elect
    deployment, reference = chart[("Deployment", "ferry-operator")], install[("Deployment", "ferry-operator")]
    assert (deployment["spec"]["replicas"], deployment["spec"]["strategy"]) == (
        reference["spec"]["replicas"],
        reference["spec"]["strategy"],
    )
    for key in (
        ("Role", "ferry-operator-leader-election"),
        ("RoleBinding", "ferry-operator-leader-election"),
    ):
        assert chart[key]["metadata"]["namespace"] == "ferry-system", key
    assert (
        chart[("Role", "ferry-operator-leader-election")]["rules"]
        == (install[("Role", "ferry-operator-leader-election")]["rules"])
    )

    rendered = tmp_path / "chart.yaml"
    rendered.write_text(yaml.safe_dump_all(objects))
    control_plane.kubectl("create", "namespace", "ferry-system")
    result = control_plane.kubectl("apply", "--dry-run=server", "-f", str(rendered))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("(server dry run)") == len(objects)


def test_values_switch_the_optional_parts_on_and_off() -> None:
    objects = render(
        "platform",
        "crds.create=false",
        "rbac.userRoles=false",
        "metrics.serviceMonitor.enabled=true",
        "metrics.dashboard.enabled=true",
        "operator.watchNamespaces={team-a,team-b}",
        "image.tag=9.9.9",
    )
    kinds = sorted(o["kind"] for o in objects)
    assert "CustomResourceDefinition" not in kinds and kinds.count("ClusterRole") == 1  # only the operator's
    assert "ServiceMonitor" in kinds
    dashboard = next(o for o in objects if o["kind"] == "ConfigMap")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    [dashboard_json] = dashboard["data"].values()
    assert '"ferry_migration_phase' in dashboard_json or "ferry_migration_phase" in dashboard_json
    [deployment] = [o for o in objects if o["kind"] == "Deployment"]
    assert deployment["metadata"]["namespace"] == "platform"
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "ghcr.io/ferry-dev/ferry:9.9.9"
    args = build_parser().parse_args(container["command"][1:])
    assert args.namespace == ["team-a", "team-b"] and not args.all_namespaces
    binding = next(o for o in objects if o["kind"] == "ClusterRoleBinding")
    assert binding["subjects"][0]["namespace"] == "platform"

    no_metrics = render("platform", "metrics.enabled=false")
    [container] = next(o for o in no_metrics if o["kind"] == "Deployment")["spec"]["template"]["spec"][
        "containers"
    ]
    assert build_parser().parse_args(container["command"][1:]).metrics_port == 0
    assert [p["name"] for p in container["ports"]] == ["health"]


def test_replicas_and_leader_election() -> None:
    """Two replicas roll with leader election; without it, one replica and Recreate, no Lease Role,
    and asking for more replicas fails the render: two operators would act at once."""
    objects = render("platform", "operator.replicas=2")
    [deployment] = [o for o in objects if o["kind"] == "Deployment"]
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    [role] = [o for o in objects if o["kind"] == "Role"]
    assert role["metadata"]["namespace"] == "platform"
    [binding] = [o for o in objects if o["kind"] == "RoleBinding"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "ferry-operator", "namespace": "platform"}
    ]

    single = render("platform", "operator.leaderElection.enabled=false")
    [deployment] = [o for o in single if o["kind"] == "Deployment"]
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert not build_parser().parse_args(container["command"][1:]).leader_elect
    assert not [o for o in single if o["kind"] in ("Role", "RoleBinding")]

    refused = subprocess.run(
        [str(assets_dir() / "helm"), "template", "ferry", str(CHART), "--namespace", "platform",
         "--set", "operator.replicas=2", "--set", "operator.leaderElection.enabled=false"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode != 0 and "needs operator.leaderElection.enabled" in refused.stderr


def test_image_digest_wins_over_the_tag_for_the_operator_and_the_workers() -> None:
    digest = "sha256:" + "cd" * 32
    objects = render("platform", "image.tag=9.9.9", f"image.digest={digest}")
    [container] = next(o for o in objects if o["kind"] == "Deployment")["spec"]["template"]["spec"][
        "containers"
    ]
    assert container["image"] == f"ghcr.io/ferry-dev/ferry@{digest}"
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["FERRY_WORKER_IMAGE"] == f"ghcr.io/ferry-dev/ferry@{digest}"


def test_network_policies_render_as_shipped_and_switch_off() -> None:
    install = install_manifests()[("NetworkPolicy", "ferry-operator")]
    objects = render("platform")
    [operator] = [o for o in objects if o["kind"] == "NetworkPolicy"]
    assert operator["metadata"]["namespace"] == "platform"
    for field in ("policyTypes", "ingress", "egress"):
        assert operator["spec"][field] == install["spec"][field], field
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert operator["spec"]["podSelector"]["matchLabels"].items() <= pod_labels.items()

    # Worker policies per Project namespace, the shipped file's rules; narrowed peers.
    shipped = yaml.safe_load((REPO / "manifests" / "network-policies" / "ferry-workers.yaml").read_text())
    peer = {"ipBlock": {"cidr": "10.20.0.0/16"}}
    objects = render(
        "platform", "networkPolicy.workerNamespaces={team-a,team-b}",
        "networkPolicy.databases.to[0].ipBlock.cidr=10.20.0.0/16", "metrics.enabled=false",
    )  # fmt: skip
    policies = {
        (o["metadata"]["namespace"], o["metadata"]["name"]): o
        for o in objects
        if o["kind"] == "NetworkPolicy"
    }
    assert set(policies) == {
        ("platform", "ferry-operator"),
        ("team-a", "ferry-workers"),
        ("team-b", "ferry-workers"),
    }
    worker = policies[("team-a", "ferry-workers")]["spec"]
    assert worker["podSelector"] == shipped["spec"]["podSelector"] and "ingress" not in worker
    assert worker["egress"][:2] == shipped["spec"]["egress"][:2]
    assert worker["egress"][2] == {**shipped["spec"]["egress"][2], "to": [peer]}
    assert policies[("platform", "ferry-operator")]["spec"]["ingress"] == []  # no metrics: nothing in

    assert not [o for o in render("platform", "networkPolicy.enabled=false") if o["kind"] == "NetworkPolicy"]
