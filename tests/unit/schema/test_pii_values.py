"""Personal data by value: each check on values that are and values that only look alike."""

from __future__ import annotations

import pytest

from ferry.schema.pii_values import (
    classify_values,
    is_email,
    is_iban,
    is_ip_address,
    is_payment_card,
    is_phone,
    luhn_valid,
)


@pytest.mark.parametrize(
    ("check", "value", "expected"),
    [
        (is_email, "ann.lee+news@mail.example.co.uk", True), (is_email, "ann@localhost", False),
        (is_email, "stanisław.wójcik@wp.pl", True), (is_email, "ann@example.123", False),
        (is_email, "see ann@example.com", False), (is_email, "@example.com", False),
        (is_payment_card, "4111 1111 1111 1111", True), (is_payment_card, "5500-0000-0000-0004", True),
        (is_payment_card, "378282246310005", True),
        (is_payment_card, "4111111111111112", False),  # Luhn fails
        (is_payment_card, "411111111111", False),  # too short
        (is_iban, "DE89 3704 0044 0532 0130 00", True), (is_iban, "GB82WEST12345698765432", True),
        (is_iban, "GB82WEST12345698765433", False),  # mod 97 fails
        (is_iban, "SKU-2024-000123", False),
        (is_phone, "+1 555 0100", True), (is_phone, "(030) 123-4567", True),
        (is_phone, "+4915112345678", True),
        (is_phone, "5550100123", False),  # a bare run of digits: an id as often as a number
        (is_phone, "2024-01-31", False), (is_phone, "1.2.3", False), (is_phone, "12-34", False),
        (is_ip_address, "192.0.2.17", True), (is_ip_address, "2001:db8::1", True),
        (is_ip_address, "1.2.3", False), (is_ip_address, "999.1.1.1", False),
    ],
)  # fmt: skip
def test_each_check(check: object, value: str, expected: bool) -> None:
    assert check(value) is expected  # type: ignore[operator]


def test_luhn() -> None:
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")


def test_a_column_is_classified_by_most_of_its_values_and_evidence_holds_only_counts() -> None:
    values = [f"user{i}@example.com" for i in range(9)] + ["n/a", None, ""]
    found = classify_values(values)
    assert found is not None
    assert (found.category, found.matched, found.sampled) == ("email", 9, 10)
    assert found.describe() == "email: 9/10 sampled values match"
    assert "example" not in found.describe()


def test_a_column_of_mixed_values_is_not_classified() -> None:
    assert classify_values(["ann@example.com", "free text", "more text", "SKU-1"]) is None
    assert classify_values([None, ""]) is None


def test_numbers_that_fail_luhn_are_not_cards() -> None:
    # Order numbers of a card's length: about one in ten passes Luhn by chance, far below the threshold.
    values = [str(4000_0000_0000_0000 + i * 7919) for i in range(100)]
    assert classify_values(values) is None


def test_ibans_are_payment_data() -> None:
    found = classify_values(["DE89370400440532013000", "GB82WEST12345698765432"])
    assert found is not None and found.category == "payment_card" and found.check == "iban"
