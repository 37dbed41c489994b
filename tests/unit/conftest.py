"""tests/unit/: the pure rules, tested without a database, the app or the fake LINE server.

Run alone in seconds: ``.venv/bin/python -m pytest tests/unit --confcutdir=tests/unit``
(``--confcutdir`` keeps pytest from loading tests/conftest.py, which builds the app's fixtures).
In the whole suite they run with the rest. A test here that asks for one of the app's fixtures
fails at collection: it belongs in tests/.
"""
from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
APP_FIXTURES = {"app", "client", "db", "settings", "migrated", "database_url", "fake_line", "line", "counter", "make_member",
                "tiers", "clock", "business_hours", "is_postgres", "pg_only"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            wanted = APP_FIXTURES & set(getattr(item, "fixturenames", ()))
            if wanted:
                raise pytest.UsageError(f"{item.nodeid} is a unit test but asks for the app's fixtures {sorted(wanted)}: move it to tests/")
