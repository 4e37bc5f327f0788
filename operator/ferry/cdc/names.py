"""Names of what a Migration's capture creates on the source, derived from its UID."""

from __future__ import annotations

import re


def capture_name(migration_uid: str) -> str:
    """`ferry_<uid without dashes>`: a valid slot and publication name (lowercase, digits, `_`,
    at most 63 bytes), the same for every call, unique per Migration."""
    return "ferry_" + re.sub(r"[^0-9a-z]", "", migration_uid.lower())[:40]
