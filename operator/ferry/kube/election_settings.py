"""What the operator's leader election needs to know: the Lease, the candidate, the timing.

Pure (no Kubernetes client), so that the CLI parses and the unit tests check it without one;
`ferry.kube.leader_election` runs the election with it.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

DEFAULT_NAMESPACE: Final = "ferry-system"
# The Lease's name; the shipped Role grants get and update on this name only.
DEFAULT_LEASE_NAME: Final = "ferry-operator"
# How often a leader's watchdog looks at its last renewal; part of the bound on how long a
# leader that lost the lease may live (see `ElectionSettings.stop_grace`).
WATCH_INTERVAL: Final = 0.5


@dataclass(frozen=True)
class ElectionSettings:
    """Where the lease is, who we are, and the timing — client-go's defaults: a standby takes an
    abandoned lease 15 s after it last saw it renewed (a poll every 2 s: 15 to 19 s after the
    leader died), and a leader that cannot renew for 10 s stops."""

    namespace: str
    name: str
    identity: str
    lease_duration: float = 15
    renew_deadline: float = 10
    retry_period: float = 2

    def __post_init__(self) -> None:
        if self.stop_grace < 1:
            raise ValueError(
                f"lease_duration ({self.lease_duration}s) must exceed renew_deadline "
                f"({self.renew_deadline}s) by at least {WATCH_INTERVAL + 2}s, so that a leader that "
                "lost the lease is gone before a standby can take it"
            )

    @property
    def stop_grace(self) -> float:
        """How long kopf may take to stop once the lease is lost before the process is ended: what
        is left of the lease after the renew deadline, less the watchdog's interval and a second
        of margin (3.5 s). A standby cannot take the lease before `lease_duration` has passed since
        it saw the last renewal, so the old leader is gone first. (controller-runtime leaves the
        stop to the manager and exits; kopf finishing a handler is not worth a second leader.)"""
        return self.lease_duration - self.renew_deadline - WATCH_INTERVAL - 1

    @property
    def request_timeout(self) -> float:
        """Per Lease call. A renewal is a read and a write: both slow but successful must still fit
        in the renew deadline with a retry period between renewals (3 + 2 + 3 < 10)."""
        return max(1.0, (self.renew_deadline - self.retry_period) / 2 - 1)


def election_namespace(flag: str | None, environ: Mapping[str, str]) -> str:
    """The flag, else the pod's namespace (downward API `POD_NAMESPACE`), else ferry-system."""
    return flag or environ.get("POD_NAMESPACE") or DEFAULT_NAMESPACE


def candidate_identity(environ: Mapping[str, str], hostname: str | None = None) -> str:
    """`POD_NAME` (downward API) or the hostname, plus a random suffix.

    The suffix makes every process a new candidate, as controller-runtime's `<host>_<uuid>`: a
    restarted container never reads its predecessor's lease as its own and renews it at once,
    and two local runs on one machine never share an identity.
    """
    base = environ.get("POD_NAME") or hostname or socket.gethostname()
    return f"{base}_{uuid.uuid4().hex[:8]}"
