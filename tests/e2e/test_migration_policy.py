"""Migration guard rails end to end: Project policy stalls a Migration; onDelete rolls back."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
import time
from typing import Any

import psycopg
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from e2e.migration_helpers import (
    approve_current_plan,
    condition,
    create_connection,
    get_migration,
    patch_migration_spec,
    start_migration,
    wait_for_phase,
    worker_jobs,
)
from ferry.api.kinds import GROUP, VERSION
from harness.controlplane import ControlPlane
from harness.databases import Database
from harness.datasets import load_chinook
from harness.kube import hand_to_project, wait_for
from harness.operator_process import OperatorProcess
from harness.podrunner import PodRunner


def _tables(db: Database) -> set[str]:
    with psycopg.connect(db.libpq_dsn()) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {r[0] for r in rows}


def test_project_policy_stalls_a_migration_until_the_spec_complies(
    kube_api: client.ApiClient, namespace: str, operator: OperatorProcess, pod_runner: PodRunner,
    pg_source: Database, pg_db2: Database,
) -> None:  # fmt: skip
    hand_to_project(kube_api, namespace, namespace)  # the test's namespace exists before the Project
    client.CustomObjectsApi(kube_api).create_cluster_custom_object(
        GROUP, VERSION, "projects",
        {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Project", "metadata": {"name": namespace},
         "spec": {"namespace": namespace, "policy": {"maxParallelism": 1}}},
    )  # fmt: skip
    start_migration(kube_api, namespace, "capped", pg_source, pg_db2, {
        "source": {"connectionRef": {"name": "src"}}, "target": {"connectionRef": {"name": "dst"}},
        "copy": {"parallelism": 4},
    })  # fmt: skip

    def stalled() -> dict[str, object] | None:
        status = get_migration(kube_api, namespace, "capped").get("status") or {}
        return status if condition(status, "Stalled").get("status") == "True" else None

    status = wait_for(stalled, timeout=90, what="the Migration to stall on the policy")
    assert condition(status, "Stalled")["reason"] == "PolicyViolation"
    assert "parallelism 4 exceeds the project's maxParallelism 1" in condition(status, "Stalled")["message"]
    assert status["phase"] == "Pending" and not worker_jobs(kube_api, namespace, "capped")

    patch_migration_spec(kube_api, namespace, "capped", {"copy": {"parallelism": 1}})
    done = wait_for_phase(kube_api, namespace, "capped", {"Succeeded"}, timeout=180)
    assert not condition(done["status"], "Stalled")
    client.CustomObjectsApi(kube_api).delete_cluster_custom_object(GROUP, VERSION, "projects", namespace)


def test_delete_with_drop_created_removes_only_the_tables_the_migration_created(
    kube_api: client.ApiClient, namespace: str, operator: OperatorProcess, pod_runner: PodRunner,
    pg_source: Database, pg_db2: Database,
) -> None:  # fmt: skip
    with psycopg.connect(pg_db2.libpq_dsn(), autocommit=True) as conn:
        conn.execute("CREATE TABLE keep_me (id int PRIMARY KEY)")
    start_migration(kube_api, namespace, "temp", pg_source, pg_db2, {
        "source": {"connectionRef": {"name": "src"}}, "target": {"connectionRef": {"name": "dst"}},
        "tables": {"include": ["artist", "album"]},
        "rollback": {"onDelete": "drop-created"},
    })  # fmt: skip
    # Deleting the Migration, maybe long after it succeeded, drops tables: destructive, approved first.
    waiting = wait_for_phase(kube_api, namespace, "temp", {"AwaitingApproval"}, timeout=120)["status"]
    drops = [op for op in waiting["plan"]["operations"] if op["kind"] == "rollback_drop_table"]
    assert sorted(op["table"] for op in drops) == ["public.album", "public.artist"], drops
    assert all(op["risk"] == "destructive" for op in drops), drops
    approve_current_plan(kube_api, namespace, "temp")
    done = wait_for_phase(kube_api, namespace, "temp", {"Succeeded"}, timeout=180)
    assert sorted(done["status"]["createdTables"]) == ["public.album", "public.artist"]
    assert {"artist", "album", "keep_me"} <= _tables(pg_db2)

    client.CustomObjectsApi(kube_api).delete_namespaced_custom_object(
        GROUP, VERSION, namespace, "migrations", "temp"
    )
    deadline = time.monotonic() + 60
    while "artist" in _tables(pg_db2):
        assert time.monotonic() < deadline, "the created tables were not dropped on delete"
        time.sleep(0.5)
    assert "keep_me" in _tables(pg_db2) and "album" not in _tables(pg_db2)


def test_a_permanently_failing_copy_fails_honestly_and_rolls_back(
    kube_api: client.ApiClient, namespace: str, operator: OperatorProcess, pod_runner: PodRunner,
    pg_source: Database, pg_db2: Database,
) -> None:  # fmt: skip
    start_migration(kube_api, namespace, "doomed", pg_source, pg_db2, {
        "source": {"connectionRef": {"name": "src"}}, "target": {"connectionRef": {"name": "dst"}},
        "tables": {"include": ["artist"],
                   "overrides": [{"name": "artist", "where": "1 / (artist_id - 100) > -1"}]},
        "job": {"backoffLimit": 0},
        "rollback": {"onFailure": "drop-created"},
    })  # fmt: skip
    done = wait_for_phase(kube_api, namespace, "doomed", {"RolledBack"}, timeout=240)
    status = done["status"]
    assert status["attempts"] == 3
    assert "division by zero" in status["message"]
    assert condition(status, "Stalled")["status"] == "True"
    assert "artist" not in _tables(pg_db2)


def _approve_as(plane: ControlPlane, user: str | None, namespace: str, name: str) -> str:
    """`kubectl ferry approve` as `user` (None: the admin), retried while the Project's member
    bindings are still being made; returns its output."""
    kubeconfig = (
        plane.kubeconfig_path if user is None else plane.kubeconfig_for_token(plane.user_token(user), user)
    )
    argv = [sys.executable, "-m", "ferry.cli.main", "approve", f"mig/{name}", "-n", namespace,
            "--kubeconfig", str(kubeconfig)]  # fmt: skip

    def approved() -> str | None:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        return done.stdout if done.returncode == 0 else None

    return wait_for(approved, timeout=30, what=f"{user or 'admin'} to be allowed to approve")


class WebhookReceiver:
    """An HTTP server on 127.0.0.1 that records each POSTed JSON body with its path."""

    def __init__(self) -> None:
        received: list[tuple[str, dict[str, Any]]] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                received.append((self.path, json.loads(self.rfile.read(length))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.received = received
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> WebhookReceiver:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> list[tuple[str, dict[str, Any]]]:
        self.server.shutdown()
        return list(self.received)


def _ferry_cli(plane: ControlPlane, user: str, *argv: str) -> str:
    kubeconfig = plane.kubeconfig_for_token(plane.user_token(user), user)
    done = subprocess.run([sys.executable, "-m", "ferry.cli.main", *argv, "--kubeconfig", str(kubeconfig)],
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def _exists(api: client.ApiClient, namespace: str, name: str) -> bool:
    try:
        get_migration(api, namespace, name)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


def _approvals_seen(api: client.ApiClient, namespace: str, name: str, approvers: set[str]) -> dict[str, Any]:
    """The status once it lists an approval by each of `approvers` (the operator watches
    approvals: a new one wakes its Migration at the next 2 s tick)."""

    def seen() -> dict[str, Any] | None:
        status = get_migration(api, namespace, name).get("status") or {}
        return status if approvers <= {a["approver"] for a in status.get("approvals") or []} else None

    return wait_for(seen, timeout=60, what=f"status.approvals to list {sorted(approvers)}")


def _withdraw(api: client.ApiClient, namespace: str, name: str, approver: str) -> dict[str, Any]:
    """An admin deletes `approver`'s approvals of Migration `name` (ferry-admin may: `delete`
    withdraws one); returns the status once it no longer lists them."""
    objects = client.CustomObjectsApi(api)
    listed = objects.list_namespaced_custom_object(GROUP, VERSION, namespace, "migrationapprovals")["items"]
    mine = [
        o for o in listed if o["spec"]["approver"] == approver and o["spec"]["migrationRef"]["name"] == name
    ]
    assert mine, f"no approval by {approver} to withdraw"
    for obj in mine:
        objects.delete_namespaced_custom_object(
            GROUP, VERSION, namespace, "migrationapprovals", obj["metadata"]["name"]
        )

    def gone() -> dict[str, Any] | None:
        status = get_migration(api, namespace, name).get("status") or {}
        return status if approver not in {a["approver"] for a in status.get("approvals") or []} else None

    return wait_for(gone, timeout=60, what=f"status.approvals to drop {approver}'s withdrawn approval")


def test_two_verified_approvers_other_than_the_author_are_needed(
    kube_api: client.ApiClient, namespace: str, operator: OperatorProcess, pod_runner: PodRunner,
    control_plane: ControlPlane, pg_source: Database, pg_db2: Database,
) -> None:  # fmt: skip
    """A Project's rule `approvals: {required: 2, allowAuthor: false}`: the author's own approval
    does not count, the first approver's does but is not enough, a withdrawn (deleted) one stops
    counting, a plan change voids it, and two approvals of the new plan run it. The Project's
    webhook hears that it waits for approval and that it succeeded."""
    hand_to_project(kube_api, namespace, namespace)  # the test's namespace exists before the Project
    members = [{"kind": "User", "name": user, "role": "approver"} for user in ("alice", "bob")]
    hook = WebhookReceiver().start()  # a stand-in for Slack: records what is POSTed to it
    client.CoreV1Api(kube_api).create_namespaced_secret(
        namespace, {"metadata": {"name": "chat"}, "stringData": {"url": f"{hook.url}/hooks/T0K3N"}}
    )
    notifications = [{"name": "team-chat", "webhookSecretRef": {"name": "chat", "key": "url"},
                      "format": "slack", "events": ["AwaitingApproval", "Succeeded"]}]  # fmt: skip
    client.CustomObjectsApi(kube_api).create_cluster_custom_object(
        GROUP, VERSION, "projects",
        {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Project", "metadata": {"name": namespace},
         "spec": {"namespace": namespace, "members": members, "notifications": notifications,
                  "policy": {"approvals": {"required": 2, "allowAuthor": False}}}},
    )  # fmt: skip
    load_chinook(pg_db2)
    with psycopg.connect(pg_db2.libpq_dsn(), autocommit=True) as conn:
        conn.execute("ALTER TABLE artist ADD COLUMN legacy_note text")  # dropped by the plan: destructive
    create_connection(kube_api, namespace, "src", pg_source)
    create_connection(kube_api, namespace, "dst", pg_db2)
    client.CustomObjectsApi(kube_api).create_namespaced_custom_object(
        GROUP, VERSION, namespace, "migrations",
        {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Migration",
         "metadata": {"name": "gated", "annotations": {"ferry.dev/author": "admin"}},  # admission checks it
         "spec": {"source": {"connectionRef": {"name": "src"}}, "target": {"connectionRef": {"name": "dst"}},
                  "copy": {"truncateTarget": True}}},
    )  # fmt: skip
    wait_for_phase(kube_api, namespace, "gated", {"AwaitingApproval"}, timeout=120)

    assert "approved by admin" in _approve_as(control_plane, None, namespace, "gated")
    status = _approvals_seen(kube_api, namespace, "gated", {"admin"})
    assert "0 of 2 approvals counted" in status["message"]
    assert [(a["approver"], a["counted"], a["reason"]) for a in status["approvals"]] == [
        ("admin", False, "four eyes: the Migration's author may not approve it")
    ]
    # A withdrawn approval stops counting: bob's counts, then an admin deletes it.
    _approve_as(control_plane, "bob", namespace, "gated")
    status = _approvals_seen(kube_api, namespace, "gated", {"admin", "bob"})
    assert "1 of 2 approvals counted (by bob)" in status["message"]
    status = _withdraw(kube_api, namespace, "gated", "bob")
    assert "0 of 2 approvals counted" in status["message"]
    assert status["phase"] == "AwaitingApproval"
    _approve_as(control_plane, "alice", namespace, "gated")
    status = _approvals_seen(kube_api, namespace, "gated", {"admin", "alice"})
    assert "1 of 2 approvals counted (by alice)" in status["message"]
    assert status["phase"] == "AwaitingApproval" and not worker_jobs(kube_api, namespace, "gated")

    # The target changes under the waiting plan: a new plan, and no approval of the old one counts.
    approved_hash = status["plan"]["hash"]
    with psycopg.connect(pg_db2.libpq_dsn(), autocommit=True) as conn:
        conn.execute("ALTER TABLE artist ADD COLUMN legacy_flag boolean")

    def replanned() -> dict[str, Any] | None:
        now = get_migration(kube_api, namespace, "gated").get("status") or {}
        return now if (now.get("plan") or {}).get("hash") not in (None, approved_hash) else None

    status = wait_for(replanned, timeout=90, what="a new plan after the target changed")
    assert "0 of 2 approvals counted" in status["message"]
    counted = [(a["approver"], a["counted"]) for a in status["approvals"]]
    assert counted == [("admin", False), ("alice", False)]
    stale = next(a for a in status["approvals"] if a["approver"] == "alice")
    assert stale["reason"] == f"approves plan {approved_hash[:12]}, not the current one"
    _approve_as(control_plane, "alice", namespace, "gated")
    _approve_as(control_plane, "bob", namespace, "gated")
    done = wait_for_phase(kube_api, namespace, "gated", {"Succeeded"}, timeout=240)
    assert sorted(a["approver"] for a in done["status"]["approvals"] if a["counted"]) == ["alice", "bob"]

    # The run's report outlives the Migration: who approved, what ran, the script itself.
    report_name = wait_for(lambda: get_migration(kube_api, namespace, "gated")["status"].get("report"),
                           timeout=30, what="status.report")  # fmt: skip
    client.CustomObjectsApi(kube_api).delete_namespaced_custom_object(
        GROUP, VERSION, namespace, "migrations", "gated"
    )
    wait_for(
        lambda: not _exists(kube_api, namespace, "gated"), timeout=60, what="the Migration to be deleted"
    )
    kept = client.CoreV1Api(kube_api).read_namespaced_config_map(report_name, namespace)
    assert "ALTER TABLE public.artist DROP COLUMN legacy_note;" in kept.data["plan.sql"]
    assert "ALTER TABLE public.artist DROP COLUMN legacy_flag;" in kept.data["plan.sql"]
    shown = _ferry_cli(control_plane, "alice", "report", "mig/gated", "-n", namespace)
    assert "outcome: Succeeded" in shown and "approved by: alice, bob" in shown and "author admin" in shown

    # The Project counts the run from its report, after the Migration is gone.
    def usage() -> dict[str, Any] | None:
        project = client.CustomObjectsApi(kube_api).get_cluster_custom_object(
            GROUP, VERSION, "projects", namespace
        )
        counted = (project.get("status") or {}).get("usage") or {}
        return counted if counted.get("runs") == 1 else None

    counted = wait_for(usage, timeout=90, what="the Project's usage to count the run")
    assert counted["succeeded"] == 1 and counted["rowsCopied"] > 0

    texts = [body["text"] for path, body in hook.stop() if path == "/hooks/T0K3N"]
    assert [t.split(":")[1].strip() for t in texts] == [
        f"Migration {namespace}/gated AwaitingApproval", f"Migration {namespace}/gated Succeeded"
    ]  # fmt: skip
    client.CustomObjectsApi(kube_api).delete_cluster_custom_object(GROUP, VERSION, "projects", namespace)
