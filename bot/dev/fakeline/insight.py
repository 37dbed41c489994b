"""Statistics per aggregation unit (``customAggregationUnits`` on push and multicast) in the fake
LINE server, with LINE's rules: counts under 20 users are null (privacy), the period is at most
31 days and ``to`` is not before ``from``. Tests say who opened or clicked (``open_unit``,
``click_unit``); only recipients of the unit count. The fake does not age its statistics by
day: every delivery of the unit counts, whatever the period asked (LINE's days are UTC+9 and
the app's clock is not the fake's)."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from .spec import OpMatch

if TYPE_CHECKING:
    from .server import Record

PRIVACY_MINIMUM = 20  # LINE shows null for an aggregated count below this
MAX_PERIOD_DAYS = 31


class InsightMixin:
    _lock: threading.RLock

    def _reset_insight(self) -> None:
        self._units: dict[str, dict[str, Any]] = {}

    def _record_units(self, rec: Record, to: list[str]) -> None:
        for unit in (rec.json or {}).get("customAggregationUnits") or []:
            with self._lock:
                entry = self._units.setdefault(unit, {"to": set(), "opened": set(), "clicks": {}})
                entry["to"].update(to)

    # -- test helpers --------------------------------------------------------------
    def unit_recipients(self, unit: str) -> set[str]:
        with self._lock:
            return set(self._units.get(unit, {}).get("to", set()))

    def open_unit(self, unit: str, users: list[str]) -> None:
        """These recipients opened the unit's message (others are ignored, as LINE would)."""
        with self._lock:
            entry = self._units[unit]
            entry["opened"].update(u for u in users if u in entry["to"])

    def click_unit(self, unit: str, url: str, users: list[str]) -> None:
        with self._lock:
            entry = self._units[unit]
            mine = [u for u in users if u in entry["to"]]
            entry["opened"].update(mine)
            entry["clicks"].setdefault(url, []).extend(mine)

    # -- the operation --------------------------------------------------------------
    def _op_getStatisticsPerUnit(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        try:
            first = datetime.strptime(rec.query["from"], "%Y%m%d")
            last = datetime.strptime(rec.query["to"], "%Y%m%d")
        except ValueError:
            return 400, {"message": "from and to are dates yyyyMMdd"}
        if last < first or last - first > timedelta(days=MAX_PERIOD_DAYS - 1):
            return 400, {"message": f"The period is at most {MAX_PERIOD_DAYS} days, and to is not before from"}
        with self._lock:
            entry = self._units.get(rec.query["customAggregationUnit"], {"to": set(), "opened": set(), "clicks": {}})
            opened = len(entry["opened"])
            clicked = {u for users in entry["clicks"].values() for u in users}
            clicks = [{"seq": 1, "url": url, "click": _shown(len(users)), "uniqueClick": _shown(len(set(users))),
                       "uniqueClickOfRequest": None} for url, users in entry["clicks"].items()]
        return 200, {
            "overview": {"uniqueImpression": _shown(opened), "uniqueClick": _shown(len(clicked)),
                         "uniqueMediaPlayed": None, "uniqueMediaPlayed100Percent": None},
            "messages": [{"seq": 1, "impression": _shown(opened), "uniqueImpression": _shown(opened)}],
            "clicks": clicks,
        }


def _shown(count: int) -> int | None:
    return count if count >= PRIVACY_MINIMUM else None
