"""Personal data by column name: what is found, what is not, and what counts as protected."""

from __future__ import annotations

import pytest

from ferry.api.migration import Transform
from ferry.schema.mapping import ColumnMapping, TableMapping
from ferry.schema.personal_data import category_of, classify, unprotected


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("email", "email"), ("customerEmail", "email"), ("email_address", "email"),
        ("PhoneNumber", "phone"), ("Fax", "phone"),
        ("FirstName", "person_name"), ("last_name", "person_name"),
        ("date_of_birth", "birth_date"), ("dob", "birth_date"), ("ssn", "national_id"),
        ("BillingAddress", "address"), ("ShipPostalCode", "address"), ("card_number", "payment_card"),
        ("password_hash", "credential"), ("api_key", "credential"), ("ip_address", "ip_address"),
        # Not personal by name alone: a product's name, an id, words that merely contain a pattern.
        ("name", None), ("product_name", None), ("user_id", None), ("zipper", None), ("mailbox", None),
        ("description", None),
    ],
)  # fmt: skip
def test_categories_by_name(name: str, category: str | None) -> None:
    assert category_of(name) == category


def test_an_inet_column_is_an_ip_address_whatever_its_name() -> None:
    assert category_of("client", "inet") == "ip_address"


def _column(name: str, transform: dict[str, object] | None = None) -> ColumnMapping:
    made = Transform.model_validate({"column": name, **transform}) if transform else None
    return ColumnMapping(name, name, "text", "text", True, transform=made)


def test_protection_is_a_transform_that_hides_the_value() -> None:
    key = {"keySecretRef": {"name": "k", "key": "k"}}
    mapping = TableMapping("public", "customer", "public", "customer", columns=(
        _column("id"), _column("email", {"type": "hash", **key}), _column("phone", {"type": "mask"}),
        _column("last_name", {"type": "castTo", "castTo": "varchar(40)"}), _column("dob"),
    ), key=("id",))  # fmt: skip
    found = {c.column: c.protection for c in classify([mapping])}
    assert found == {"email": "hash", "phone": "mask", "last_name": None, "dob": None}
    assert [c.column for c in unprotected(classify([mapping]))] == ["last_name", "dob"]
