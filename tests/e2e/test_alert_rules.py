"""Ferry's alert rules (beside the control plane because promtool and helm are built there):
promtool checks and unit-tests them, every series they read is one the
operator exports (with those labels), every alert links a runbook section that exists, and the
chart wraps them in a PrometheusRule."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml
from prometheus_client import REGISTRY

import ferry.observability.metrics  # noqa: F401  (defines every metric in the default registry)
from harness.controlplane import assets_dir

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "charts" / "ferry" / "files" / "ferry-alerts.rules.yaml"
RULE_TESTS = REPO / "tests" / "monitoring" / "ferry-alerts.test.yaml"
RUNBOOKS = REPO / "docs" / "runbooks.md"
CHART = REPO / "charts" / "ferry"


def _alerts() -> list[dict[str, object]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def _exported() -> dict[str, set[str]]:
    """Metric name → its label names, as the operator process registers them."""
    found: dict[str, set[str]] = {}
    for family in REGISTRY.collect():
        collector_labels = set()
        for sample in family.samples:
            collector_labels |= set(sample.labels)
        found[family.name] = collector_labels
    # Labels of metrics with no sample yet, under every name a series has (a counter's <name>_total).
    for series_name, collector in list(REGISTRY._names_to_collectors.items()):
        name, labels = getattr(collector, "_name", None), getattr(collector, "_labelnames", None)
        if name and labels is not None:
            found.setdefault(name, set()).update(labels)
            found.setdefault(series_name, set()).update(labels)
    return found


def test_promtool_checks_and_unit_tests_the_rules() -> None:
    promtool = str(assets_dir() / "promtool")
    check = subprocess.run(
        [promtool, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, check.stdout + check.stderr
    tested = subprocess.run([promtool, "test", "rules", str(RULE_TESTS)], capture_output=True, text=True,
                            timeout=120, cwd=RULE_TESTS.parent)  # fmt: skip
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_series_the_rules_read_is_exported_with_those_labels() -> None:
    exported = _exported()
    for rule in _alerts():
        expr = str(rule["expr"])
        for name, selector in re.findall(r"(ferry_[a-z_]+)(\{[^}]*\})?", expr):
            assert name in exported, f"{rule['alert']} reads {name}, which the operator does not export"
            for label in re.findall(r"([a-z_]+)\s*=~?", selector or ""):
                assert label in exported[name], f"{rule['alert']}: {name} has no label {label}"
    tests = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    for case in tests:
        for series in case["input_series"]:
            name = series["series"].split("{")[0]
            labels = set(re.findall(r"([a-z_]+)=", series["series"]))
            assert name in exported, f"the rule tests feed {name}, which the operator does not export"
            extra = labels - exported[name] - {"namespace", "pod"}  # namespace/pod: scrape target labels
            assert not extra, f"the rule tests give {name} labels it does not have: {extra}"


def test_every_alert_links_a_runbook_section_that_exists() -> None:
    anchors = {
        "#" + line[3:].strip().lower() for line in RUNBOOKS.read_text().splitlines() if line.startswith("## ")
    }
    for rule in _alerts():
        annotations = rule["annotations"]
        assert isinstance(annotations, dict)
        url = str(annotations["runbook_url"])
        assert url.endswith("docs/runbooks.md#" + str(rule["alert"]).lower())
        assert url[url.index("#") :] in anchors, f"no runbook section for {rule['alert']}"


def test_the_chart_wraps_the_rules_in_a_prometheus_rule_when_asked() -> None:
    helm = str(assets_dir() / "helm")

    def render(*settings: str) -> list[dict[str, object]]:
        argv = [helm, "template", "ferry", str(CHART), "--namespace", "ferry-system"]
        for setting in settings:
            argv += ["--set", setting]
        out = subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60).stdout
        return [doc for doc in yaml.safe_load_all(out) if doc]

    assert not [o for o in render() if o["kind"] == "PrometheusRule"]  # off by default
    [rule] = [o for o in render("metrics.prometheusRule.enabled=true") if o["kind"] == "PrometheusRule"]
    assert rule["spec"] == yaml.safe_load(RULES.read_text())
