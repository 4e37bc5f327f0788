"""Where a Migration reads and writes: a connection and one schema, or several schemas.

`source.schemas` lists several PostgreSQL schemas copied in one Migration; each keeps its name
on the target unless `target.schemaMapping` renames it. The pairs the planner walks come from
`ferry.schema.schema_pairs`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ferry.api.base import ApiModel, LocalObjectReference

SchemaName = Annotated[str, Field(min_length=1, max_length=63)]


class Endpoint(ApiModel):
    connection_ref: LocalObjectReference = Field(
        description="The DatabaseConnection, in the Migration's namespace."
    )
    schema_: str | None = Field(
        default=None,
        alias="schema",
        max_length=128,
        description="Schema (PostgreSQL) to read from or write to; the connection's default when empty.",
    )


class SourceEndpoint(Endpoint):
    schemas: list[SchemaName] | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="Several schemas (PostgreSQL source and target) copied in one Migration, instead "
        "of schema: each table goes to the target schema of the same name unless "
        "target.schemaMapping names another. Table names in tables may be qualified (sales.orders).",
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )

    model_config = {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "!has(self.schema) || !has(self.schemas)",
                    "message": "use either schema or schemas, not both",
                    "fieldPath": ".schemas",
                }
            ]
        }
    }


class TargetEndpoint(Endpoint):
    schema_mapping: dict[str, SchemaName] = Field(
        default_factory=dict,
        max_length=64,
        description="With source.schemas: source schema to the target schema its tables go to; a "
        "schema not named keeps its name.",
        json_schema_extra={"maxProperties": 64},
    )

    model_config = {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "!has(self.schema) || !has(self.schemaMapping) || self.schemaMapping.size() == 0",
                    "message": "use either schema or schemaMapping, not both",
                    "fieldPath": ".schemaMapping",
                }
            ]
        }
    }
