"""The integration tier: tests against real database servers (tests/conftest.py starts them).

Every test in this folder is marked `integration` automatically, so
`pytest -m "not integration and not e2e"` runs the unit tier alone and starts no server
(the servers are session fixtures, not autouse: only a selected test that asks starts one).
"""

from __future__ import annotations

from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in item.path.parents:
            item.add_marker(pytest.mark.integration)
