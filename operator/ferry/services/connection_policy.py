"""A Project's connection rules (`policy.connections`) applied to one DatabaseConnection. Pure.

The rules are enforced twice. At admission, a ValidatingAdmissionPolicy
(manifests/policies/ferry-connection-policy.yaml) checks what the object shows. Here, the
operator checks what the connection will really use, before any Secret is read (the Secret
names) and before any network connection (host, port, routing parameters) — including the host
and port of a URL in a Secret (`urlSecretRef`), which admission cannot see. The two must agree;
tests/unit/services/test_connection_policy.py holds the cases, and the e2e test runs them
against the real policy.

What an entry of `allowedHosts` matches:
- a host is an IP literal (strict: no zone, no short or octal forms) or a DNS name (ASCII
  letters, digits, `-`, `_`, dots). A name whose last label is all digits or `0x…` is neither:
  resolvers read `127.1` or `0x7f000001` as addresses, so such a name would dodge the CIDRs.
  Anything else — a libpq host list `a,b`, a socket path — matches nothing;
- an IP or CIDR entry matches IP literals inside it. Names are never resolved: DNS can change
  after the check, and admission cannot resolve. Pin names with name entries;
- `*.example.com` matches any name below example.com, not example.com itself; any other entry
  matches the name exactly, ignoring case.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ferry.api import conditions as c
from ferry.api.connection import DatabaseConnectionSpec, Engine
from ferry.api.project import ConnectionRules
from ferry.db.credentials import Credentials
from ferry.db.target import ConnectionTarget, InvalidConnection, resolve_target
from ferry.services.policy import Governance

# Driver parameters that choose where to connect (libpq: host, hostaddr, port, service and its
# file; PyMySQL: unix_socket and option files that may set a host). In `options.params` or a
# URL's query they would override the checked host, so they are refused while hosts or ports
# are pinned. Keep in step with the admission policy's list.
ROUTING_PARAMS = frozenset(
    {"host", "hostaddr", "port", "service", "servicefile", "unix_socket", "read_default_file",
     "read_default_group"}
)  # fmt: skip

_LABEL = r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?"
_NAME = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")
_NUMERIC_LAST_LABEL = re.compile(r"(^|\.)([0-9]+|0x[0-9a-f]*)$")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Refusal:
    """Why a connection may not be used: a condition reason and a message naming the field."""

    reason: str
    message: str


def ip_literal(host: str) -> IPAddress | None:
    if "%" in host:  # an IPv6 zone: not something admission's ip() accepts either
        return None
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def is_host_name(host: str) -> bool:
    """A DNS name as the rules understand it (lower case; see the module docstring)."""
    return host.isascii() and bool(_NAME.match(host)) and not _NUMERIC_LAST_LABEL.search(host)


def _network(entry: str) -> IPNetwork | None:
    try:
        return ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return None


def host_allowed(host: str, entries: Sequence[str]) -> bool:
    """Whether `host` matches an entry of `allowedHosts` (an empty list allows any host)."""
    if not entries:
        return True
    if not host.isascii():
        return False
    host = host.lower()
    address = ip_literal(host)
    name = address is None and is_host_name(host)
    for entry in entries:
        network = _network(entry)
        if network is not None:
            if address is not None and address in network:  # False across IPv4/IPv6
                return True
        elif not name:
            continue
        elif entry.startswith("*."):
            if host.endswith(entry[1:].lower()):
                return True
        elif host == entry.lower():
            return True
    return False


def port_allowed(port: int, ports: Sequence[int]) -> bool:
    return not ports or port in ports


def secret_allowed(name: str, globs: Sequence[str]) -> bool:
    """Whether a Secret name matches a glob of `allowedSecrets` (an empty list allows any)."""
    return not globs or any(fnmatch.fnmatchcase(name, glob) for glob in globs)


def secret_refs(spec: DatabaseConnectionSpec) -> list[tuple[str, str]]:
    """(field, Secret name) of every Secret the connection references, TLS ones included."""
    refs = [
        ("spec.credentialsSecretRef.name", spec.credentials_secret_ref),
        ("spec.urlSecretRef.name", spec.url_secret_ref),
        ("spec.tls.caSecretRef.name", spec.tls.ca_secret_ref),
        ("spec.tls.clientCertSecretRef.name", spec.tls.client_cert_secret_ref),
    ]
    return [(field, ref.name) for field, ref in refs if ref is not None]


def _project(governance: Governance) -> str:
    return f'Project "{governance.project}"'


def refused_secrets(spec: DatabaseConnectionSpec, governance: Governance) -> Refusal | None:
    """Check the Secret names; call it before reading any of them."""
    globs = governance.policy.connections.allowed_secrets
    for field, name in secret_refs(spec):
        if not secret_allowed(name, globs):
            return Refusal(
                c.SECRET_NOT_ALLOWED,
                f'{field}: Secret "{name}" is not allowed by {_project(governance)} '
                f"(policy.connections.allowedSecrets: {', '.join(globs)}); the Secret was not read",
            )
    return None


def _url(spec: DatabaseConnectionSpec) -> str:
    ref = spec.url_secret_ref
    return f'the URL in Secret "{ref.name}" key "{ref.key}" (spec.urlSecretRef)' if ref else "the URL"


def _where(spec: DatabaseConnectionSpec, field: str) -> str:
    """The field a value came from: the spec's, or the URL's in a Secret when the spec leaves it out."""
    if spec.url_secret_ref is not None and getattr(spec, field) is None:
        return _url(spec)
    return f"spec.{field}"


def refused_target(
    spec: DatabaseConnectionSpec, target: ConnectionTarget, governance: Governance
) -> Refusal | None:
    """Check where the connection would go (host, port, routing parameters); call it before connecting."""
    rules: ConnectionRules = governance.policy.connections
    if target.engine == Engine.SQLITE or not rules.restricts_destination():
        return None
    project, nothing = _project(governance), "no connection was made"
    routing = sorted(key for key in target.params if key.lower() in ROUTING_PARAMS)
    if routing:
        where = "spec.options.params" if routing[0] in spec.options.params else _url(spec)
        return Refusal(
            c.HOST_NOT_ALLOWED,
            f'{where}: parameter "{routing[0]}" chooses where to connect and may not be set while '
            f"{project} pins hosts or ports; {nothing}",
        )
    host = target.host or ""
    if not host_allowed(host, rules.allowed_hosts):
        if ip_literal(host.lower()) is None and not is_host_name(host.lower()):
            what = f'"{host}" is not a single host name or IP address'
        else:
            what = f'host "{host}" is not allowed'
        return Refusal(
            c.HOST_NOT_ALLOWED,
            f"{_where(spec, 'host')}: {what} by {project} "
            f"(policy.connections.allowedHosts: {', '.join(rules.allowed_hosts)}); {nothing}",
        )
    port = target.port or 0
    if not port_allowed(port, rules.allowed_ports):
        field = _where(spec, "port")
        if spec.port is None and spec.url_secret_ref is None:
            field = f"spec.port (default {port})"
        return Refusal(
            c.HOST_NOT_ALLOWED,
            f"{field}: port {port} is not allowed by {project} "
            f"(policy.connections.allowedPorts: {', '.join(map(str, rules.allowed_ports))}); {nothing}",
        )
    return None


def refused_destination(
    spec: DatabaseConnectionSpec, credentials: Credentials, governance: Governance
) -> Refusal | None:
    """`refused_target` on the resolved target. A spec or URL that does not resolve passes: the
    probe reports it as InvalidSpec, before any network connection."""
    try:
        target = resolve_target(spec, credentials)
    except InvalidConnection:
        return None
    return refused_target(spec, target, governance)
