"""Local mode: a multi-document YAML bundle — the same one a user would `kubectl apply`.

Secrets, DatabaseConnections, Migrations and at most one Project are read from the file;
references resolve inside it. The Project, when present, governs the Migrations as it
would in the cluster (its policy and defaults); without one, local mode's documented
policy applies (ferry.services.gate.LOCAL_POLICY). With `--secrets-from-env`, a key of a
Secret may instead come from the environment variable FERRY_SECRET_<NAME>_<KEY> (upper
case, non-alphanumerics as `_`), so CI can keep passwords out of the file.
"""

from __future__ import annotations

import argparse
import base64
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError

from ferry.api.connection import DatabaseConnectionSpec
from ferry.api.kinds import API_VERSION
from ferry.api.migration import MigrationSpec
from ferry.api.project import ProjectSpec
from ferry.db.credentials import SecretKeyMissing, SecretNotFound, env_var_for, resolve_credentials
from ferry.observability.redaction import register_secret

if TYPE_CHECKING:
    # The planning and policy code loads SQLAlchemy and sqlglot (0.5 s): imported where a bundle
    # is used, not where a command that takes one only registers its options (`ferry run --help`).
    from ferry.schema import Plan
    from ferry.services.gate import Decision
    from ferry.services.planning import Side
    from ferry.services.policy import Governance


def add_bundle_arguments(
    parser: argparse.ArgumentParser,
    *,
    file_help: str,
    name_option: str = "--migration",
    required: bool = True,
) -> None:
    """The local-mode options every bundle command takes: the file, which object, secrets from env."""
    parser.add_argument("-f", "--file", required=required, help=file_help)
    kind = "Migration" if name_option == "--migration" else "DatabaseConnection"
    parser.add_argument(
        name_option, metavar="NAME", help=f"which {kind} (needed when the file holds several)"
    )
    parser.add_argument(
        "--secrets-from-env",
        action="store_true",
        help="read Secret keys from FERRY_SECRET_<SECRET>_<KEY> environment variables first",
    )


class BundleError(Exception):
    """The bundle cannot be used; the message says which document and why."""


@dataclass
class BundleSecrets:
    """A SecretSource over the bundle's Secret documents (and the environment, when allowed)."""

    secrets: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)
    from_env: bool = False

    def get(self, name: str, key: str) -> str:
        if self.from_env and (value := os.environ.get(env_var_for(name, key))) is not None:
            return value
        if name not in self.secrets:
            hint = f" (or set {env_var_for(name, key)})" if self.from_env else ""
            raise SecretNotFound(name + hint)
        if key not in self.secrets[name]:
            raise SecretKeyMissing(name, key)
        return self.secrets[name][key]


@dataclass
class Bundle:
    connections: dict[str, DatabaseConnectionSpec]
    migrations: dict[str, MigrationSpec]
    secrets: BundleSecrets
    namespace: str = "default"
    project: tuple[str, ProjectSpec] | None = None

    def governance(self) -> Governance:
        """The bundle's Project's policy and defaults, or local mode's policy."""
        from ferry.services.gate import LOCAL_POLICY
        from ferry.services.policy import Governance

        if self.project is None:
            return Governance(None, LOCAL_POLICY)
        name, spec = self.project
        return Governance(name, spec.policy, spec.defaults)

    def decide(self, spec: MigrationSpec, plan: Plan) -> Decision:
        """The same gate as the operator's (ferry.services.gate), with this bundle's policy."""
        from ferry.services.gate import decide

        read_only = self.connection(spec.target.connection_ref.name).read_only
        governance = self.governance()
        hint = f"approve with spec.approval.planHash: {plan.hash}"
        if not governance.policy.destructive_requires_approval:
            hint += " (or spec.schema.allowDestructive: true for destructive operations)"
        return decide(spec, plan, governance, target_read_only=read_only, approve_hint=hint)

    def migration(self, name: str | None = None) -> tuple[str, MigrationSpec]:
        if name is not None:
            if name not in self.migrations:
                raise BundleError(f'no Migration named "{name}" in the bundle')
            return name, self.migrations[name]
        if len(self.migrations) != 1:
            raise BundleError(
                f"the bundle holds {len(self.migrations)} Migrations; name one with --migration"
            )
        return next(iter(self.migrations.items()))

    def sides(self, spec: MigrationSpec) -> tuple[Side, Side]:
        """Source and target of a Migration with their credentials resolved from the bundle.

        The secret values are registered for log redaction before anything connects.
        """
        return self.side(spec.source.connection_ref.name), self.side(spec.target.connection_ref.name)

    def side(self, connection_name: str) -> Side:
        """One DatabaseConnection with its credentials resolved (and registered for redaction)."""
        from ferry.services.planning import Side

        connection = self.connection(connection_name)
        credentials = resolve_credentials(connection, self.secrets)
        for value in credentials.secret_values():
            register_secret(value)
        return Side(connection, credentials)

    def connection(self, name: str) -> DatabaseConnectionSpec:
        if name not in self.connections:
            raise BundleError(f'DatabaseConnection "{name}" is not in the bundle')
        return self.connections[name]


def _secret_data(doc: dict[str, Any]) -> dict[str, str]:
    data = {k: base64.b64decode(v).decode() for k, v in (doc.get("data") or {}).items()}
    data.update({k: str(v) for k, v in (doc.get("stringData") or {}).items()})
    return data


def parse_bundle(text: str, secrets_from_env: bool = False, source: str = "bundle") -> Bundle:
    bundle = Bundle({}, {}, BundleSecrets(from_env=secrets_from_env))
    for index, doc in enumerate(yaml.safe_load_all(text)):
        if not doc:
            continue
        kind, name = doc.get("kind"), (doc.get("metadata") or {}).get("name")
        where = f"{source}: document {index + 1} ({kind} {name or '<no name>'})"
        if not name:
            raise BundleError(f"{where}: metadata.name is required")
        if kind == "Secret":
            bundle.secrets.secrets[name] = _secret_data(doc)
            continue
        if kind not in ("DatabaseConnection", "Migration", "Project"):
            continue  # Namespaces and other objects have no meaning in local mode
        if doc.get("apiVersion") != API_VERSION:
            raise BundleError(f"{where}: apiVersion must be {API_VERSION}")
        try:
            if kind == "DatabaseConnection":
                bundle.connections[name] = DatabaseConnectionSpec.model_validate(doc.get("spec") or {})
            elif kind == "Project":
                if bundle.project is not None:
                    raise BundleError(f"{where}: a bundle holds at most one Project")
                bundle.project = (name, ProjectSpec.model_validate(doc.get("spec") or {}))
            else:
                bundle.migrations[name] = MigrationSpec.model_validate(doc.get("spec") or {})
        except ValidationError as exc:
            raise BundleError(f"{where}: invalid spec:\n{_describe(exc)}") from None
    return bundle


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        path = ".".join(str(p) for p in error["loc"])
        lines.append(f"  spec.{path}: {error['msg']}")
    return "\n".join(lines)


def load_bundle(path: str | Path, secrets_from_env: bool = False) -> Bundle:
    file = Path(path)
    try:
        text = file.read_text()
    except OSError as exc:
        raise BundleError(f"cannot read {file}: {exc.strerror}") from None
    return parse_bundle(text, secrets_from_env, source=str(file))
