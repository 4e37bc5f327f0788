"""The API client of a cluster command, with its failures as one line for the user: the API
server's own message when it sent one (it names the object and verb, never data), or what is
wrong with the kubeconfig. Commands catch `ClusterError`, print it and exit non-zero."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from ferry.kube.client import load_api_client


class ClusterError(Exception):
    """The cluster could not be asked: the text is for the user."""


def api_message(error: ApiException, not_found: str | None = None) -> str:
    """`not_found` for a 404 when given; else the server's message, or its status line."""
    if error.status == 404 and not_found:
        return not_found
    try:
        message = json.loads(error.body or "{}").get("message")
    except (ValueError, AttributeError):
        message = None
    return str(message) if message else f"the API server answered {error.status} {error.reason}"


@contextmanager
def cluster_api(kubeconfig: str | None, not_found: str | None = None) -> Iterator[client.ApiClient]:
    try:
        with load_api_client(kubeconfig) as api:
            yield api
    except ApiException as error:
        raise ClusterError(api_message(error, not_found)) from error
    except ConfigException as error:
        raise ClusterError(f"no usable kubeconfig: {error}") from error
