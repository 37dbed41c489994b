"""What the app's edges share: settings, database, LINE gateway, texts and the clock."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Callable

from flask import current_app

from bot.config import Settings
from bot.db import Database
from bot.line.gateway import LineGateway
from handlers.texts import Texts


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    settings: Settings
    db: Database
    line: LineGateway
    texts: Texts
    clock: Callable[[], datetime] = system_clock

    def now(self) -> datetime:
        return self.clock()


def services() -> Services:
    return current_app.extensions["loyalty"]
