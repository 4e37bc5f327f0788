"""What a sampled value looks like: e-mail, phone number, payment card, IBAN, IP address.

Planning reads a bounded sample of each copied text column (ferry.schema.pii_sample) and asks
these checks of every value; a column is personal by its values when most of its non-empty
sampled values pass one check (`THRESHOLD`). Only the counts leave this module — the plan
says `email: 98/100 sampled values match`, never a value.

The checks are strict on purpose, to keep innocuous columns out:
- a payment card is 13-19 digits (spaces or dashes between groups allowed) that pass the Luhn
  check, so a column of order numbers fails on nine in ten values;
- an IBAN is a country code, two check digits and 11-30 letters or digits whose mod-97
  remainder is 1 (ISO 13616), so product codes of the same shape fail;
- a phone number is 7-15 digits (E.164's limit) written as phone numbers are: with a leading
  `+` or with separators (space, dash, dot, parentheses). A bare run of digits is an id as
  often as a phone number, and is not counted;
- an IP address is what Python's `ipaddress` parses (IPv4 dotted quad, IPv6).
A maintained library (phonenumbers, schwifty) would tell a valid number plan or bank code
from an invalid one, but the question here is "does this column hold phone numbers", which
the shape answers; the checks above need no dependency.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

# The share of non-empty sampled values that must pass a check for the column to be classified.
THRESHOLD = 0.8

# \w: letters of any script too, as internationalised addresses (RFC 6531) have them: stanisław@wp.pl.
_EMAIL = re.compile(r"^[\w.!#$%&'*+/=?^`{|}~-]+@[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)*"
                    r"\.[^\W\d_]{2,}$")  # fmt: skip
_CARD = re.compile(r"^\d(?:[ -]?\d){12,18}$")
_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$")
_PHONE = re.compile(r"^\+?[\d().\s-]+$")


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def is_email(value: str) -> bool:
    return len(value) <= 254 and bool(_EMAIL.match(value))


def is_payment_card(value: str) -> bool:
    if not _CARD.match(value):
        return False
    return luhn_valid(value.replace(" ", "").replace("-", ""))


def is_iban(value: str) -> bool:
    compact = value.replace(" ", "").upper()
    if not _IBAN.match(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def is_phone(value: str) -> bool:
    if not _PHONE.match(value) or value.count("+") > 1:
        return False
    digits = sum(ch.isdigit() for ch in value)
    if not 7 <= digits <= 15:
        return False
    formatted = value.startswith("+") or any(sep in value.strip() for sep in " -.()")
    # Dates (2024-01-31) and dotted versions are formatted digit runs too: not phone numbers.
    return formatted and not re.match(r"^\d{4}-\d{2}-\d{2}$", value) and value.count(".") < 2


def is_ip_address(value: str) -> bool:
    if ":" not in value and value.count(".") != 3:
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


# Checked in this order: a value is counted for the first category whose check it passes (a
# 16-digit card number with spaces also has a phone number's shape).
CHECKS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("email", is_email),
    ("payment_card", is_payment_card),
    ("iban", is_iban),
    ("ip_address", is_ip_address),
    ("phone", is_phone),
)
# The plan's category for each check (an IBAN is payment data, as the name rules say).
CATEGORY = {"email": "email", "payment_card": "payment_card", "iban": "payment_card",
            "ip_address": "ip_address", "phone": "phone"}  # fmt: skip


@dataclass(frozen=True)
class ValueEvidence:
    """How many of a column's sampled values passed one check; no value is kept."""

    check: str  # a name in CHECKS
    matched: int
    sampled: int  # non-empty values looked at

    @property
    def category(self) -> str:
        return CATEGORY[self.check]

    def describe(self) -> str:
        return f"{self.check}: {self.matched}/{self.sampled} sampled values match"


def classify_values(values: Iterable[object]) -> ValueEvidence | None:
    """The check most of `values` pass (at least THRESHOLD of the non-empty ones), or None."""
    counts = dict.fromkeys((name for name, _ in CHECKS), 0)
    sampled = 0
    for raw in values:
        if raw is None:
            continue
        value = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        value = value.strip()
        if not value:
            continue
        sampled += 1
        for name, check in CHECKS:
            if check(value):
                counts[name] += 1
                break
    if sampled == 0:
        return None
    name, matched = max(counts.items(), key=lambda item: item[1])
    return ValueEvidence(name, matched, sampled) if matched >= THRESHOLD * sampled else None
