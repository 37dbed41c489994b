"""Membership tiers: qualification over a rolling window, immediate upgrades, downgrades
only at the end of the member's tier period, and every change recorded with its reason."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, Numeric, String, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, object_session

from models.base import Base, IntPK, Timestamp, txn_cache, insert_for
from models.coupon import CouponTemplate
from models.errors import Conflict, InvalidInput, NotFound
from models.limits import (
    MAX_BENEFIT_LENGTH, MAX_DAYS, MAX_DB_INT, MAX_TIER_BENEFITS, MAX_TIER_RANK, MAX_TIER_REMINDER_DAYS, MAX_TIER_THRESHOLD, amount_in,
    whole_in,
)
from models.ledger import EARNING_REASONS, Award, LedgerEntry
from models.member import Member
from models.outbox import enqueue_richmenu

METRICS = ("spend", "points", "visits")


class Tier(Base):
    __tablename__ = "tier"

    id: Mapped[IntPK]
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    rank: Mapped[int] = mapped_column(Integer, unique=True)
    metric: Mapped[str] = mapped_column(String(8), default="spend")
    threshold: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal(0))
    window_days: Mapped[int] = mapped_column(Integer, default=365)
    period_days: Mapped[int] = mapped_column(Integer, default=365)
    reminder_days: Mapped[int] = mapped_column(Integer, default=30)
    earn_multiplier: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal(1))
    benefits: Mapped[list[str]] = mapped_column(JSON, default=list)
    color: Mapped[str] = mapped_column(String(9), default="#6F4E37")
    image_url: Mapped[str | None] = mapped_column(String(1000))
    birthday_template_id: Mapped[int | None] = mapped_column(ForeignKey("coupon_template.id"))
    upgrade_template_id: Mapped[int | None] = mapped_column(ForeignKey("coupon_template.id"))
    richmenu_id: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[Timestamp]


class TierChange(Base):
    __tablename__ = "tier_change"

    id: Mapped[IntPK]
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # upgrade | downgrade | renew | import (models.member_import)
    from_tier_id: Mapped[int | None] = mapped_column(ForeignKey("tier.id"))
    to_tier_id: Mapped[int | None] = mapped_column(ForeignKey("tier.id"))
    reason: Mapped[str] = mapped_column(String(200))
    at: Mapped[Timestamp]


class TierReminder(Base):
    """One keep-your-tier reminder per member and tier period."""

    __tablename__ = "tier_reminder"
    __table_args__ = (UniqueConstraint("member_id", "period_ends_at", name="uq_tier_reminder_period"),)

    id: Mapped[IntPK]
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    period_ends_at: Mapped[Timestamp]
    sent_at: Mapped[Timestamp]


@dataclass(frozen=True)
class Change:
    kind: str
    from_tier: Tier | None
    to_tier: Tier
    reason: str
    announced_by_journey: bool = False  # an upgrade the enabled tier_up journey congratulates on: no built-in line


# --- configuration ---------------------------------------------------------------------

def all_tiers(session: Session) -> list[Tier]:
    """The tiers by rank, read once per transaction (an award needs them several times);
    creating or editing a tier in the transaction reads them again."""
    cache = txn_cache(session)
    if "tiers" not in cache:
        cache["tiers"] = list(session.scalars(select(Tier).order_by(Tier.rank)))
    return list(cache["tiers"])


def get_tier(session: Session, code: str) -> Tier:
    tier = session.scalars(select(Tier).where(Tier.code == code)).one_or_none()
    if tier is None:
        raise NotFound(f"No tier {code}", code="tier_not_found")
    return tier


FIELDS = {"code", "name", "rank", "metric", "threshold", "window_days", "period_days", "reminder_days",
          "earn_multiplier", "benefits", "color", "image_url", "birthday_template_id", "upgrade_template_id", "richmenu_id"}


def _bad(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_tier", details={"field": field})


TEXT_LENGTHS = {"code": 32, "name": 60, "color": 9, "image_url": 1000, "richmenu_id": 80}  # the columns' lengths
WHOLE_FIELDS = {"rank": (0, MAX_TIER_RANK), "window_days": (1, MAX_DAYS), "period_days": (1, MAX_DAYS),
                "reminder_days": (0, MAX_TIER_REMINDER_DAYS)}
NUMBER_FIELDS = {"threshold": (Decimal(0), MAX_TIER_THRESHOLD), "earn_multiplier": (Decimal("0.1"), Decimal(10))}


def apply_tier_fields(tier: Tier, data: dict[str, Any], *, session: Session | None = None) -> None:
    session = session or object_session(tier)
    if session is not None:
        txn_cache(session).pop("tiers", None)
    unknown = set(data) - FIELDS
    if unknown:
        raise _bad(sorted(unknown)[0], f"Unknown fields: {', '.join(sorted(unknown))}")
    if "color" in data and not (isinstance(data["color"], str) and COLOR.fullmatch(data["color"].strip())):
        raise _bad("color", "color is #RRGGBB, e.g. #6F4E37")  # it goes into a style attribute and Flex backgroundColor
    for name, value in data.items():
        if name in TEXT_LENGTHS:
            if value is not None and (not isinstance(value, str) or not value.strip() or len(value.strip()) > TEXT_LENGTHS[name]):
                raise _bad(name, f"{name} must be text of at most {TEXT_LENGTHS[name]} characters")
            if name in ("code", "name") and value is None:
                raise _bad(name, f"{name} is required")
            setattr(tier, name, value.strip() if isinstance(value, str) else value)
        elif name == "metric":
            if value not in METRICS:
                raise _bad(name, f"metric must be one of {METRICS}")
            tier.metric = value
        elif name in NUMBER_FIELDS:
            low, high = NUMBER_FIELDS[name]
            number = amount_in(value, low, high)
            if number is None:
                raise _bad(name, f"{name} must be a number from {low} to {high:,} with at most 2 decimals")
            setattr(tier, name, number)
        elif name == "benefits":
            if (not isinstance(value, list) or len(value) > MAX_TIER_BENEFITS
                    or not all(isinstance(b, str) and len(b) <= MAX_BENEFIT_LENGTH for b in value)):
                raise _bad(name, f"benefits is a list of at most {MAX_TIER_BENEFITS} texts of at most {MAX_BENEFIT_LENGTH} characters")
            tier.benefits = value
        elif name in WHOLE_FIELDS:
            low, high = WHOLE_FIELDS[name]
            if not whole_in(value, low, high):
                raise _bad(name, f"{name} must be a whole number from {low} to {high:,}")
            setattr(tier, name, value)
        else:  # coupon template ids
            if value is not None and not whole_in(value, 1, MAX_DB_INT):
                raise _bad(name, f"{name} is a coupon template id, or null")
            if value is not None and session is not None and session.get(CouponTemplate, value) is None:
                raise _bad(name, f"{name}: no coupon template has this id")
            setattr(tier, name, value)


def create_tier(session: Session, data: dict[str, Any], *, now: datetime) -> Tier:
    for required in ("code", "name", "rank"):
        if required not in data:
            raise _bad(required, f"{required} is required")
    tier = Tier(metric="spend", threshold=Decimal(0), window_days=365, period_days=365, reminder_days=30,
                earn_multiplier=Decimal(1), benefits=[], color="#6F4E37", created_at=now)
    apply_tier_fields(tier, data, session=session)
    if session.scalar(select(Tier.id).where((Tier.code == tier.code) | (Tier.rank == tier.rank))):
        raise Conflict("A tier with this code or rank exists", code="tier_exists")
    session.add(tier)
    session.flush()
    txn_cache(session).pop("tiers", None)
    return tier


# --- qualification ---------------------------------------------------------------------

def metric_value(session: Session, member_id: int, metric: str, *, since: datetime) -> Decimal:
    """Spend, points earned or visits in the window (since, now]."""
    if metric == "spend":
        value = session.scalar(select(func.coalesce(func.sum(Award.amount), 0)).where(Award.member_id == member_id, Award.created_at > since))
    elif metric == "points":
        value = session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.member_id == member_id, LedgerEntry.currency == "point", LedgerEntry.reason.in_(EARNING_REASONS), LedgerEntry.created_at > since))
    else:
        value = session.scalar(select(func.count()).select_from(Award).where(Award.member_id == member_id, Award.created_at > since))
    return Decimal(value or 0)


def qualifies(session: Session, member_id: int, tier: Tier, now: datetime) -> bool:
    if tier.threshold <= 0:
        return True
    return metric_value(session, member_id, tier.metric, since=now - timedelta(days=tier.window_days)) >= tier.threshold


def shortfall(session: Session, member_id: int, tier: Tier, at: datetime) -> Decimal:
    """What is still missing to qualify for the tier at time ``at`` (now, or a period's end)."""
    have = metric_value(session, member_id, tier.metric, since=at - timedelta(days=tier.window_days))
    return max(Decimal(0), tier.threshold - have)


def current_tier(session: Session, member: Member, tiers: list[Tier] | None = None) -> Tier | None:
    tiers = tiers if tiers is not None else all_tiers(session)
    if member.tier_id is not None:
        for tier in tiers:
            if tier.id == member.tier_id:
                return tier
    return tiers[0] if tiers else None


def best_qualified(session: Session, member_id: int, tiers: list[Tier], now: datetime) -> Tier | None:
    for tier in reversed(tiers):
        if qualifies(session, member_id, tier, now):
            return tier
    return None


def _describe(tier: Tier, session: Session, member_id: int, now: datetime) -> str:
    value = metric_value(session, member_id, tier.metric, since=now - timedelta(days=tier.window_days))
    return f"{tier.metric} {value.normalize():f} in {tier.window_days} days vs {tier.threshold.normalize():f} for {tier.code}"


def _move(session: Session, member: Member, to: Tier, kind: str, reason: str, now: datetime, frm: Tier | None) -> Change:
    member.tier_id = to.id
    member.tier_since = now if kind != "renew" else member.tier_since
    base = member.tier_until if kind == "renew" and member.tier_until else now
    member.tier_until = base + timedelta(days=to.period_days) if to.threshold > 0 else None
    session.add(TierChange(member_id=member.id, kind=kind, from_tier_id=frm.id if frm else None, to_tier_id=to.id, reason=reason[:200], at=now))
    if to.richmenu_id and (frm is None or frm.id != to.id):
        enqueue_richmenu(session, member_id=member.id, richmenu_id=to.richmenu_id, now=now)
    announced = False
    if kind == "upgrade":
        from models.journey import journey_on, trigger

        trigger(session, "tier_up", member_id=member.id, occasion=f"tier:{to.code}:{now.date().isoformat()}", now=now,
                context={"tier": to.name, "tier_code": to.code})  # the occasion: the tier reached, checked at send time
        announced = journey_on(session, "tier_up")
    session.flush()
    return Change(kind, frm, to, reason, announced_by_journey=announced)


def evaluate_upgrade(session: Session, member: Member, now: datetime) -> Change | None:
    """After an award: move up at once when the member qualifies for a higher tier."""
    tiers = all_tiers(session)
    if not tiers:
        return None
    current = current_tier(session, member, tiers)
    best = best_qualified(session, member.id, tiers, now)
    if best is None or current is None or best.rank <= current.rank:
        return None
    return _move(session, member, best, "upgrade", "qualified: " + _describe(best, session, member.id, now), now, current)


def end_of_period(session: Session, member: Member, now: datetime) -> Change | None:
    """At the end of a tier period: renew when still qualified, else move down to what qualifies."""
    if member.tier_until is None or member.tier_until > now:
        return None
    tiers = all_tiers(session)
    current = current_tier(session, member, tiers)
    best = best_qualified(session, member.id, tiers, now)
    if current is None or best is None:
        return None
    if best.rank >= current.rank:
        kind = "renew" if best.id == current.id else "upgrade"
        return _move(session, member, best, kind, "period end: " + _describe(best, session, member.id, now), now, current)
    return _move(session, member, best, "downgrade", "period end: " + _describe(current, session, member.id, now), now, current)


def members_at_period_end(session: Session, now: datetime) -> list[int]:
    return list(session.scalars(select(Member.id).where(Member.tier_until.is_not(None), Member.tier_until <= now).order_by(Member.id)))


def members_to_remind(session: Session, now: datetime) -> list[int]:
    """Members whose period ends within their tier's reminder window and who were not reminded for it."""
    rows = session.execute(
        select(Member.id, Member.tier_until, Tier.reminder_days)
        .join(Tier, Tier.id == Member.tier_id)
        .where(Member.tier_until.is_not(None), Member.tier_until > now, Member.is_reachable.is_(True))
    )
    due = [mid for mid, until, days in rows if until <= now + timedelta(days=days)]
    if not due:
        return []
    reminded = set(session.scalars(select(TierReminder.member_id).where(TierReminder.member_id.in_(due), TierReminder.period_ends_at > now)))
    return [m for m in due if m not in reminded]


def needs_reminder(session: Session, member: Member, tier: Tier) -> bool:
    """Whether the purchases that will still count at the period's end fall short."""
    return member.tier_until is not None and shortfall(session, member.id, tier, member.tier_until) > 0


def claim_reminder(session: Session, member: Member, now: datetime) -> bool:
    """Record the reminder for this period; False when another run already did."""
    return session.execute(
        insert_for(session)(TierReminder)
        .values(member_id=member.id, period_ends_at=member.tier_until, sent_at=now)
        .on_conflict_do_nothing(index_elements=["member_id", "period_ends_at"])
        .returning(TierReminder.id)
    ).scalar() is not None


def multiplier_for(session: Session, member: Member) -> Decimal:
    tier = current_tier(session, member)
    return tier.earn_multiplier if tier else Decimal(1)


COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
DEFAULT_COLOR = "#6F4E37"


def tier_color(tier: Tier) -> str:
    """The colour to show: one saved before colours were checked that is not #RRGGBB shows the default."""
    return tier.color if isinstance(tier.color, str) and COLOR.fullmatch(tier.color) else DEFAULT_COLOR


def tier_json(tier: Tier) -> dict[str, Any]:
    return {
        "code": tier.code, "name": tier.name, "rank": tier.rank, "metric": tier.metric,
        "threshold": format(tier.threshold.normalize(), "f"), "window_days": tier.window_days,
        "period_days": tier.period_days, "reminder_days": tier.reminder_days,
        "earn_multiplier": format(tier.earn_multiplier.normalize(), "f"), "benefits": tier.benefits,
        "color": tier_color(tier), "image_url": tier.image_url, "birthday_template_id": tier.birthday_template_id,
        "upgrade_template_id": tier.upgrade_template_id, "richmenu_id": tier.richmenu_id,
    }


def birthday_members(session: Session, on: date, *, whole_month: bool) -> list[int]:
    """Members (reachable, joined) whose birthday is today, or this month."""
    rows = session.execute(select(Member.id, Member.birthday_on).where(Member.joined_at.is_not(None), Member.birthday_on.is_not(None)))
    if whole_month:
        return [mid for mid, bday in rows if bday.month == on.month]
    return [mid for mid, bday in rows if (bday.month, bday.day) == (on.month, on.day) or
            (bday.month, bday.day, on.month, on.day) == (2, 29, 2, 28) and not _leap(on.year)]


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
