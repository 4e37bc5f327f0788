"""Connection factories for the copy engine, for one side of a migration."""

from __future__ import annotations

from ferry.copy import Endpoints
from ferry.copy.endpoints import Endpoint, endpoint_from_spec
from ferry.services.planning import Side


def endpoint_for(side: Side) -> Endpoint:
    return endpoint_from_spec(side.spec, side.credentials)


def endpoints_for(source: Side, target: Side) -> Endpoints:
    return Endpoints(endpoint_for(source), endpoint_for(target))
