"""Kubernetes API clients, built on demand — never a global configured at import time.

Inside a pod the in-cluster ServiceAccount is used; elsewhere the kubeconfig (KUBECONFIG or
~/.kube/config), which is also how the test pod runner hands a worker its own token.
"""

from __future__ import annotations

import os
import threading

from kubernetes import client, config

_shared: client.ApiClient | None = None
_shared_lock = threading.Lock()


def load_api_client(
    kubeconfig: str | None = None, context: str | None = None, *, retries: int | None = None
) -> client.ApiClient:
    """`retries`: urllib3's retries of a failed connection or read; None keeps urllib3's default
    (3), 0 makes one attempt per call for callers that retry on their own schedule."""
    configuration = client.Configuration()
    configuration.retries = retries
    if kubeconfig is None and os.environ.get("KUBERNETES_SERVICE_HOST") and not os.environ.get("KUBECONFIG"):
        config.load_incluster_config(client_configuration=configuration)
    else:
        config.load_kube_config(
            config_file=kubeconfig, context=context, client_configuration=configuration, persist_config=False
        )
    return client.ApiClient(configuration)


def shared_api_client() -> client.ApiClient:
    """The operator's one API client, built on first use and kept for the life of the process.

    Building a client reads the kubeconfig (or the ServiceAccount token) and opens a new
    connection pool, so a client per handler call costs a TLS handshake per call; this one keeps
    its connections alive. The generated client is safe to share between kopf's handler threads
    (urllib3's pool is thread-safe) and is never closed: the process owns it."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = load_api_client()
        return _shared


def current_namespace(kubeconfig: str | None = None) -> str:
    """The namespace of the kubeconfig's current context, or of the pod's ServiceAccount."""
    token_ns = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"  # noqa: S105 (a path, not a token)
    if os.path.exists(token_ns) and not os.environ.get("KUBECONFIG"):
        with open(token_ns) as fh:
            return fh.read().strip()
    try:
        _, active = config.list_kube_config_contexts(config_file=kubeconfig)
    except (config.ConfigException, FileNotFoundError):
        return "default"
    namespace: str = (active or {}).get("context", {}).get("namespace") or "default"
    return namespace
