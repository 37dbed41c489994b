"""The brand's RFM choices (one row): how "high" is decided per dimension, the action hint shown
beside each class, and when the segments were last computed.

How "high" is decided, per dimension (R, F, M):
    quintile   the tie-aware quintile score is 3 or more (the default)
    average    better than the average of the members who bought in the window: R fewer days
               since the last visit than the average, F more visits, M more spend
    threshold  a fixed value: R last visit at most ``r_days`` days ago, F at least ``f_visits``
               visits in the window, M at least ``m_amount`` NT$ spent in the window
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import JSON, Integer, Numeric, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, Timestamp, insert_for
from models.errors import InvalidInput

SETTING_ID = 1
MODES = ("quintile", "average", "threshold")
MAX_HINT = 200
DEFAULTS: dict[str, Any] = {"r_mode": "quintile", "f_mode": "quintile", "m_mode": "quintile",
                            "r_days": 30, "f_visits": 4, "m_amount": Decimal(2000)}
BOUNDS = {"r_days": (1, 3650), "f_visits": (1, 10**6), "m_amount": (Decimal("0.01"), Decimal(10**10))}
# From the RFM literature: what to do with each class. Marketers' words (the console shows them), not a member's.
HINTS = {
    "重要價值": "維持關係：VIP 專屬禮遇、新品搶先體驗，少用折扣",
    "重要保持": "會籍到期提醒＋升等誘因，優先喚回",
    "重要發展": "滿意度問卷＋第二次來店優惠，提高回訪頻率",
    "重要挽留": "限時個人化優惠，了解流失原因",
    "一般價值": "加價購、組合優惠，提高客單價",
    "一般保持": "回訪券搭配加價購",
    "一般發展": "集點加倍、第二杯優惠，培養消費習慣",
    "一般挽留": "低成本觸及：節日群發、生日禮",
}


class SegmentSetting(Base):
    __tablename__ = "segment_setting"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    r_mode: Mapped[str] = mapped_column(String(10), default="quintile")
    f_mode: Mapped[str] = mapped_column(String(10), default="quintile")
    m_mode: Mapped[str] = mapped_column(String(10), default="quintile")
    r_days: Mapped[int] = mapped_column(Integer, default=30)
    f_visits: Mapped[int] = mapped_column(Integer, default=4)
    m_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal(2000))
    hints: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # only the classes the brand changed
    computed_at: Mapped[Timestamp | None]  # the last recompute of member_stats and rule tags
    members_scored: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[Timestamp | None]


def get_setting(session: Session) -> SegmentSetting:
    """The row, or the defaults (not added to the session) before anyone saved or recomputed."""
    return session.get(SegmentSetting, SETTING_ID) or SegmentSetting(id=SETTING_ID, hints={}, **DEFAULTS)


def _row(session: Session) -> SegmentSetting:
    """The row, made with the defaults if missing (one statement, safe when two make it at once), locked."""
    session.execute(insert_for(session)(SegmentSetting).values(id=SETTING_ID, hints={}, **DEFAULTS).on_conflict_do_nothing())
    row = session.get(SegmentSetting, SETTING_ID, with_for_update=True, populate_existing=True)
    assert row is not None
    return row


def mark_computed(session: Session, *, members_scored: int, now: datetime) -> None:
    row = _row(session)
    row.computed_at, row.members_scored = now, members_scored
    session.flush()


def hints_of(setting: SegmentSetting) -> dict[str, str]:
    return {cls: (setting.hints or {}).get(cls) or text for cls, text in HINTS.items()}


def setting_json(setting: SegmentSetting) -> dict[str, Any]:
    return {
        "r_mode": setting.r_mode, "f_mode": setting.f_mode, "m_mode": setting.m_mode,
        "r_days": setting.r_days, "f_visits": setting.f_visits, "m_amount": format(Decimal(setting.m_amount).normalize(), "f"),
        "hints": hints_of(setting),
        "computed_at": setting.computed_at.isoformat() if setting.computed_at else None,
        "members_scored": setting.members_scored,
    }


def _bad(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_segment_setting", details={"field": field})


def update_setting(session: Session, data: dict[str, Any], *, now: datetime) -> SegmentSetting:
    """Change the fields given (others stay); a hint set to "" or null goes back to its default.
    Takes effect at the next recompute."""
    unknown = set(data) - {"r_mode", "f_mode", "m_mode", "r_days", "f_visits", "m_amount", "hints"}
    if unknown:
        raise _bad(sorted(unknown)[0], "unknown field")
    changes: dict[str, Any] = {}
    for key in ("r_mode", "f_mode", "m_mode"):
        if key in data:
            if data[key] not in MODES:
                raise _bad(key, f"{key} is one of {', '.join(MODES)}")
            changes[key] = data[key]
    for key in ("r_days", "f_visits"):
        if key in data:
            value, (low, high) = data[key], BOUNDS[key]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise _bad(key, f"{key} is a whole number from {low} to {high:,}")
            changes[key] = value
    if "m_amount" in data:
        low, high = BOUNDS["m_amount"]
        try:
            amount = Decimal(str(data["m_amount"]))
        except InvalidOperation as exc:
            raise _bad("m_amount", "m_amount is an amount in NT$") from exc
        if isinstance(data["m_amount"], bool) or not amount.is_finite() or not low <= amount <= high or amount != amount.quantize(Decimal("0.01")):
            raise _bad("m_amount", f"m_amount is an amount from {low} to {high:,} NT$ (at most 2 decimals)")
        changes["m_amount"] = amount
    row = _row(session)
    if "hints" in data:
        hints = data["hints"]
        if not isinstance(hints, dict):
            raise _bad("hints", "hints is an object: class → text")
        merged = dict(row.hints or {})
        for cls, text in hints.items():
            if cls not in HINTS:
                raise _bad(f"hints/{cls}", f"unknown class; one of {', '.join(HINTS)}")
            if text in (None, ""):
                merged.pop(cls, None)
            elif not isinstance(text, str) or len(text.strip()) > MAX_HINT:
                raise _bad(f"hints/{cls}", f"a text of at most {MAX_HINT} characters")
            else:
                merged[cls] = text.strip()
        changes["hints"] = merged
    for key, value in changes.items():
        setattr(row, key, value)
    row.updated_at = now
    session.flush()
    return row
