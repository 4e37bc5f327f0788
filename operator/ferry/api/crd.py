"""Generate apiextensions.k8s.io/v1 CRDs from the pydantic models.

pydantic emits JSON Schema; Kubernetes wants a *structural* OpenAPI v3 subset: no $ref,
no `title`, no `const`, no `anyOf` with null, every node typed. This module walks the
JSON Schema once and rewrites it into that subset.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, NoDefault
from pydantic_core import core_schema

from ferry.api.base import PROJECT_DEFAULT_KEY
from ferry.api.kinds import ALL_KINDS, GROUP, VERSION, Kind


class _WithFactoryDefaults(GenerateJsonSchema):
    """Publish `default_factory` defaults too, so the apiserver fills omitted objects and lists.

    An omitted nested object is filled with its complete default, so `kubectl get -o yaml` shows
    the values Ferry will use.
    """

    def get_default_value(self, schema: core_schema.WithDefaultSchema) -> Any:
        factory = schema.get("default_factory")
        if factory is None or schema.get("default_factory_takes_data"):
            return super().get_default_value(schema)
        value = factory()  # type: ignore[call-arg]
        if isinstance(value, BaseModel):
            # The apiserver checks defaults against CEL rules as given, so publish them complete,
            # except for the fields a Project's defaults fill (see PROJECT_DEFAULT_KEY).
            return _published_default(value)
        return value if isinstance(value, list | dict) else NoDefault


def _published_default(model: BaseModel) -> dict[str, Any]:
    dumped: dict[str, Any] = model.model_dump(by_alias=True, exclude_none=True, mode="json")
    for name, info in type(model).model_fields.items():
        extra = info.json_schema_extra
        wire = info.alias or name
        if isinstance(extra, dict) and extra.get(PROJECT_DEFAULT_KEY):
            dumped.pop(wire, None)
        elif isinstance(getattr(model, name), BaseModel) and wire in dumped:
            dumped[wire] = _published_default(getattr(model, name))
    return dumped


_DROPPED_KEYS = {"title", "$defs", "discriminator"}


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref is None:
        return node
    target = dict(defs[ref.rsplit("/", 1)[-1]])
    # Keys beside a $ref (description, default) win over the definition's own.
    target.update({k: v for k, v in node.items() if k != "$ref"})
    return target


def structural(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """Rewrite one JSON Schema node (and its children) into structural OpenAPI v3."""
    node = _resolve(node, defs)
    if node.get("x-kubernetes-int-or-string"):
        return {k: v for k, v in node.items() if k not in _DROPPED_KEYS}
    if node.get(PROJECT_DEFAULT_KEY):
        # No apiserver default: the operator must see that the user left it unset.
        node = {k: v for k, v in node.items() if k not in ("default", PROJECT_DEFAULT_KEY)}
    if "anyOf" in node:
        branches = [b for b in node["anyOf"] if b.get("type") != "null"]
        if len(branches) != 1:
            raise ValueError(f"cannot express a union of {len(branches)} types structurally: {node}")
        merged = dict(_resolve(branches[0], defs))
        merged.update({k: v for k, v in node.items() if k != "anyOf"})
        if merged.get("default", 0) is None:
            del merged["default"]
        return structural(merged, defs)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED_KEYS:
            continue
        if key == "const":
            out["enum"] = [value]
        elif key == "properties":
            out["properties"] = {name: structural(child, defs) for name, child in value.items()}
        elif key == "items":
            out["items"] = structural(value, defs)
        elif key == "additionalProperties":
            # `false` is pydantic's extra="forbid"; the apiserver prunes unknown fields instead.
            if isinstance(value, dict):
                out["additionalProperties"] = structural(value, defs)
        elif key == "enum" and "type" not in node:
            out["enum"] = value
            out["type"] = "string"
        else:
            out[key] = value
    if out.get("type") == "object" and "properties" not in out and "additionalProperties" not in out:
        out["x-kubernetes-preserve-unknown-fields"] = True
    return out


def openapi_schema(model: type[Any], mode: str) -> dict[str, Any]:
    raw = model.model_json_schema(by_alias=True, mode=mode, schema_generator=_WithFactoryDefaults)
    return structural(raw, raw.get("$defs", {}))


def build_crd(kind: Kind) -> dict[str, Any]:
    """The CustomResourceDefinition for one kind, as a plain dict ready for YAML."""
    spec_schema = openapi_schema(kind.spec_model, "validation")
    status_schema = openapi_schema(kind.status_model, "validation")
    status_schema.pop("required", None)  # status fields are filled in over time
    root: dict[str, Any] = {
        "type": "object",
        "description": kind.description,
        "required": ["spec"],
        "properties": {
            "apiVersion": {"type": "string", "description": f"{GROUP}/{VERSION}"},
            "kind": {"type": "string", "description": kind.kind},
            # No description: the apiserver refuses anything but `type` on metadata.
            "metadata": {"type": "object"},
            "spec": {"description": "What the object declares; Ferry works towards it.", **spec_schema},
            "status": {
                "description": "What Ferry observed and did; written by the operator only.",
                **status_schema,
            },
        },
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": kind.crd_name, "labels": {"app.kubernetes.io/part-of": "ferry"}},
        "spec": {
            "group": GROUP,
            "names": {
                "kind": kind.kind,
                "listKind": f"{kind.kind}List",
                "plural": kind.plural,
                "singular": kind.singular,
                "shortNames": list(kind.short_names),
                "categories": ["ferry"],
            },
            "scope": "Namespaced" if kind.namespaced else "Cluster",
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": list(kind.printer_columns),
                    "schema": {"openAPIV3Schema": root},
                }
            ],
        },
    }


def all_crds() -> dict[str, dict[str, Any]]:
    """File name → CRD, for every kind."""
    return {f"{GROUP}_{kind.plural}.yaml": build_crd(kind) for kind in ALL_KINDS}
