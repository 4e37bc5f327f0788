"""Cases of a Project's connection rules, shared by the two places that enforce them.

tests/unit/services/test_connection_policy.py runs them through the operator's pure check
(ferry.services.connection_policy); tests/e2e/test_connection_policy.py runs the same cases
through the shipped ValidatingAdmissionPolicy on a real apiserver, so the CEL and the Python
cannot drift apart unnoticed.
"""

from __future__ import annotations

ALLOWED_HOSTS = ["db.example.com", "*.corp.example", "10.1.0.0/16", "192.168.5.7", "fd00::/8"]
ALLOWED_PORTS = [5432, 6432]
ALLOWED_SECRETS = ["app-*", "shared-creds", "db?-ca", "v1.creds"]

# (host, allowed by ALLOWED_HOSTS, why)
HOST_CASES: list[tuple[str, bool, str]] = [
    ("db.example.com", True, "exact name"),
    ("DB.Example.COM", True, "names ignore case"),
    ("db.example.com.", False, "a trailing dot is another spelling: not normalised, refused"),
    ("other.example.com", False, "a sibling of an exact name"),
    ("a.corp.example", True, "one label below a wildcard"),
    ("a.b.corp.example", True, "any depth below a wildcard"),
    ("corp.example", False, "a wildcard does not match its own domain"),
    ("evilcorp.example", False, "a wildcard suffix starts at a dot"),
    ("a.corp.example.evil.io", False, "the suffix must end the name"),
    ("10.1.2.3", True, "inside a CIDR"),
    ("10.2.0.1", False, "outside every CIDR"),
    ("192.168.5.7", True, "an exact IP entry"),
    ("192.168.5.8", False, "next to an exact IP entry"),
    ("fd00::1", True, "inside an IPv6 CIDR"),
    ("fe80::1", False, "outside the IPv6 CIDR"),
    ("::ffff:10.1.2.3", False, "an IPv4-mapped IPv6 address is not inside an IPv4 CIDR"),
    ("evil.com,db.example.com", False, "a libpq host list"),
    ("db.example.com,evil.com", False, "a libpq host list starting with an allowed name"),
    ("/var/run/postgresql", False, "a Unix socket directory"),
    ("010.1.0.1", False, "octal-looking: resolvers read it as 8.1.0.1"),
    ("10.1.1", False, "a short IPv4 form: resolvers read it as 10.1.0.1"),
    ("0x0a010203", False, "a hex IPv4 form"),
    ("db.example.com ", False, "trailing space"),
    ("x.corp.example:5432", False, "a port inside the host"),
]

# (Secret name, allowed by ALLOWED_SECRETS)
SECRET_CASES: list[tuple[str, bool]] = [
    ("app-creds", True),
    ("app-x", True),
    ("app", False),
    ("xapp-creds", False),
    ("shared-creds", True),
    ("shared-credsx", False),
    ("db1-ca", True),
    ("db12-ca", False),
    ("v1.creds", True),
    ("v1xcreds", False),
    ("other", False),
]

# (port, allowed by ALLOWED_PORTS)
PORT_CASES: list[tuple[int, bool]] = [(5432, True), (6432, True), (5433, False), (3306, False)]
