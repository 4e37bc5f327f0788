"""The leak scan finds a secret in each form it could leak in, and never prints the value."""

from __future__ import annotations

import base64
import urllib.parse

from harness.leak_scan import leaks

SECRET = "s3cr3t/p@ss word"


def test_each_form_is_found_and_named_without_the_value() -> None:
    texts = {
        "status": f"connect failed for password={SECRET}",
        "event": base64.b64encode(SECRET.encode()).decode(),
        "log": "postgresql://u:" + urllib.parse.quote(SECRET, safe="") + "@db/x",
        "clean": "nothing to see",
    }
    found = leaks(texts, {SECRET})
    assert sorted({line.split(":")[0] for line in found}) == ["event", "log", "status"]
    assert all(SECRET not in line for line in found)


def test_a_clean_text_has_no_leak() -> None:
    assert leaks({"status": "authentication failed for user app"}, {SECRET}) == []
