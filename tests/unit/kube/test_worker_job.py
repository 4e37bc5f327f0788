"""The worker Job: Indexed, deterministic per attempt, restricted, credentials only by reference."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ferry.api.connection import DatabaseConnectionSpec
from ferry.api.migration import MigrationSpec
from ferry.api.resources import ResourceRequirements
from ferry.db.credentials import EnvSecretSource, env_var_for, resolve_credentials
from ferry.kube.worker_job import (
    EXIT_NATIVE_APPLY_UNAVAILABLE,
    EXIT_SOURCE_SCHEMA_CHANGED,
    MAX_JOB_NAME,
    JobInputs,
    SecretEnvCollision,
    build_follower_job,
    build_validation_job,
    build_worker_job,
    follower_job_name,
    secret_keys_needed,
    worker_job_name,
)

# The Secrets of the test: their values must never show up in the Job.
SECRETS: dict[str, dict[str, str]] = {
    "src-creds": {"user": "reader-VALUE-1", "pass": "hunter2-VALUE-2"},
    "dst-url": {"url": "postgresql://app:VALUE-3@db/app"},
    "dst-ca": {"ca.crt": "-----BEGIN CERTIFICATE----- VALUE-4"},
    "dst-client": {"tls.crt": "CERT-VALUE-5", "tls.key": "KEY-VALUE-6"},
    "pii-key": {"key": "HMAC-VALUE-7", "aes": "AES-VALUE-8"},
    "unused-ca": {"ca.crt": "NEVER-NEEDED-VALUE-9"},
}

SOURCE = DatabaseConnectionSpec.model_validate(
    {
        "engine": "mysql",
        "host": "legacy",
        "database": "shop",
        "credentialsSecretRef": {"name": "src-creds", "usernameKey": "user", "passwordKey": "pass"},
        # TLS off: the CA is not needed and must not be mounted.
        "tls": {"mode": "disable", "caSecretRef": {"name": "unused-ca"}},
    }
)
TARGET = DatabaseConnectionSpec.model_validate(
    {
        "engine": "postgresql",
        "database": "shop",
        "urlSecretRef": {"name": "dst-url"},
        "tls": {
            "mode": "verify-full",
            "caSecretRef": {"name": "dst-ca"},
            "clientCertSecretRef": {"name": "dst-client"},
        },
    }
)
SPEC = MigrationSpec.model_validate(
    {
        "source": {"connectionRef": {"name": "legacy"}},
        "target": {"connectionRef": {"name": "modern"}},
        "tables": {
            "overrides": [
                {
                    "name": "customers",
                    "transforms": [
                        {
                            "column": "email",
                            "type": "hash",
                            "keySecretRef": {"name": "pii-key", "key": "key"},
                        },
                        {
                            "column": "ssn",
                            "type": "encrypt",
                            "keySecretRef": {"name": "pii-key", "key": "aes"},
                        },
                    ],
                },
                {
                    "name": "orders",
                    # The same key again: one env var, not two.
                    "transforms": [
                        {"column": "email", "type": "hash", "keySecretRef": {"name": "pii-key", "key": "key"}}
                    ],
                },
            ]
        },
        "job": {
            "backoffLimit": 3,
            "activeDeadlineSeconds": 7200,
            "nodeSelector": {"pool": "batch"},
            "tolerations": [{"key": "batch", "operator": "Exists", "effect": "NoSchedule"}],
        },
    }
)


def build(**overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "migration_name": "shop-to-pg",
        "namespace": "team-a",
        "migration_uid": "0f6c1c9e-1111-2222-3333-444455556666",
        "spec": SPEC,
        "source": SOURCE,
        "source_name": "legacy",
        "target": TARGET,
        "target_name": "modern",
        "attempt": 2,
        "plan_hash": "a1b2c3d4e5f6",
        "selection_hash": "0badc0ffee",
        "image": "ghcr.io/ferry-dev/ferry:0.1.0",
        "parallelism": 4,
        "service_account": "ferry-worker",
        "resources": ResourceRequirements.model_validate({"requests": {"cpu": "500m", "memory": "256Mi"}}),
    }
    kwargs.update(overrides)
    parallelism = kwargs.pop("parallelism")
    return build_worker_job(JobInputs(**kwargs), parallelism=parallelism)


def env_of(job: dict[str, Any]) -> dict[str, dict[str, Any]]:
    container = job["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e for e in container["env"]}


def test_job_is_indexed_with_one_completion_per_worker() -> None:
    job = build(parallelism=4)
    assert job["apiVersion"] == "batch/v1" and job["kind"] == "Job"
    assert job["spec"]["completionMode"] == "Indexed"
    assert job["spec"]["completions"] == 4
    assert job["spec"]["parallelism"] == 4
    assert env_of(job)["FERRY_WORKER_COUNT"]["value"] == "4"
    # Its own pod name: reconnect counts are per pod (ferry.observability.worker_sessions).
    assert env_of(job)["FERRY_POD_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}


def test_job_settings_come_from_the_migration_spec() -> None:
    job = build()
    assert job["spec"]["backoffLimit"] == 3
    assert job["spec"]["activeDeadlineSeconds"] == 7200
    assert job["spec"]["ttlSecondsAfterFinished"] == 3600
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["serviceAccountName"] == "ferry-worker"
    assert pod["nodeSelector"] == {"pool": "batch"}
    assert pod["tolerations"] == [{"key": "batch", "operator": "Exists", "effect": "NoSchedule"}]
    assert pod["containers"][0]["resources"] == {"requests": {"cpu": "500m", "memory": "256Mi"}, "limits": {}}
    assert pod["containers"][0]["command"] == ["ferry", "worker"]


def test_no_deadline_unless_the_spec_sets_one() -> None:
    spec = SPEC.model_copy(update={"job": SPEC.job.model_copy(update={"active_deadline_seconds": None})})
    assert "activeDeadlineSeconds" not in build(spec=spec)["spec"]


def test_name_is_deterministic_per_attempt() -> None:
    assert build()["metadata"]["name"] == "shop-to-pg-copy-2"
    assert build()["metadata"]["name"] == build()["metadata"]["name"]
    assert build(attempt=3)["metadata"]["name"] == "shop-to-pg-copy-3"


@pytest.mark.parametrize("name", ["m" * 253, "a.b." + "x" * 80, "a" * 55])
def test_long_or_dotted_names_stay_valid_dns_labels(name: str) -> None:
    job_name = worker_job_name(name, 12)
    assert len(job_name) <= MAX_JOB_NAME <= 63
    assert job_name.endswith("-copy-12")
    assert all(ch.isalnum() or ch == "-" for ch in job_name)
    assert job_name == worker_job_name(name, 12)
    assert job_name != worker_job_name(name + "y", 12)
    labels = build(migration_name=name, attempt=12)["metadata"]["labels"]
    assert len(labels["ferry.dev/migration"]) <= 63


def test_labels_and_owner_reference_tie_the_job_to_its_migration() -> None:
    job = build()
    labels = job["metadata"]["labels"]
    assert labels["app.kubernetes.io/name"] == "ferry-worker"
    assert labels["ferry.dev/migration"] == "shop-to-pg"
    assert labels["ferry.dev/attempt"] == "2"
    assert job["spec"]["template"]["metadata"]["labels"] == labels
    [owner] = job["metadata"]["ownerReferences"]
    assert owner == {
        "apiVersion": "ferry.dev/v1alpha1",
        "kind": "Migration",
        "name": "shop-to-pg",
        "uid": "0f6c1c9e-1111-2222-3333-444455556666",
        "controller": True,
        "blockOwnerDeletion": True,
    }


def test_security_context_is_restricted() -> None:
    pod = build()["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 65532
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is True
    container = pod["containers"][0]["securityContext"]
    assert container == {
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
    }
    [mount] = pod["containers"][0]["volumeMounts"]
    assert mount["mountPath"] == "/tmp"
    assert {"name": mount["name"], "emptyDir": {}} in pod["volumes"]


def test_identity_env_tells_the_worker_what_to_run() -> None:
    env = env_of(build())
    assert env["FERRY_MIGRATION_NAME"]["value"] == "shop-to-pg"
    assert env["FERRY_MIGRATION_NAMESPACE"]["value"] == "team-a"
    assert env["FERRY_MIGRATION_UID"]["value"] == "0f6c1c9e-1111-2222-3333-444455556666"
    assert env["FERRY_PLAN_HASH"]["value"] == "a1b2c3d4e5f6"
    assert env["FERRY_SELECTION_HASH"]["value"] == "0badc0ffee"
    assert env["FERRY_ATTEMPT"]["value"] == "2"


def test_secret_keys_needed_lists_every_key_once_sorted() -> None:
    assert secret_keys_needed(SPEC, SOURCE, TARGET) == [
        ("dst-ca", "ca.crt"),
        ("dst-client", "tls.crt"),
        ("dst-client", "tls.key"),
        ("dst-url", "url"),
        ("pii-key", "aes"),
        ("pii-key", "key"),
        ("src-creds", "pass"),
        ("src-creds", "user"),
    ]


def test_every_credential_arrives_as_a_secret_key_ref() -> None:
    env = env_of(build())
    for secret, key in secret_keys_needed(SPEC, SOURCE, TARGET):
        var = env[env_var_for(secret, key)]
        assert var == {
            "name": env_var_for(secret, key),
            "valueFrom": {"secretKeyRef": {"name": secret, "key": key}},
        }
    referenced = {
        e["valueFrom"]["secretKeyRef"]["name"]
        for e in env.values()
        if "secretKeyRef" in e.get("valueFrom", {})
    }
    assert "unused-ca" not in referenced


def test_the_pod_env_resolves_the_same_credentials_as_the_operator() -> None:
    """What the kubelet would put in the environment is enough for EnvSecretSource."""
    environ = {
        e["name"]: SECRETS[e["valueFrom"]["secretKeyRef"]["name"]][e["valueFrom"]["secretKeyRef"]["key"]]
        for e in env_of(build()).values()
        if "secretKeyRef" in e.get("valueFrom", {})
    }
    for conn in (SOURCE, TARGET):
        assert resolve_credentials(conn, EnvSecretSource(environ)) == resolve_credentials(conn, _DictSource())


class _DictSource:
    def get(self, name: str, key: str) -> str:
        return SECRETS[name][key]


def test_no_secret_value_appears_in_the_job() -> None:
    serialized = json.dumps(build())
    for values in SECRETS.values():
        for value in values.values():
            assert value not in serialized


def test_colliding_env_names_are_refused() -> None:
    spec = SPEC.model_copy(deep=True)
    spec.tables.overrides[0].transforms[0].key_secret_ref.name = "src"  # type: ignore[union-attr]
    spec.tables.overrides[0].transforms[0].key_secret_ref.key = "creds-pass"  # type: ignore[union-attr]
    # ("src", "creds-pass") and ("src-creds", "pass") are both FERRY_SECRET_SRC_CREDS_PASS.
    with pytest.raises(SecretEnvCollision) as raised:
        build(spec=spec)
    assert "FERRY_SECRET_SRC_CREDS_PASS" in str(raised.value)


# -- the follower Job (online mode) ----------------------------------------------------------------


def build_follower(**overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "migration_name": "shop-to-pg",
        "namespace": "team-a",
        "migration_uid": "0f6c1c9e-1111-2222-3333-444455556666",
        "spec": SPEC,
        "source": SOURCE,
        "source_name": "legacy",
        "target": TARGET,
        "target_name": "modern",
        "attempt": 1,
        "plan_hash": "a1b2c3d4e5f6",
        "selection_hash": "0badc0ffee",
        "image": "ghcr.io/ferry-dev/ferry:0.1.0",
        "service_account": "ferry-worker",
        "resources": None,
    }
    kwargs.update(overrides)
    return build_follower_job(JobInputs(**kwargs))


def test_the_follower_job_is_one_pod_running_worker_follow() -> None:
    job = build_follower()
    assert job["metadata"]["name"] == "shop-to-pg-follow-1" == follower_job_name("shop-to-pg", 1)
    assert "completionMode" not in job["spec"]
    assert job["spec"]["completions"] == job["spec"]["parallelism"] == 1
    pod = job["spec"]["template"]["spec"]
    assert pod["containers"][0]["command"] == ["ferry", "worker", "--follow"]
    assert pod["restartPolicy"] == "Never"  # a pod failure policy needs it
    assert job["metadata"]["labels"]["ferry.dev/role"] == "follower"
    assert job["metadata"]["ownerReferences"][0]["controller"] is True


def test_the_follower_gets_the_same_identity_and_references_as_a_copy_worker() -> None:
    follower, worker = build_follower(), build(attempt=1)
    assert env_of(follower) == {
        **env_of(worker),
        "FERRY_WORKER_COUNT": {"name": "FERRY_WORKER_COUNT", "value": "1"},
    }
    strip = ("containers",)
    assert {k: v for k, v in follower["spec"]["template"]["spec"].items() if k not in strip} == {
        k: v for k, v in worker["spec"]["template"]["spec"].items() if k not in strip
    }


def test_a_changed_source_table_or_impossible_native_apply_fails_the_follower_job_at_once() -> None:
    rules = build_follower()["spec"]["podFailurePolicy"]["rules"]
    codes = [EXIT_SOURCE_SCHEMA_CHANGED, EXIT_NATIVE_APPLY_UNAVAILABLE]
    assert rules[0] == {
        "action": "FailJob",
        "onExitCodes": {"containerName": "worker", "operator": "In", "values": codes},
    }
    assert codes == [3, 4]


def test_an_evicted_copy_worker_does_not_spend_a_retry() -> None:
    """A drained node or a preemption is not the worker's failure: the Job ignores the pod."""
    rules = build()["spec"]["podFailurePolicy"]["rules"]
    assert {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]} in rules
    assert build()["spec"]["template"]["spec"]["restartPolicy"] == "Never"  # what the policy requires


# -- the validation Job -----------------------------------------------------------------------------


def test_the_validation_job_is_indexed_like_the_copy_and_runs_worker_validate_for_its_run() -> None:
    inputs: dict[str, Any] = {
        "migration_name": "shop-to-pg", "namespace": "team-a",
        "migration_uid": "0f6c1c9e-1111-2222-3333-444455556666", "spec": SPEC, "source": SOURCE,
        "source_name": "legacy", "target": TARGET, "target_name": "modern", "attempt": 1,
        "plan_hash": "a1b2c3d4e5f6", "selection_hash": "0badc0ffee",
        "image": "ghcr.io/ferry-dev/ferry:0.1.0", "service_account": "ferry-worker", "resources": None,
    }  # fmt: skip
    job = build_validation_job(JobInputs(**inputs), parallelism=2, run=3)
    copy = build_worker_job(JobInputs(**inputs), parallelism=2)
    assert job["metadata"]["name"] == "shop-to-pg-validate-3"
    assert job["spec"]["completionMode"] == "Indexed" and job["spec"]["completions"] == 2
    assert job["metadata"]["labels"]["ferry.dev/role"] == "validator"
    pod = job["spec"]["template"]["spec"]
    assert pod["containers"][0]["command"] == ["ferry", "worker", "--validate"]
    assert env_of(job)["FERRY_VALIDATION_RUN"]["value"] == "3"
    # The same identity, references and Secret keys as a copy worker: no other permission needed.
    assert {k: v for k, v in env_of(job).items() if k != "FERRY_VALIDATION_RUN"} == env_of(copy)
    assert pod["serviceAccountName"] == copy["spec"]["template"]["spec"]["serviceAccountName"]
    assert job["metadata"]["ownerReferences"] == copy["metadata"]["ownerReferences"]
