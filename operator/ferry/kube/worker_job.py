"""Pure builder of the Indexed Job that runs a Migration's copy, one pod per worker index.

The Job carries references, never values: every Secret key the worker needs arrives as a
`secretKeyRef` env var named by `env_var_for(secret, key)`, which is exactly what
`EnvSecretSource` reads in the pod. The Job therefore holds no credential, and the worker's
ServiceAccount needs no access to Secrets (see worker_rbac).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Final

from ferry.api.connection import DatabaseConnectionSpec, TLSMode
from ferry.api.kinds import API_VERSION, GROUP, MIGRATION
from ferry.api.migration import MigrationSpec
from ferry.api.resources import ResourceRequirements
from ferry.db.credentials import env_var_for

WORKER_APP = "ferry-worker"
CONTAINER_NAME = "worker"
MIGRATION_LABEL = f"{GROUP}/migration"
ATTEMPT_LABEL = f"{GROUP}/attempt"
PLAN_HASH_ANNOTATION = f"{GROUP}/plan-hash"
ROLE_LABEL = f"{GROUP}/role"  # "follower" on an online Migration's follower Job and pod
# The follower's exit code when a followed source table changed structure (ferry.worker.follow).
EXIT_SOURCE_SCHEMA_CHANGED = 3
EXIT_NATIVE_APPLY_UNAVAILABLE = 4  # spec.online.apply: native cannot run (ferry.worker.follow)
# The pod runs as this non-root user (the distroless "nonroot" uid the image is built for).
WORKER_UID = 65532

# An Indexed Job's pods get the hostname `<job>-<index>`, a DNS label of at most 63
# characters; parallelism is at most 64, so the index takes two digits and a dash.
MAX_JOB_NAME = 60
_LABEL_VALUE_MAX = 63


class SecretEnvCollision(ValueError):
    """Two Secret keys map to one FERRY_SECRET_* env var, so the worker could not tell them apart."""

    def __init__(self, env: str, first: tuple[str, str], second: tuple[str, str]) -> None:
        super().__init__(
            f'Secret keys "{first[0]}/{first[1]}" and "{second[0]}/{second[1]}" both map to env var {env}; '
            "rename one Secret or key"
        )
        self.env = env


def _digest(text: str, length: int = 8) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def _bounded(name: str, limit: int) -> str:
    """`name` as a DNS label of at most `limit` characters; altered names get a hash suffix.

    Dots are replaced (a Migration name may contain them, a hostname label may not); when the
    name had to change, an 8-character hash of the original keeps different names apart.
    """
    cleaned = re.sub(r"[^a-z0-9-]", "-", name.lower())
    if cleaned == name and len(name) <= limit:
        return name
    suffix = "-" + _digest(name)
    return cleaned[: limit - len(suffix)].rstrip("-") + suffix


def worker_job_name(migration_name: str, attempt: int) -> str:
    """`<migration>-copy-<attempt>`: deterministic, so a controller restart finds the same Job."""
    tail = f"-copy-{attempt}"
    return _bounded(migration_name, MAX_JOB_NAME - len(tail)) + tail


def follower_job_name(migration_name: str, attempt: int) -> str:
    """`<migration>-follow-<attempt>`: the online follower's Job, deterministic like the copy's."""
    tail = f"-follow-{attempt}"
    return _bounded(migration_name, MAX_JOB_NAME - len(tail)) + tail


def validation_job_name(migration_name: str, run: int) -> str:
    """`<migration>-validate-<run>`: one Job per validation run, found again after a restart."""
    tail = f"-validate-{run}"
    return _bounded(migration_name, MAX_JOB_NAME - len(tail)) + tail


def migration_label_value(migration_name: str) -> str:
    """The Migration's name as a label value (at most 63 characters; longer names are hashed)."""
    return _bounded(migration_name, _LABEL_VALUE_MAX)


def worker_labels(migration_name: str, attempt: int) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": WORKER_APP,
        "app.kubernetes.io/managed-by": "ferry",
        MIGRATION_LABEL: migration_label_value(migration_name),
        ATTEMPT_LABEL: str(attempt),
    }


def _connection_keys(conn: DatabaseConnectionSpec) -> list[tuple[str, str]]:
    keys: list[tuple[str, str]] = []
    if conn.credentials_secret_ref is not None:
        ref = conn.credentials_secret_ref
        keys += [(ref.name, ref.username_key), (ref.name, ref.password_key)]
    if conn.url_secret_ref is not None:
        keys.append((conn.url_secret_ref.name, conn.url_secret_ref.key))
    # Same rule as resolve_credentials: TLS material is read only when TLS is on.
    if conn.tls.mode != TLSMode.DISABLE:
        if conn.tls.ca_secret_ref is not None:
            keys.append((conn.tls.ca_secret_ref.name, conn.tls.ca_secret_ref.key))
        if conn.tls.client_cert_secret_ref is not None:
            cert = conn.tls.client_cert_secret_ref
            keys += [(cert.name, cert.cert_key), (cert.name, cert.key_key)]
    return keys


def secret_keys_needed(
    spec: MigrationSpec, source: DatabaseConnectionSpec, target: DatabaseConnectionSpec
) -> list[tuple[str, str]]:
    """Every (Secret name, key) the worker reads: both connections' credentials and TLS, transform
    keys, the throttle guard's token."""
    keys = _connection_keys(source) + _connection_keys(target)
    for override in spec.tables.overrides:
        for transform in override.transforms:
            if transform.key_secret_ref is not None:
                keys.append((transform.key_secret_ref.name, transform.key_secret_ref.key))
    guard = spec.copy_.throttle.guard
    if guard is not None and guard.credentials_secret_ref is not None:
        keys.append((guard.credentials_secret_ref.name, guard.credentials_secret_ref.key))
    return sorted(set(keys))


def secret_env(keys: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """One secretKeyRef env var per key. Not optional: a missing key keeps the pod from starting,
    which the operator reports, instead of a worker failing later with a confusing error."""
    seen: dict[str, tuple[str, str]] = {}
    env = []
    for secret, key in keys:
        name = env_var_for(secret, key)
        if name in seen and seen[name] != (secret, key):
            raise SecretEnvCollision(name, seen[name], (secret, key))
        seen[name] = (secret, key)
        env.append({"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}})
    return env


def _owner_reference(migration_name: str, migration_uid: str) -> dict[str, Any]:
    # controller + blockOwnerDeletion: the garbage collector deletes the Job (and its pods)
    # with the Migration, and foreground deletion of the Migration waits for them.
    return {
        "apiVersion": API_VERSION,
        "kind": MIGRATION.kind,
        "name": migration_name,
        "uid": migration_uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _worker_env(
    *,
    migration_name: str,
    namespace: str,
    migration_uid: str,
    spec: MigrationSpec,
    source: DatabaseConnectionSpec,
    source_name: str,
    target: DatabaseConnectionSpec,
    target_name: str,
    attempt: int,
    plan_hash: str,
    selection_hash: str,
    worker_count: int,
) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = [
        {"name": "FERRY_MIGRATION_NAME", "value": migration_name},
        {"name": "FERRY_MIGRATION_NAMESPACE", "value": namespace},
        {"name": "FERRY_MIGRATION_UID", "value": migration_uid},
        {"name": "FERRY_PLAN_HASH", "value": plan_hash},
        # The worker refuses to copy when the tables, columns, filters or transforms it derives
        # from the live spec differ from the approved plan's (ferry.schema.plan.selection_hash).
        {"name": "FERRY_SELECTION_HASH", "value": selection_hash},
        {"name": "FERRY_WORKER_COUNT", "value": str(worker_count)},
        {"name": "FERRY_ATTEMPT", "value": str(attempt)},
        {"name": "FERRY_SOURCE_CONNECTION", "value": source_name},
        {"name": "FERRY_TARGET_CONNECTION", "value": target_name},
        # Its own name (an Indexed Job's pod has the hostname <job>-<index>, the same for a retry):
        # the operator tells a new pod's reconnect count from the previous one's by it.
        {"name": "FERRY_POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
    ]
    return env + secret_env(secret_keys_needed(spec, source, target))


def _pod_spec(
    spec: MigrationSpec,
    *,
    command: list[str],
    env: list[dict[str, Any]],
    image: str,
    service_account: str,
    resources: ResourceRequirements | None,
) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": CONTAINER_NAME,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": command,
        "env": env,
        "securityContext": {
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
        # TLS material is written to temporary files for the drivers; the root fs is read-only.
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    if resources is not None:
        container["resources"] = resources.to_wire()
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "serviceAccountName": service_account,
        # The worker patches Migration status with this ServiceAccount's token.
        "automountServiceAccountToken": True,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": WORKER_UID,
            "runAsGroup": WORKER_UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
        "volumes": [{"name": "tmp", "emptyDir": {}}],
    }
    if spec.job.node_selector:
        pod_spec["nodeSelector"] = dict(spec.job.node_selector)
    if spec.job.tolerations:
        pod_spec["tolerations"] = [t.to_wire() for t in spec.job.tolerations]
    return pod_spec


def _job(
    *,
    name: str,
    namespace: str,
    migration_name: str,
    migration_uid: str,
    labels: dict[str, str],
    plan_hash: str,
    pod_spec: dict[str, Any],
    job_spec: dict[str, Any],
    spec: MigrationSpec,
) -> dict[str, Any]:
    job_spec = {
        **job_spec,
        "backoffLimit": spec.job.backoff_limit,
        "ttlSecondsAfterFinished": spec.job.ttl_seconds_after_finished,
        "template": {
            "metadata": {"labels": dict(labels), "annotations": {PLAN_HASH_ANNOTATION: plan_hash}},
            "spec": pod_spec,
        },
    }
    if spec.job.active_deadline_seconds is not None:
        job_spec["activeDeadlineSeconds"] = spec.job.active_deadline_seconds
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": labels,
            "annotations": {PLAN_HASH_ANNOTATION: plan_hash},
            "ownerReferences": [_owner_reference(migration_name, migration_uid)],
        },
        "spec": job_spec,
    }


@dataclass(frozen=True)
class JobInputs:
    """What every worker pod of a Migration is built from, the copy's and the follower's alike.

    `source_name`/`target_name` are the DatabaseConnection names, passed to the worker as
    FERRY_SOURCE_CONNECTION/FERRY_TARGET_CONNECTION so it reads the same objects the plan used.
    """

    migration_name: str
    namespace: str
    migration_uid: str
    spec: MigrationSpec
    source: DatabaseConnectionSpec
    source_name: str
    target: DatabaseConnectionSpec
    target_name: str
    attempt: int
    plan_hash: str
    image: str
    service_account: str
    resources: ResourceRequirements | None
    selection_hash: str = ""


# A pod evicted or preempted (a drained node, a higher-priority pod) did nothing wrong: its
# retry does not count against backoffLimit.
IGNORE_DISRUPTIONS: Final = {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}


def _worker_pod(inputs: JobInputs, command: list[str], worker_count: int) -> dict[str, Any]:
    env = _worker_env(
        migration_name=inputs.migration_name, namespace=inputs.namespace, migration_uid=inputs.migration_uid,
        spec=inputs.spec, source=inputs.source, source_name=inputs.source_name, target=inputs.target,
        target_name=inputs.target_name, attempt=inputs.attempt, plan_hash=inputs.plan_hash,
        selection_hash=inputs.selection_hash, worker_count=worker_count,
    )  # fmt: skip
    return _pod_spec(
        inputs.spec, command=command, env=env, image=inputs.image, service_account=inputs.service_account,
        resources=inputs.resources,
    )  # fmt: skip


def _inputs_job(inputs: JobInputs, name: str, labels: dict[str, str], pod_spec: dict[str, Any],
                job_spec: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    return _job(
        name=name, namespace=inputs.namespace, migration_name=inputs.migration_name,
        migration_uid=inputs.migration_uid, labels=labels, plan_hash=inputs.plan_hash, pod_spec=pod_spec,
        job_spec=job_spec, spec=inputs.spec,
    )  # fmt: skip


def build_worker_job(inputs: JobInputs, *, parallelism: int) -> dict[str, Any]:
    """The batch/v1 Job of one copy attempt: `parallelism` pods, each taking units by its index."""
    pod_spec = _worker_pod(inputs, ["ferry", "worker"], parallelism)
    job_spec = {"completionMode": "Indexed", "completions": parallelism, "parallelism": parallelism,
                "podFailurePolicy": {"rules": [IGNORE_DISRUPTIONS]}}  # fmt: skip
    name = worker_job_name(inputs.migration_name, inputs.attempt)
    return _inputs_job(inputs, name, worker_labels(inputs.migration_name, inputs.attempt), pod_spec, job_spec)


def build_follower_job(inputs: JobInputs) -> dict[str, Any]:
    """The batch/v1 Job of one follower attempt (online mode): one pod, `ferry worker --follow`.

    The same pod as a copy worker's (identity, env, security context), so it needs no other
    permission. It ends only at the cutover (exit 0); a crash or a kill (137) is retried by the
    Job controller up to backoffLimit and resumes from the position stored on the target. Exit
    code 3 (EXIT_SOURCE_SCHEMA_CHANGED) fails the Job at once through the pod failure policy:
    a changed source table does not heal by retrying. So does exit code 4
    (EXIT_NATIVE_APPLY_UNAVAILABLE): native apply asked for and not possible.
    """
    pod_spec = _worker_pod(inputs, ["ferry", "worker", "--follow"], 1)
    labels = {**worker_labels(inputs.migration_name, inputs.attempt), ROLE_LABEL: "follower"}
    schema_changed = {
        "action": "FailJob",
        "onExitCodes": {
            "containerName": CONTAINER_NAME,
            "operator": "In",
            "values": [EXIT_SOURCE_SCHEMA_CHANGED, EXIT_NATIVE_APPLY_UNAVAILABLE],
        },
    }
    job_spec = {"completions": 1, "parallelism": 1,
                "podFailurePolicy": {"rules": [schema_changed, IGNORE_DISRUPTIONS]}}  # fmt: skip
    name = follower_job_name(inputs.migration_name, inputs.attempt)
    return _inputs_job(inputs, name, labels, pod_spec, job_spec)


def build_validation_job(inputs: JobInputs, *, parallelism: int, run: int) -> dict[str, Any]:
    """The batch/v1 Job of one validation run: `parallelism` pods of `ferry worker --validate`,
    each comparing every `parallelism`-th key range and storing its results on the target
    (ferry.copy.validation_store), where the operator reads them. The same pod as a copy
    worker's (identity, env, security context): it needs no other permission. A retried pod
    skips the ranges already stored for the run."""
    pod_spec = _worker_pod(inputs, ["ferry", "worker", "--validate"], parallelism)
    pod_spec["containers"][0]["env"].insert(0, {"name": "FERRY_VALIDATION_RUN", "value": str(run)})
    labels = {**worker_labels(inputs.migration_name, inputs.attempt), ROLE_LABEL: "validator"}
    job_spec = {"completionMode": "Indexed", "completions": parallelism, "parallelism": parallelism,
                "podFailurePolicy": {"rules": [IGNORE_DISRUPTIONS]}}  # fmt: skip
    return _inputs_job(inputs, validation_job_name(inputs.migration_name, run), labels, pod_spec, job_spec)
