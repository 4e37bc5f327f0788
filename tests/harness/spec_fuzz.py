"""Generated specs of Ferry's kinds, valid and invalid, for property-based tests (hypothesis).

The invalid ones are derived from the committed CRDs, so a field added to an API model is
fuzzed without touching this module: every integer below its minimum and above its maximum,
every enum given an unknown value, every string too long or off its pattern, every field of the
wrong type, every required field left out, every object given an unknown field. Rules only CEL
can say (fields that exclude or require each other) are listed by hand in CEL_CASES. Each
invalid case carries the field path a rejection must name (`spec.copy.parallelism`).

A valid spec is a minimal one (BASES) with any number of in-range values set on its integer,
enum and boolean fields (`valid_specs`), leaving out the few fields a CEL rule couples to
another (COUPLED), which CEL_CASES covers.
"""

from __future__ import annotations

import copy
import functools
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

CRD_DIR = Path(__file__).resolve().parents[2] / "crds"
PLURALS = {"DatabaseConnection": "databaseconnections", "Migration": "migrations", "Project": "projects"}

BASES: dict[str, dict[str, Any]] = {
    "DatabaseConnection": {
        "engine": "postgresql",
        "host": "db.example.com",
        "database": "shop",
        "credentialsSecretRef": {"name": "creds"},
    },
    "Migration": {
        "source": {"connectionRef": {"name": "legacy"}},
        "target": {"connectionRef": {"name": "modern"}},
    },
    "Project": {"namespace": "fuzz-team"},
}

# A minimal valid element of each list of objects, so the fields of its items are fuzzed too.
ITEMS: dict[str, Any] = {
    "spec.tables.overrides": {"name": "orders"},
    "spec.tables.overrides[0].transforms": {"column": "email", "type": "null"},
    "spec.schedule.windows": {"start": "0 22 * * 1-5", "duration": "6h"},
    "spec.members": {"kind": "User", "name": "alice", "role": "viewer"},
    "spec.notifications": {"name": "chat", "webhookSecretRef": {"name": "hook", "key": "url"}},
    "spec.defaults.jobPlacement.tolerations": {"operator": "Exists"},
}

# Fields a CEL rule ties to another (a valid value alone can make the object invalid), and the
# fields only the apiserver refuses whatever they hold: valid_specs leaves them alone.
COUPLED = {
    "spec.engine",  # sqlite is refused in the cluster
    "spec.tls.mode",  # verify-* needs a CA
    "spec.copy.truncateTarget",  # excludes onConflict
    "spec.cutover.requested",  # online only
    "spec.tables.overrides[0].transforms[0].type",  # hash/encrypt need a key, constant a value
    "spec.members[0].kind",  # only a ServiceAccount has a namespace
}

# Paths whose type is not one structural type (int-or-string quantities): no wrong type for them.
_NOT_TYPED = ("x-kubernetes-int-or-string",)


@dataclass(frozen=True)
class Case:
    """One spec of one kind; `path` is the field a rejection must name (None: valid)."""

    kind: str
    spec: dict[str, Any]
    path: str | None
    why: str

    def body(self, name: str) -> dict[str, Any]:
        return {
            "apiVersion": "ferry.dev/v1alpha1",
            "kind": self.kind,
            "metadata": {"name": name},
            "spec": self.spec,
        }


@functools.cache
def crd_spec_schema(kind: str) -> dict[str, Any]:
    """The spec schema of `kind` from its committed CRD (shared: do not change it)."""
    crd = yaml.safe_load((CRD_DIR / f"ferry.dev_{PLURALS[kind]}.yaml").read_text())
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    return schema


def _set(spec: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `spec` with `value` at `path` ("spec.a.b[0].c"); missing objects are created and
    missing list items come from ITEMS."""
    out = copy.deepcopy(spec)
    parts = _split(path)
    node: Any = out
    walked = "spec"
    for part, following in itertools.pairwise(parts):
        if isinstance(part, int):
            walked += f"[{part}]"
            node = node[part]
            continue
        walked += f".{part}"
        if part not in node:
            node[part] = [copy.deepcopy(ITEMS[walked])] if isinstance(following, int) else {}
        node = node[part]
    node[parts[-1]] = value
    return out


def _delete(spec: dict[str, Any], path: str) -> dict[str, Any]:
    parent, _, leaf = path.rpartition(".")
    out = copy.deepcopy(spec)
    node = _get(out, parent) if parent != "spec" else out
    node.pop(leaf, None)
    return out


def _split(path: str) -> list[Any]:
    parts: list[Any] = []
    for piece in path.split(".")[1:]:
        name, *indexes = re.split(r"\[(\d+)\]", piece)
        parts.append(name)
        parts += [int(i) for i in indexes if i != ""]
    return parts


def _get(spec: dict[str, Any], path: str) -> Any:
    node: Any = spec
    for part in _split(path):
        node = node[part]
    return node


def _exists(spec: dict[str, Any], path: str) -> bool:
    try:
        _get({"spec": spec}, path)
    except (KeyError, IndexError, TypeError):
        return False
    return True


def _walk(schema: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, schema node) of every field reachable through objects and the lists of ITEMS."""
    yield path, schema
    for name, child in schema.get("properties", {}).items():
        yield from _walk(child, f"{path}.{name}")
    items = schema.get("items")
    if items is not None and path in ITEMS:
        yield from _walk(items, f"{path}[0]")


def _off_pattern(pattern: str) -> str | None:
    for candidate in ("Bad Name!", "-", "UPPER_case;", " "):
        if re.search(pattern, candidate) is None:
            return candidate
    return None


def invalid_cases(kind: str) -> list[Case]:
    """Every single-field violation the CRD schema of `kind` can express."""
    base = BASES[kind]
    out: list[Case] = []

    def add(path: str, value: Any, why: str) -> None:
        out.append(Case(kind, _set(base, path, value), path, why))

    for path, node in _walk(crd_spec_schema(kind), "spec"):
        type_ = node.get("type")
        if path == "spec":
            out.append(Case(kind, {**base, "bogusField": 1}, "spec.bogusField", "unknown field"))
            for required in node.get("required", []):
                out.append(Case(kind, _delete(base, f"spec.{required}"), f"spec.{required}", "missing"))
            continue
        if any(node.get(k) for k in _NOT_TYPED):
            continue
        if type_ == "integer":
            if "minimum" in node:
                add(path, node["minimum"] - 1, "below minimum")
            if "maximum" in node:
                add(path, node["maximum"] + 1, "above maximum")
            add(path, "many", "wrong type")
        elif type_ == "string":
            if "enum" in node:
                add(path, "bogus-value", "unknown enum value")
            if node.get("maxLength", 1 << 20) <= 8192:
                add(path, "x" * (node["maxLength"] + 1), "too long")
            if "pattern" in node and (bad := _off_pattern(node["pattern"])) is not None:
                add(path, bad, "off pattern")
            add(path, 12345, "wrong type")
        elif type_ == "boolean":
            add(path, "maybe", "wrong type")  # pydantic (lax) reads "yes" as true
        elif type_ == "array":
            add(path, "not-a-list", "wrong type")
        elif type_ == "object":
            add(path, "not-an-object", "wrong type")
            if "properties" in node:
                add(f"{path}.bogusField", 1, "unknown field")
                present = _present(base, path)
                for required in node.get("required", []):
                    full = f"{path}.{required}"
                    out.append(Case(kind, _delete(present, full), full, "missing"))
    return out


def _present(base: dict[str, Any], path: str) -> dict[str, Any]:
    """`base` with the object at `path` present (from ITEMS when it is a list element)."""
    try:
        _get(base, path)
        return base
    except (KeyError, IndexError):
        pass
    # Create the object through its last list (ITEMS holds a valid element) or as an empty one.
    match = re.match(r"^(.*\[0\])", path)
    if match and path == match[1]:
        return _set(base, path, copy.deepcopy(ITEMS[path[: -len("[0]")]]))
    return _set(base, path, {})


# Rules only CEL expresses: (kind, the fields set over the base, the path the rejection names).
CEL_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("DatabaseConnection", {"urlSecretRef": {"name": "dsn"}}, "spec"),  # both credential refs
    ("DatabaseConnection", {"tls": {"mode": "verify-full"}}, "spec.tls.caSecretRef"),
    ("DatabaseConnection", {"engine": "sqlite", "host": None}, "spec.engine"),
    ("Migration", {"target": {"connectionRef": {"name": "legacy"}}}, "spec.target.connectionRef.name"),
    ("Migration", {"copy": {"truncateTarget": True, "onConflict": "skip"}}, "spec.copy.onConflict"),
    ("Migration", {"cutover": {"requested": True}}, "spec.cutover.requested"),
    (
        "Migration",
        {"source": {"connectionRef": {"name": "legacy"}, "schema": "a", "schemas": ["a"]}},
        "spec.source.schemas",
    ),
    (
        "Migration",
        {"tables": {"overrides": [{"name": "t", "columns": {"include": ["a"], "exclude": ["b"]}}]}},
        "spec.tables.overrides[0].columns",
    ),
    (
        "Migration",
        {"tables": {"overrides": [{"name": "t", "transforms": [{"column": "c", "type": "constant"}]}]}},
        "spec.tables.overrides[0].transforms[0].value",
    ),
    ("Migration", {"job": {"nodeSelector": {"a": "b"}}}, "spec.job.nodeSelector"),
    (
        "Project",
        {"members": [{"kind": "User", "name": "a", "namespace": "x", "role": "viewer"}]},
        "spec.members[0].namespace",
    ),
]


def cel_cases() -> list[Case]:
    out = []
    for kind, fields, path in CEL_CASES:
        spec = {**copy.deepcopy(BASES[kind]), **fields}
        out.append(Case(kind, {k: v for k, v in spec.items() if v is not None}, path, "CEL rule"))
    return out


@functools.cache
def _valid_leaves(kind: str) -> list[tuple[str, st.SearchStrategy[Any]]]:
    leaves: list[tuple[str, st.SearchStrategy[Any]]] = []
    # An object with required fields (copy.throttle.guard) is not made valid by one leaf of it.
    needs_more = [
        path
        for path, node in _walk(crd_spec_schema(kind), "spec")
        if path != "spec" and node.get("required") and not _exists(BASES[kind], path)
    ]
    for path, node in _walk(crd_spec_schema(kind), "spec"):
        if path in COUPLED or "[0]" in path or any(path.startswith(f"{p}.") for p in needs_more):
            continue
        if node.get("type") == "integer" and "minimum" in node:
            high = min(node.get("maximum", node["minimum"] + 1_000_000), node["minimum"] + 1_000_000)
            leaves.append((path, st.integers(node["minimum"], high)))
        elif node.get("type") == "string" and "enum" in node:
            leaves.append((path, st.sampled_from(node["enum"])))
        elif node.get("type") == "boolean":
            leaves.append((path, st.booleans()))
    return leaves


@st.composite
def valid_specs(draw: st.DrawFn, kind: str) -> Case:
    spec = copy.deepcopy(BASES[kind])
    for path, values in draw(
        st.lists(st.sampled_from(_valid_leaves(kind)), max_size=8, unique_by=lambda x: x[0])
    ):
        spec = _set(spec, path, draw(values))
    return Case(kind, spec, None, "valid")


KINDS = tuple(PLURALS)


def all_invalid_cases() -> list[Case]:
    return [case for kind in KINDS for case in invalid_cases(kind)] + cel_cases()


def invalid_specs() -> st.SearchStrategy[Case]:
    return st.sampled_from(all_invalid_cases())


def _overlaps(a: str, b: str) -> bool:
    return a == b or a.startswith((b + ".", b + "[")) or b.startswith((a + ".", a + "["))


def with_tweaks(case: Case, valid: Case) -> Case:
    """`case` with the in-range values of `valid` (same kind) set too, except on its own field."""
    spec = copy.deepcopy(case.spec)
    for path, value in _tweaks(BASES[case.kind], valid.spec, "spec"):
        if case.path is None or not _overlaps(path, case.path):
            spec = _set(spec, path, value)
    return Case(case.kind, spec, case.path, case.why)


def _tweaks(base: Any, spec: Any, path: str) -> Iterator[tuple[str, Any]]:
    """The leaves where `spec` differs from `base`."""
    if isinstance(spec, dict):
        for key, value in spec.items():
            yield from _tweaks(base.get(key) if isinstance(base, dict) else None, value, f"{path}.{key}")
    elif spec != base:
        yield path, spec
