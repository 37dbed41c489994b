"""What the handlers read of the app's settings: bot/config.py's ``Settings`` has these and more.

A Protocol, so handlers/ need not import bot/ (tests/test_architecture.py checks that it does not,
and that ``Settings`` has every field named here).
"""
from __future__ import annotations

from typing import Protocol


class HandlerSettings(Protocol):
    @property
    def brand_name(self) -> str: ...

    @property
    def secret_key(self) -> str: ...

    @property
    def public_base_url(self) -> str: ...

    @property
    def card_token_ttl_seconds(self) -> int: ...

    @property
    def terms_version(self) -> str: ...
