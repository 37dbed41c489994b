"""Fake LINE Messaging API server for tests and the local demo.

Usage::

    from bot.dev.fakeline import FakeLine
    with FakeLine(mode="spec") as fake:          # or FakeLine() -> auto mode
        Configuration(host=fake.url, access_token="test-token")
"""
from .server import FakeLine, Record
from .spec import Issue, SpecMissingError, find_spec_dir, load_spec

__all__ = ["FakeLine", "Record", "Issue", "SpecMissingError", "find_spec_dir", "load_spec"]
