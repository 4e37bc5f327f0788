"""Connection factories for the copy engine, for one side of a migration."""

from __future__ import annotations

from ferry.copy import Endpoints
from ferry.copy.endpoints import Endpoint, endpoint_from_spec
from ferry.services.planning import Side


def endpoint_for(side: Side, *, read_only: bool = False) -> Endpoint:
    return endpoint_from_spec(side.spec, side.credentials, read_only=read_only)


def endpoints_for(source: Side, target: Side) -> Endpoints:
    """The source's sessions are read-only: the copy and its validation never write there."""
    return Endpoints(endpoint_for(source, read_only=True), endpoint_for(target))
