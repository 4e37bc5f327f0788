"""Which copied columns hold personal data, and whether the copy protects them.

Classification is by column name (and a few types: `inet`/`cidr` are IP addresses), the way
data catalogs start: the name is split into lowercase words (`customerEmail`, `customer_email`
→ customer, email) and matched against word patterns per category; and by values, when
planning sampled them (ferry.schema.pii_sample): a text column most of whose sampled values are
e-mail addresses, phone numbers, card numbers, IBANs or IP addresses is personal whatever its
name, with the counts as evidence. When both speak, the values decide the category. It is a
review aid with known limits, said in docs/governance.md: `name` alone (a product's name as
often as a person's) is not classified, and values are sampled from text columns only.

A column counts as protected when the Migration transforms it with hash, mask, encrypt, null or
constant; `castTo` changes a type, not what a value reveals. Excluded columns are not copied
and so not listed. The gate (ferry.services.gate) refuses unprotected ones when the Project's
`policy.personalData.unprotected` is `deny`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ferry.api.migration import TransformType
from ferry.schema.mapping import TableMapping
from ferry.schema.pii_values import ValueEvidence

PROTECTING = frozenset(
    (
        TransformType.HASH,
        TransformType.MASK,
        TransformType.ENCRYPT,
        TransformType.NULL,
        TransformType.CONSTANT,
    )
)

# Category → word sequences; a column matches when its words contain one of them in order, next
# to each other. Checked in this order, so `email_address` is an e-mail, not an address.
_RULES: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...] = (
    ("credential", (("password",), ("passwd",), ("pwd",), ("secret",), ("api", "key"), ("apikey",),
                    ("access", "token"), ("refresh", "token"), ("auth", "token"), ("remember", "token"))),
    ("email", (("email",), ("e", "mail"), ("mail",))),
    ("payment_card", (("card", "number"), ("credit", "card"), ("cc", "number"), ("ccnum",), ("pan",),
                      ("iban",), ("cvv",), ("cvc",))),
    ("national_id", (("ssn",), ("social", "security"), ("national", "id"), ("passport",), ("tax", "id"),
                     ("taxid",), ("driver", "license"), ("driving", "licence"), ("nino",))),
    ("ip_address", (("ip",), ("ip", "address"), ("ipaddr",), ("ipv4",), ("ipv6",))),
    ("phone", (("phone",), ("telephone",), ("mobile",), ("msisdn",), ("fax",), ("cellphone",))),
    ("birth_date", (("birthdate",), ("birthday",), ("dob",), ("date", "of", "birth"), ("birth", "date"))),
    ("person_name", (("first", "name"), ("firstname",), ("last", "name"), ("lastname",), ("surname",),
                     ("full", "name"), ("fullname",), ("given", "name"), ("family", "name"),
                     ("middle", "name"), ("forename",), ("maiden", "name"))),
    ("address", (("address",), ("street",), ("postcode",), ("postal", "code"), ("zip",), ("zipcode",))),
)  # fmt: skip
_TYPE_RULES = {"inet": "ip_address", "cidr": "ip_address"}
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


@dataclass(frozen=True)
class PersonalColumn:
    table: str  # the target table, schema-qualified
    column: str  # the target column
    category: str
    protection: str | None  # the transform that protects it, None when copied as is
    # Why: "name" (the column's name or type), and/or the sampled values' counts.
    evidence: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, str | list[str] | None]:
        return {"table": self.table, "column": self.column, "category": self.category,
                "protection": self.protection, "evidence": list(self.evidence)}  # fmt: skip


def words(name: str) -> tuple[str, ...]:
    return tuple(w.lower() for w in _WORD.findall(name))


def _contains(found: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
    n = len(wanted)
    return any(found[i : i + n] == wanted for i in range(len(found) - n + 1))


def category_of(name: str, type_text: str = "") -> str | None:
    found = words(name)
    for category, patterns in _RULES:
        if any(_contains(found, pattern) for pattern in patterns):
            return category
    return _TYPE_RULES.get(type_text.split("(")[0].strip().lower())


def classify(
    mappings: Sequence[TableMapping], values: Mapping[tuple[str, str], ValueEvidence] | None = None
) -> tuple[PersonalColumn, ...]:
    """Every copied column that looks personal by its name or, with `values` (keyed by qualified
    target table and target column), by its sampled values; with what protects it."""
    found = []
    for mapping in mappings:
        for column in mapping.columns:
            by_name = category_of(column.source, column.source_type)
            sampled = (values or {}).get((mapping.qualified_target, column.target))
            if by_name is None and sampled is None:
                continue
            evidence = (("name",) if by_name else ()) + ((sampled.describe(),) if sampled else ())
            category = sampled.category if sampled else by_name
            assert category is not None
            transform = column.transform.type if column.transform else None
            protection = str(transform) if transform in PROTECTING else None
            found.append(
                PersonalColumn(mapping.qualified_target, column.target, category, protection, evidence)
            )
    return tuple(found)


def unprotected(columns: Sequence[PersonalColumn]) -> list[PersonalColumn]:
    return [c for c in columns if c.protection is None]


def describe(columns: Sequence[PersonalColumn], limit: int = 10) -> str:
    shown = ", ".join(f"{c.table}.{c.column} ({c.category})" for c in columns[:limit])
    return shown + (f" and {len(columns) - limit} more" if len(columns) > limit else "")
