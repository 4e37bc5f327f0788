"""A real Kubernetes control plane for tests: etcd, kube-apiserver and kube-controller-manager.

No Docker, no kubelet, no scheduler: the binaries built by `make controlplane` (found through
`KUBEBUILDER_ASSETS`, the envtest convention) run as local processes on free ports with their
state in a temporary directory. Pods stay Pending unless `harness.podrunner` runs them.

Authentication is a static token file: an admin in `system:masters` and restricted users
(`alice`, `bob`, … with no groups) that RBAC denies everything until a test binds them a role.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import shutil
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import yaml

from harness.pki import ControlPlanePki, generate_pki
from harness.processes import free_port, port_open, wait_until

REPO = Path(__file__).resolve().parents[2]
DEFAULT_ASSETS = REPO / ".cache" / "controlplane" / "bin"
BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager")
RESTRICTED_USERS = ("alice", "bob", "carol")
SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24"

# What a Job-running operator needs; no scheduler, kubelet or node controllers exist here.
CONTROLLERS = (
    "job-controller",
    "garbage-collector-controller",
    "namespace-controller",
    "serviceaccount-controller",  # creates the `default` ServiceAccount in every namespace
    "serviceaccount-token-controller",
    "root-ca-certificate-publisher-controller",  # the kube-root-ca.crt ConfigMap pods mount
    "clusterrole-aggregation-controller",  # aggregated ClusterRoles (ferry-admin/editor/viewer)
    "resourcequota-controller",  # a Project's ResourceQuota only admits objects once it has a status
    "ttl-after-finished-controller",
)
# What runs a Deployment's pods: only for control planes that install the operator the way a
# user does (tests/e2e/test_image_install.py). Off by default: other tests apply the install
# manifests, and their Deployment must stay without pods there.
WORKLOAD_CONTROLLERS = ("deployment-controller", "replicaset-controller")


class ControlPlaneError(RuntimeError):
    pass


def assets_dir() -> Path:
    path = Path(os.environ.get("KUBEBUILDER_ASSETS") or DEFAULT_ASSETS)
    missing = [name for name in BINARIES if not (path / name).is_file()]
    if missing:
        raise ControlPlaneError(
            f"control-plane binaries {missing} not found in {path} (KUBEBUILDER_ASSETS); "
            "run `make controlplane`"
        )
    return path


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def kubeconfig_yaml(server: str, ca_pem: bytes, token: str, user: str = "user") -> str:
    """A self-contained kubeconfig (CA embedded) authenticating with a bearer token."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "harness",
                "cluster": {
                    "server": server,
                    "certificate-authority-data": base64.b64encode(ca_pem).decode(),
                },
            }
        ],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": "harness", "context": {"cluster": "harness", "user": user}}],
        "current-context": "harness",
    }
    return yaml.safe_dump(config, sort_keys=False)


class ControlPlane:
    """etcd + kube-apiserver + kube-controller-manager in `base_dir` (a fresh temp dir by default)."""

    def __init__(
        self, base_dir: Path | None = None, assets: Path | None = None, extra_controllers: Sequence[str] = (),
        extra_apiserver_args: Sequence[str] = (),
    ) -> None:  # fmt: skip
        self.assets = assets or assets_dir()
        self.controllers = (*CONTROLLERS, *extra_controllers)
        self.extra_apiserver_args = tuple(
            extra_apiserver_args
        )  # e.g. an audit policy (tests/e2e/test_audit_policy.py)
        self.base_dir = base_dir or Path(tempfile.mkdtemp(prefix="ferry-kube-"))
        self.etcd_port = free_port()
        self.etcd_peer_port = free_port()
        self.apiserver_port = free_port()
        self.controller_manager_port = free_port()
        self.server = f"https://127.0.0.1:{self.apiserver_port}"
        self.admin_token = secrets.token_urlsafe(24)
        self._user_tokens = {name: secrets.token_urlsafe(24) for name in RESTRICTED_USERS}
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._pki: ControlPlanePki | None = None
        self.kubeconfig_path = self.base_dir / "admin.kubeconfig"
        self.startup_seconds: float | None = None
        self._token_file: Path | None = None

    # --- what clients need -------------------------------------------------------------------

    @property
    def ca_path(self) -> Path:
        if self._pki is None:
            raise ControlPlaneError("control plane not started")
        return self._pki.ca_cert

    def user_token(self, name: str) -> str:
        """The bearer token of a restricted test user (no groups, so no permissions until bound)."""
        return self._user_tokens[name]

    def kubeconfig_for_token(self, token: str, name: str) -> Path:
        """Write a kubeconfig file authenticating with `token`; `name` makes the file name unique."""
        path = self.base_dir / "kubeconfigs" / f"{name}.kubeconfig"
        path.parent.mkdir(exist_ok=True)
        path.write_text(kubeconfig_yaml(self.server, self.ca_path.read_bytes(), token, user=name))
        path.chmod(0o600)
        return path

    def log_path(self, component: str) -> Path:
        return self.base_dir / "logs" / f"{component}.log"

    def kubectl(
        self, *args: str, token: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run the kubectl built beside the control plane (admin unless `token` says otherwise)."""
        kubeconfig = self.kubeconfig_path if token is None else self.kubeconfig_for_token(token, "kubectl")
        return subprocess.run(
            [str(self.assets / "kubectl"), f"--kubeconfig={kubeconfig}", *args],
            capture_output=True,
            text=True,
            check=check,
        )

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> ControlPlane:
        started = time.monotonic()
        try:
            self._start_all()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        print(
            f"\ncontrol plane up at {self.server} in {self.startup_seconds:.1f}s (state in {self.base_dir})"
        )
        return self

    def _start_all(self) -> None:
        (self.base_dir / "logs").mkdir(parents=True, exist_ok=True)
        self._pki = generate_pki(
            self.base_dir / "pki", ["127.0.0.1", "localhost", "10.0.0.1", "kubernetes.default.svc"]
        )
        self.kubeconfig_path.write_text(
            kubeconfig_yaml(self.server, self._pki.ca_cert.read_bytes(), self.admin_token)
        )
        self.kubeconfig_path.chmod(0o600)
        token_file = self.base_dir / "tokens.csv"
        lines = [f'{self.admin_token},admin,admin-uid,"system:masters"']
        lines += [f"{token},{name},{name}-uid" for name, token in self._user_tokens.items()]
        token_file.write_text("\n".join(lines) + "\n")
        token_file.chmod(0o600)
        self._token_file = token_file

        self._spawn("etcd", self._etcd_args())
        self._wait("etcd", lambda: port_open(self.etcd_port), timeout=30)
        self._spawn("kube-apiserver", self._apiserver_args(token_file))
        self._wait("kube-apiserver", self._apiserver_ready, timeout=90)
        self._spawn("kube-controller-manager", self._controller_manager_args())
        # The serviceaccount controller creating `default` proves the controller manager is working.
        self._wait("kube-controller-manager", self._default_service_account_exists, timeout=60)

    def stop(self) -> None:
        for name in reversed(list(self._processes)):
            process = self._processes.pop(name)
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()

    def stop_apiserver(self) -> None:
        """Stop kube-apiserver alone (SIGTERM, as a restart or upgrade would); etcd and the
        controller manager keep running, and every client sees connections refused."""
        process = self._processes["kube-apiserver"]
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def start_apiserver(self) -> None:
        """Start kube-apiserver again on the same port, state and certificates; wait until ready."""
        assert self._token_file is not None, "control plane not started"
        self._spawn("kube-apiserver", self._apiserver_args(self._token_file), append=True)
        self._wait("kube-apiserver", self._apiserver_ready, timeout=90)

    @contextlib.contextmanager
    def apiserver_down(self, seconds: float) -> Iterator[None]:
        """kube-apiserver stopped for `seconds`, then started again (the body runs while it is down)."""
        self.stop_apiserver()
        stopped = time.monotonic()
        try:
            yield
            time.sleep(max(0.0, seconds - (time.monotonic() - stopped)))
        finally:
            self.start_apiserver()

    def cleanup(self) -> None:
        """Stop, then remove the state directory (keep it when debugging a failure)."""
        self.stop()
        shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> ControlPlane:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    # --- internals ---------------------------------------------------------------------------

    def _spawn(self, name: str, args: Sequence[str], append: bool = False) -> None:
        with self.log_path(name).open("ab" if append else "wb") as log:
            self._processes[name] = subprocess.Popen(
                [str(self.assets / name), *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.base_dir,
            )

    def _wait(self, name: str, check: Callable[[], bool], timeout: float) -> None:
        process = self._processes[name]

        def ready() -> bool:
            if process.poll() is not None:
                raise ControlPlaneError(
                    f"{name} exited with code {process.returncode} during start-up; "
                    f"log tail ({self.log_path(name)}):\n{_tail(self.log_path(name))}"
                )
            return check()

        try:
            wait_until(ready, timeout=timeout, what=f"{name} to become ready", interval=0.2)
        except TimeoutError as error:
            raise ControlPlaneError(
                f"{error}; log tail ({self.log_path(name)}):\n{_tail(self.log_path(name))}"
            ) from None

    def _get(self, path: str) -> int:
        assert self._pki is not None
        context = ssl.create_default_context(cafile=str(self._pki.ca_cert))
        request = urllib.request.Request(
            self.server + path, headers={"Authorization": f"Bearer {self.admin_token}"}
        )
        try:
            with urllib.request.urlopen(request, context=context, timeout=5) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except (urllib.error.URLError, OSError):
            return 0

    def _apiserver_ready(self) -> bool:
        return self._get("/readyz") == 200

    def _default_service_account_exists(self) -> bool:
        return self._get("/api/v1/namespaces/default/serviceaccounts/default") == 200

    def _etcd_args(self) -> list[str]:
        client_url = f"http://127.0.0.1:{self.etcd_port}"
        return [
            f"--data-dir={self.base_dir / 'etcd'}",
            f"--listen-client-urls={client_url}",
            f"--advertise-client-urls={client_url}",
            f"--listen-peer-urls=http://127.0.0.1:{self.etcd_peer_port}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{self.etcd_peer_port}",
            f"--initial-cluster=default=http://127.0.0.1:{self.etcd_peer_port}",
            "--unsafe-no-fsync=true",
            "--watch-progress-notify-interval=5s",
            "--log-level=warn",
        ]

    def _apiserver_args(self, token_file: Path) -> list[str]:
        assert self._pki is not None
        return [
            f"--etcd-servers=http://127.0.0.1:{self.etcd_port}",
            f"--cert-dir={self.base_dir / 'apiserver-certs'}",
            f"--tls-cert-file={self._pki.serving_cert}",
            f"--tls-private-key-file={self._pki.serving_key}",
            f"--secure-port={self.apiserver_port}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
            "--authorization-mode=RBAC",
            # On top of the default set (NamespaceLifecycle, ServiceAccount, ResourceQuota,
            # LimitRanger, PodSecurity, ValidatingAdmissionPolicy, ...), the plugins production
            # clusters add: OwnerReferencesPermissionEnforcement makes a Job's blockOwnerDeletion
            # owner reference need `update` on migrations/finalizers; NodeRestriction limits kubelets.
            "--enable-admission-plugins=OwnerReferencesPermissionEnforcement,NodeRestriction",
            f"--token-auth-file={token_file}",
            f"--client-ca-file={self._pki.ca_cert}",
            f"--service-account-issuer={self.server}",
            f"--service-account-key-file={self._pki.service_account_key}",
            f"--service-account-signing-key-file={self._pki.service_account_key}",
            "--endpoint-reconciler-type=none",
            "--allow-privileged=true",
            "--v=1",
            *self.extra_apiserver_args,
        ]

    def _controller_manager_args(self) -> list[str]:
        assert self._pki is not None
        return [
            f"--kubeconfig={self.kubeconfig_path}",
            f"--authentication-kubeconfig={self.kubeconfig_path}",
            f"--authorization-kubeconfig={self.kubeconfig_path}",
            f"--controllers={','.join(self.controllers)}",
            f"--service-account-private-key-file={self._pki.service_account_key}",
            f"--root-ca-file={self._pki.ca_cert}",
            "--leader-elect=false",
            "--bind-address=127.0.0.1",
            f"--secure-port={self.controller_manager_port}",
            f"--cert-dir={self.base_dir / 'controller-manager-certs'}",
            "--v=1",
        ]
