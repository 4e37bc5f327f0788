"""Which copied columns hold personal data, and whether the copy protects them.

Classification is by column name (and a few types: `inet`/`cidr` are IP addresses), the way
data catalogs start: the name is split into lowercase words (`customerEmail`, `customer_email`
→ customer, email) and matched against word patterns per category. It is a review aid with
known limits, said in docs/governance.md: it finds `email`, `phone_number`, `date_of_birth`,
`ssn`; it does not read values, so a column named `notes` that holds e-mail addresses is not
found, and `name` alone (a product's name as often as a person's) is not classified.

A column counts as protected when the Migration transforms it with hash, mask, encrypt, null or
constant; `castTo` changes a type, not what a value reveals. Excluded columns are not copied
and so not listed. The gate (ferry.services.gate) refuses unprotected ones when the Project's
`policy.personalData.unprotected` is `deny`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ferry.api.migration import TransformType
from ferry.schema.mapping import TableMapping

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

    def to_dict(self) -> dict[str, str | None]:
        return {"table": self.table, "column": self.column, "category": self.category,
                "protection": self.protection}  # fmt: skip


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


def classify(mappings: Sequence[TableMapping]) -> tuple[PersonalColumn, ...]:
    """Every copied column that looks personal, with what protects it."""
    found = []
    for mapping in mappings:
        for column in mapping.columns:
            category = category_of(column.source, column.source_type)
            if category is None:
                continue
            transform = column.transform.type if column.transform else None
            protection = str(transform) if transform in PROTECTING else None
            found.append(PersonalColumn(mapping.qualified_target, column.target, category, protection))
    return tuple(found)


def unprotected(columns: Sequence[PersonalColumn]) -> list[PersonalColumn]:
    return [c for c in columns if c.protection is None]


def describe(columns: Sequence[PersonalColumn], limit: int = 10) -> str:
    shown = ", ".join(f"{c.table}.{c.column} ({c.category})" for c in columns[:limit])
    return shown + (f" and {len(columns) - limit} more" if len(columns) > limit else "")
