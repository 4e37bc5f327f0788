"""Canonical spelling of type text, so that equal types compare equal as strings.

Users write `castTo: INT` or `character varying(20)`; PostgreSQL reports `integer` and
`varchar(20)` after our normalization. The diff compares canonical texts.
"""

from __future__ import annotations

import re

from ferry.schema import catalog_postgresql

_PG_ALIASES = {
    "int": "integer",
    "int4": "integer",
    "int2": "smallint",
    "int8": "bigint",
    "bool": "boolean",
    "float4": "real",
    "float8": "double precision",
    "float": "double precision",
    "double": "double precision",
    "decimal": "numeric",
    "serial": "integer",
    "bigserial": "bigint",
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamptz",
}


def canonical_type(text: str, dialect: str) -> str:
    out = " ".join(text.strip().split())
    if dialect != "postgresql":
        return out.lower() if out.isascii() and "'" not in out else out
    if out.isascii() and '"' not in out:
        out = out.lower()
    out = re.sub(r"\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)", r"(\1,\2)", out)
    out = re.sub(r"^decimal\(", "numeric(", out)
    out = catalog_postgresql.normalize_type(out)
    base, suffix = (out[:-2], "[]") if out.endswith("[]") else (out, "")
    return _PG_ALIASES.get(base, base) + suffix
