"""Automations (journeys): the right message to the right member at the right moment.

A journey is switched on or off and edited by marketers: its message, an optional coupon,
a delay, and an optional segment rule as a condition. A trigger (an event as it happens,
or the scheduled scan) records a ``journey_run`` for (journey, member, occasion): the
unique constraint makes each occasion happen once, whatever the number of workers,
retries or restarts. Runs become due after the delay; sending checks the condition,
reachability, quiet hours and the frequency cap (shared with campaigns), and records why
a run was skipped.

    occasion per kind:  welcome → "welcome"            birthday → "birthday:2027"
                        winback → "lapse:<last visit>"  tier_up → "tier:<code>:<since>"
                        tier_expiring → "tier_end:<date>" card_almost_full → "card:<cards filled>"
                        coupon_expiring → "coupon:<id>"
"""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, IntPK, Timestamp, insert_for
from models.errors import InvalidInput, NotFound
from models.limits import MAX_DB_INT, whole_in
from models.campaign import MarketingSend
from models.coupon import Coupon, CouponTemplate
from models.ledger import Award
from models.placeholder import PlaceholderError, check
from models.segment_rules import compile_rule

RUNS_KEY = "journey_runs"
PLACEHOLDERS = ("brand", "name", "tier", "reward", "coupon")  # filled by bot/jobs/journey_runner.py, and nothing else
NES_TARGETS = ("S1", "S2", "S3")  # the stages a win-back can reach; target_nes NULL means the default
DEFAULT_NES = ["S1", "S2"]
# Service journeys speak of the member's own card, coupons and tier: they neither wait for nor count
# against the marketing cap (quiet hours still hold them). A birthday journey is one when it carries a coupon.
SERVICE_KINDS = ("tier_up", "tier_expiring", "coupon_expiring")
KINDS = ("welcome", "birthday", "winback", "tier_up", "tier_expiring", "card_almost_full", "coupon_expiring")
DEFAULT_TEXT = {
    "welcome": "歡迎加入 {brand} 會員！送您一份入會禮，歡迎常來坐坐 ☕",
    "birthday": "🎂 {name}生日快樂！{brand} 為您準備了生日禮，這個月來店出示即可使用。",
    "winback": "{name}，好久不見！我們想念您了，回來喝杯咖啡吧 ☕",
    "tier_up": "👑 恭喜升級為「{tier}」！新的會員福利已經生效。",
    "tier_expiring": "⏳ 提醒您：您的「{tier}」資格即將到期。",  # followed by what it takes to keep it
    "card_almost_full": "再集 1 章就能兌換「{reward}」囉！",
    "coupon_expiring": "⏰ 您的優惠券「{coupon}」即將到期，記得使用喔！",
}


class Journey(Base):
    __tablename__ = "journey"

    id: Mapped[IntPK]
    kind: Mapped[str] = mapped_column(String(20), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(String(1000))
    coupon_template_id: Mapped[int | None] = mapped_column(ForeignKey("coupon_template.id"))
    delay_minutes: Mapped[int] = mapped_column(Integer, default=0)
    days_before: Mapped[int] = mapped_column(Integer, default=0)
    condition: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    target_nes: Mapped[list[str] | None] = mapped_column(JSON)  # win-back: NES stages it reaches (NULL: S1, S2)
    updated_at: Mapped[Timestamp]

    @property
    def nes_targets(self) -> list[str]:
        return list(self.target_nes) if self.target_nes else list(DEFAULT_NES)

    @property
    def is_service(self) -> bool:
        return self.kind in SERVICE_KINDS or (self.kind == "birthday" and self.coupon_template_id is not None)


class JourneyRun(Base):
    __tablename__ = "journey_run"
    __table_args__ = (
        UniqueConstraint("journey_id", "member_id", "occasion", name="uq_journey_run_occasion"),
        Index("ix_journey_run_due", "status", "due_at"),
    )

    id: Mapped[IntPK]
    journey_id: Mapped[int] = mapped_column(ForeignKey("journey.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    occasion: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10))  # pending | sent | skipped
    # capped | unreachable | condition | came_back | disabled; tier_expiring: qualified | period_over | reminded;
    # coupon_expiring: used | voided | expired | reminded; tier_up, tier_expiring: tier_changed
    skip_reason: Mapped[str | None] = mapped_column(String(16))
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[Timestamp]
    due_at: Mapped[Timestamp]
    sent_at: Mapped[Timestamp | None]
    coupon_id: Mapped[int | None] = mapped_column(ForeignKey("coupon.id"))


def ensure_journeys(session: Session, *, now: datetime) -> list[Journey]:
    """One row per kind, created switched off with a default message."""
    have = {j.kind: j for j in session.scalars(select(Journey))}
    for kind in KINDS:
        if kind not in have:
            days = {"birthday": 0, "tier_expiring": 14, "coupon_expiring": 3}.get(kind, 0)
            journey = Journey(kind=kind, enabled=False, text=DEFAULT_TEXT[kind], delay_minutes=0, days_before=days, updated_at=now)
            session.add(journey)
            have[kind] = journey
    session.flush()
    return [have[k] for k in KINDS]


def get_journey(session: Session, kind: str) -> Journey:
    journey = session.scalars(select(Journey).where(Journey.kind == kind)).one_or_none() if kind in KINDS else None
    if journey is None:
        raise NotFound(f"No journey {kind}", code="journey_not_found")
    return journey


def update_journey(session: Session, journey: Journey, data: dict[str, Any], *, now: datetime) -> Journey:
    unknown = set(data) - {"enabled", "text", "coupon_template_id", "delay_minutes", "days_before", "condition", "target_nes"}
    if unknown:
        raise InvalidInput(f"Unknown fields: {', '.join(sorted(unknown))}", code="invalid_journey", details={"field": sorted(unknown)[0]})
    if "enabled" in data:
        if not isinstance(data["enabled"], bool):
            raise InvalidInput("enabled is true or false", code="invalid_journey", details={"field": "enabled"})
        journey.enabled = data["enabled"]
    if "text" in data:
        text = data["text"]
        if not isinstance(text, str) or not text.strip() or len(text) > 1000:
            raise InvalidInput("text is 1 to 1000 characters", code="invalid_journey", details={"field": "text"})
        try:
            check(text, PLACEHOLDERS)
        except PlaceholderError as exc:
            raise InvalidInput(f"text: {exc}", code="invalid_journey", details={"field": "text", "placeholder": exc.placeholder[:100]}) from exc
        journey.text = text.strip()
    if "coupon_template_id" in data:
        tid = data["coupon_template_id"]
        if tid is not None and (not whole_in(tid, 1, MAX_DB_INT) or session.get(CouponTemplate, tid) is None):
            raise InvalidInput("No such coupon template", code="invalid_journey", details={"field": "coupon_template_id"})
        journey.coupon_template_id = tid
    for name, top in (("delay_minutes", 60 * 24 * 60), ("days_before", 60)):
        if name in data:
            value = data[name]
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
                raise InvalidInput(f"{name} is a whole number from 0 to {top}", code="invalid_journey", details={"field": name})
            setattr(journey, name, value)
    if "target_nes" in data:
        journey.target_nes = _nes_targets(journey, data["target_nes"])
    if "condition" in data:
        compile_rule(session, data["condition"], now)
        journey.condition = data["condition"] or None
    journey.updated_at = now
    session.flush()
    return journey


def _nes_targets(journey: Journey, value: Any) -> list[str]:
    if journey.kind != "winback":
        raise InvalidInput("target_nes is for the win-back journey", code="invalid_journey", details={"field": "target_nes"})
    if not isinstance(value, list) or not value or any(v not in NES_TARGETS for v in value) or len(set(value)) != len(value):
        raise InvalidInput("target_nes lists one or more of S1, S2, S3", code="invalid_journey", details={"field": "target_nes"})
    return [v for v in NES_TARGETS if v in value]


def journey_on(session: Session, kind: str) -> bool:
    """Whether the journey is switched on. An enabled journey replaces the built-in message for its
    occasion: birthday, tier expiring and coupon expiring the daily job's, tier up the award's."""
    return bool(session.scalar(select(Journey.enabled).where(Journey.kind == kind)))


def trigger(session: Session, kind: str, *, member_id: int, occasion: str, now: datetime, context: dict[str, Any] | None = None) -> bool:
    """Record the occasion for an enabled journey; False when it is off or already recorded."""
    journey = session.scalars(select(Journey).where(Journey.kind == kind)).one_or_none()
    if journey is None or not journey.enabled:
        return False
    new = session.execute(
        insert_for(session)(JourneyRun)
        .values(journey_id=journey.id, member_id=member_id, occasion=occasion[:64], status="pending", context=context or {},
                created_at=now, due_at=now + timedelta(minutes=journey.delay_minutes))
        .on_conflict_do_nothing(index_elements=["journey_id", "member_id", "occasion"])
        .returning(JourneyRun.id)
    ).scalar()
    if new is not None and journey.delay_minutes == 0:
        session.info.setdefault(RUNS_KEY, []).append(new)
    return new is not None


def runs_queued_in(session: Session) -> list[int]:
    """Runs this session triggered that are due at once (sent after the transaction commits)."""
    return list(session.info.get(RUNS_KEY, []))


def due_runs(session: Session, now: datetime, limit: int = 500) -> list[int]:
    return list(session.scalars(select(JourneyRun.id).where(JourneyRun.status == "pending", JourneyRun.due_at <= now).order_by(JourneyRun.id).limit(limit)))


def recent_marketing(session: Session, member_id: int, now: datetime) -> int:
    return int(session.scalar(select(func.count()).select_from(MarketingSend).where(
        MarketingSend.member_id == member_id, MarketingSend.sent_at > now - timedelta(days=7))) or 0)


def journey_report(session: Session, journey: Journey, *, days: int = 14) -> dict[str, Any]:
    from sqlalchemy import DateTime, and_, type_coerce

    from models.journey_insight import describe  # it imports this module
    from models.ledger import Award

    by_status = dict(session.execute(select(JourneyRun.status, func.count()).where(JourneyRun.journey_id == journey.id).group_by(JourneyRun.status)).all())
    reasons = dict(session.execute(select(JourneyRun.skip_reason, func.count()).where(
        JourneyRun.journey_id == journey.id, JourneyRun.status == "skipped").group_by(JourneyRun.skip_reason)).all())
    redeemed, coupon_revenue = 0, Decimal(0)  # the journey's coupons redeemed within the window after their message
    for sent_at, redeemed_at, amount in session.execute(
            select(JourneyRun.sent_at, Coupon.redeemed_at, Coupon.redeemed_amount).join(Coupon, Coupon.id == JourneyRun.coupon_id)
            .where(JourneyRun.journey_id == journey.id, JourneyRun.status == "sent", Coupon.status == "redeemed")):
        if redeemed_at <= sent_at + timedelta(days=days):
            redeemed, coupon_revenue = redeemed + 1, coupon_revenue + (amount or 0)
    revenue = session.scalar(
        select(func.coalesce(func.sum(Award.amount), 0)).select_from(JourneyRun)
        .join(Award, and_(Award.member_id == JourneyRun.member_id, Award.created_at > JourneyRun.sent_at,
                          Award.created_at <= type_coerce(JourneyRun.sent_at, DateTime(timezone=True)) + timedelta(days=days)))
        .where(JourneyRun.journey_id == journey.id, JourneyRun.status == "sent")
    ) if session.get_bind().dialect.name == "postgresql" else _revenue_portable(session, journey, days)
    return {
        "triggered": int(sum(by_status.values())), "sent": int(by_status.get("sent", 0)), "pending": int(by_status.get("pending", 0)),
        "skipped": {str(k): int(v) for k, v in reasons.items()},
        "coupons_redeemed": int(redeemed), "coupon_revenue": str(Decimal(coupon_revenue)),
        "revenue_within_days": str(Decimal(revenue or 0)), "window_days": days,
        "line": describe(session, journey),  # LINE's opens and clicks of its unit, or why there are none
    }


def _revenue_portable(session: Session, journey: Journey, days: int) -> Decimal | int:
    """SQLite cannot add an interval to a column: sum per sent run (the embedded default is small)."""
    total = 0
    for member_id, sent_at in session.execute(select(JourneyRun.member_id, JourneyRun.sent_at).where(
            JourneyRun.journey_id == journey.id, JourneyRun.status == "sent")):
        total += session.scalar(select(func.coalesce(func.sum(Award.amount), 0)).where(
            Award.member_id == member_id, Award.created_at > sent_at, Award.created_at <= sent_at + timedelta(days=days))) or 0
    return total


def journey_json(journey: Journey) -> dict[str, Any]:
    return {"kind": journey.kind, "enabled": journey.enabled, "text": journey.text, "coupon_template_id": journey.coupon_template_id,
            "delay_minutes": journey.delay_minutes, "days_before": journey.days_before, "condition": journey.condition,
            "service": journey.is_service, **({"target_nes": journey.nes_targets} if journey.kind == "winback" else {}),
            "updated_at": journey.updated_at.isoformat()}
