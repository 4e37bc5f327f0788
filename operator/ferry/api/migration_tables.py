"""What a Migration copies of each table: the selection of tables, their columns and names, and
the transforms applied to column values on the way (spec.tables, with spec.copy.zeroDates)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from ferry.api.base import ApiModel, Identifier, SecretKeyReference


class TransformType(StrEnum):
    HASH = "hash"
    MASK = "mask"
    NULL = "null"
    CONSTANT = "constant"
    ENCRYPT = "encrypt"
    CAST_TO = "castTo"


class Transform(ApiModel):
    """A per-column transformation applied between source and target."""

    column: Identifier = Field(description="The source column transformed.")
    type: TransformType = Field(
        description="hash (HMAC with keySecretRef), mask (keepFirst/keepLast, maskChar), null, constant "
        "(value), encrypt (AES with keySecretRef) or castTo (value: the target type)."
    )
    key_secret_ref: SecretKeyReference | None = Field(
        default=None, description="The HMAC key (hash) or the 16/24/32-byte AES key (encrypt)."
    )
    keep_first: int = Field(default=0, ge=0, le=1024, description="mask: characters kept at the start.")
    keep_last: int = Field(default=0, ge=0, le=1024, description="mask: characters kept at the end.")
    mask_char: str = Field(
        default="*", min_length=1, max_length=1, description="mask: the character written."
    )
    value: str | None = Field(default=None, max_length=65536, description="constant: the value written.")
    cast_to: str | None = Field(default=None, max_length=128, description="castTo: the target column type.")

    model_config = {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "!(self.type in ['hash', 'encrypt']) || has(self.keySecretRef)",
                    "message": "keySecretRef is required for hash and encrypt transforms",
                    "fieldPath": ".keySecretRef",
                },
                {
                    "rule": "self.type != 'constant' || has(self.value)",
                    "message": "value is required for a constant transform",
                    "fieldPath": ".value",
                },
                {
                    "rule": "self.type != 'castTo' || has(self.castTo)",
                    "message": "castTo is required for a castTo transform",
                    "fieldPath": ".castTo",
                },
            ]
        }
    }


class ZeroDates(StrEnum):
    """What the copy does with a MySQL/MariaDB zero date ('0000-00-00', zero month or day, year 0)."""

    NULL = "null"  # written as NULL; the target column accepts NULL (lossy, shown in the plan)
    ERROR = "error"  # the copy stops at the batch holding one; the target column keeps NOT NULL


class ColumnSelection(ApiModel):
    """Which columns of a table are copied (and under which names)."""

    include: list[Identifier] | None = Field(
        default=None, max_length=4096, description="Only these columns. Unset: every column."
    )
    exclude: list[Identifier] = Field(
        default_factory=list, max_length=4096, description="Every column but these (with include unset)."
    )
    rename: dict[str, Identifier] = Field(
        default_factory=dict,
        max_length=4096,
        description="Source column name to target column name.",
        json_schema_extra={"maxProperties": 4096},
    )

    model_config = {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "!has(self.include) || self.exclude.size() == 0",
                    "message": "use either include or exclude for columns, not both",
                }
            ]
        }
    }


class TableOverride(ApiModel):
    """Settings for one table: its target name, columns, rows and transforms."""

    name: Identifier = Field(
        description="Source table name; with source.schemas, qualified (sales.orders) or a name only "
        "one of the schemas has."
    )
    target_name: Identifier | None = Field(
        default=None, description="The table's name on the target; unset: the same."
    )
    columns: ColumnSelection = Field(default_factory=ColumnSelection)
    where: str | None = Field(
        default=None,
        max_length=8192,
        description="Raw SQL filter on the source; a Project policy may forbid it.",
    )
    # Bounds keep the CEL cost of Transform's rules (estimated per possible element:
    # overrides x transforms) under the apiserver's per-rule budget.
    transforms: list[Transform] = Field(
        default_factory=list, max_length=256, description="Column transformations (masking, hashing, ...)."
    )
    zero_dates: dict[str, ZeroDates] = Field(
        default_factory=dict,
        max_length=4096,
        description="MySQL/MariaDB source: source DATE, DATETIME or TIMESTAMP column to what the "
        "copy does with its zero dates, overriding copy.zeroDates: null (written as NULL, NOT NULL "
        "not kept) or error (the copy fails on one, NOT NULL kept).",
        json_schema_extra={"maxProperties": 4096},
    )


# A table name glob: `orders`, `tmp_*`, `sales.*` (a schema, a dot and a table name at most).
TableGlob = Annotated[str, Field(min_length=1, max_length=256)]


class TableSelection(ApiModel):
    """Which source tables are copied."""

    include: list[TableGlob] = Field(
        default_factory=lambda: ["*"],
        max_length=4096,
        description="Table name globs; with source.schemas a glob with a dot matches schema.table "
        "(sales.*), one without matches the table name in every schema.",
    )
    exclude: list[TableGlob] = Field(
        default_factory=list, max_length=4096, description="Table name globs, as in include."
    )
    overrides: list[TableOverride] = Field(
        default_factory=list,
        max_length=1024,
        description="Per-table settings: name, columns, rows, transforms.",
    )
