"""A believable café for the demo: tiers, coupons, automations and a year of members' history.

Everything is made through the domain's own functions (``create_tier``, ``create_template``,
``record_follow``/``complete_join``, ``checkout``, ``coupon.redeem``, ``record_unfollow``) with
the clock moved back to when each thing happened, so balances, tiers, coupons, segments and the
dashboard agree with each other exactly as they would after a year of real use. The members are
made up (LINE user ids that no real user has, names from a list), and the random choices come
from a seeded generator: the same seed on the same day gives the same café.

Automations are switched on only after the history is written, and anything the history queued
for LINE (pushes, rich menu links for made-up users) is marked skipped, so starting the demo
sends nothing to members who do not exist.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

SURNAMES = "陳林黃張李王吳劉蔡楊許鄭謝洪郭邱曾廖賴徐周葉蘇莊呂江何蕭羅高潘簡朱鍾游彭詹胡施沈余盧梁趙顏柯翁魏孫戴"
GIVEN = ("怡君", "雅婷", "家豪", "志明", "淑芬", "冠宇", "宗翰", "佳穎", "思妤", "承恩", "品妍", "柏翰", "詩涵", "俊傑",
         "欣怡", "建宏", "郁婷", "子晴", "宇軒", "芷若", "文彬", "美玲", "彥廷", "心怡", "育誠", "曉雯", "明哲", "婉婷")

TIERS = (
    {"code": "basic", "name": "一般會員", "rank": 0, "metric": "spend", "threshold": "0", "color": "#6F4E37",
     "benefits": ["每消費 NT$10 累積 1 點", "集滿 8 章送招牌拿鐵"]},
    {"code": "silver", "name": "銀卡會員", "rank": 1, "metric": "spend", "threshold": "3000", "earn_multiplier": "1.2",
     "color": "#8A8D91", "benefits": ["點數 1.2 倍", "生日當月飲品買一送一", "新品搶先試喝"]},
    {"code": "gold", "name": "金卡會員", "rank": 2, "metric": "spend", "threshold": "8000", "earn_multiplier": "1.5",
     "color": "#B8860B", "benefits": ["點數 1.5 倍", "生日當月招牌拿鐵一杯", "每月一次免費升級大杯", "金卡專屬選單"]},
)

TEMPLATES = {
    "welcome": {"name": "新會員 NT$50 折價券", "kind": "amount_off", "value": "50", "min_spend": "150", "valid_days": 30,
                "trigger": "welcome", "per_member_limit": 1},
    "birthday": {"name": "生日招牌拿鐵一杯", "kind": "free_item", "item_name": "招牌拿鐵", "valid_days": 30,
                 "trigger": "birthday"},
    "stamp_card": {"name": "集點滿額：招牌拿鐵一杯", "kind": "free_item", "item_name": "招牌拿鐵", "valid_days": 60,
                   "trigger": "stamp_card"},
    "silver_up": {"name": "升級銀卡：全品項 85 折", "kind": "percent_off", "value": "15", "valid_days": 30,
                  "trigger": "tier_upgrade"},
    "gold_up": {"name": "升級金卡：甜點任選一份", "kind": "free_item", "item_name": "甜點任選", "valid_days": 30,
                "trigger": "tier_upgrade"},
    "winback": {"name": "好久不見：NT$80 折價券", "kind": "amount_off", "value": "80", "min_spend": "200", "valid_days": 14,
                "trigger": "campaign"},
}

# Journeys switched on, with the coupon each one carries (None: a message only).
JOURNEYS = {"welcome": None, "birthday": "birthday", "winback": "winback", "tier_up": None,
            "tier_expiring": None, "card_almost_full": None, "coupon_expiring": None}


@dataclass(frozen=True)
class Habit:
    """How often a kind of customer comes (mean days between visits), what they spend, for how long."""
    share: float
    gap_days: float
    spend: tuple[int, int]
    stops_days_ago: tuple[int, int]  # their last visit falls this many days ago (0: still coming)


HABITS = (
    Habit(0.12, 5, (120, 420), (0, 6)),       # regulars: a few times a week
    Habit(0.28, 14, (90, 320), (0, 25)),      # every other week
    Habit(0.25, 35, (80, 260), (0, 70)),      # now and then
    Habit(0.20, 30, (100, 380), (90, 300)),   # used to come, stopped (sleeping)
    Habit(0.15, 0, (0, 0), (0, 0)),           # joined, never bought
)


@dataclass(frozen=True)
class Seeded:
    members: int
    purchases: int
    coupons_redeemed: int
    blocked: int


def _pick_habit(rng: random.Random) -> Habit:
    roll, acc = rng.random(), 0.0
    for habit in HABITS:
        acc += habit.share
        if roll < acc:
            return habit
    return HABITS[-1]


def _at_opening_hours(day: datetime, rng: random.Random) -> datetime:
    """A time between 08:00 and 20:00 Taipei on that day (the clock's zone)."""
    local = day.replace(hour=8, minute=0, second=0, microsecond=0)
    return local + timedelta(minutes=rng.randrange(0, 12 * 60))


def seed_catalogue(session: Session, *, now: datetime) -> dict[str, int]:
    """Tiers, coupon templates and the tiers' coupons; returns template ids by key."""
    from models.coupon import create_template
    from models.tier import create_tier

    ids = {key: create_template(session, dict(data), now=now).id for key, data in TEMPLATES.items()}
    for data in TIERS:
        extra: dict[str, object] = {}
        if data["code"] == "silver":
            extra = {"upgrade_template_id": ids["silver_up"]}
        elif data["code"] == "gold":
            extra = {"upgrade_template_id": ids["gold_up"], "birthday_template_id": ids["birthday"]}
        create_tier(session, {**data, **extra}, now=now)
    return ids


def switch_on_journeys(session: Session, template_ids: dict[str, int], *, now: datetime) -> None:
    from models.journey import ensure_journeys, update_journey

    for journey in ensure_journeys(session, now=now):
        if journey.kind in JOURNEYS:
            coupon = JOURNEYS[journey.kind]
            data: dict[str, object] = {"enabled": True}
            if coupon is not None:
                data["coupon_template_id"] = template_ids[coupon]
            update_journey(session, journey, data, now=now)


def _member(session: Session, rng: random.Random, joined: datetime, terms_version: str):  # type: ignore[no-untyped-def]
    """A friend who joined at ``joined``, with the welcome coupon joining gives (handlers.join does the same)."""
    from models.coupon import issue_for_trigger
    from models.member import complete_join, record_follow

    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    user_id = "U" + f"{rng.getrandbits(128):032x}"
    member, _ = record_follow(session, user_id, now=joined, display_name=name)
    born = date(rng.randrange(1965, 2006), rng.randrange(1, 13), rng.randrange(1, 29))
    phone = f"09{rng.randrange(10_000_000, 99_999_999)}" if rng.random() < 0.8 else None
    gender = rng.choice(("female", "female", "male", None))
    complete_join(session, member, now=joined, birthday_on=born, terms_version=terms_version,
                  consented_at=joined, phone=phone, gender=gender)
    issue_for_trigger(session, trigger="welcome", member_id=member.id, occasion="welcome", now=joined)
    return member


def seed_history(db, *, now: datetime, members: int, terms_version: str, seed: int = 2026) -> Seeded:  # type: ignore[no-untyped-def]
    """``members`` members who joined over the past year, each with a habit, one transaction each."""
    from models.checkout import checkout
    from models.coupon import Coupon, redeem
    from models.errors import DomainError
    from models.member import record_unfollow
    from models.store import Actor, Staff, Store

    rng = random.Random(seed)
    purchases = redeemed = blocked = 0
    with db.transaction() as session:
        stores = [(s.id, s.code) for s in session.scalars(select(Store).order_by(Store.id))]
        staff = {sid: session.scalar(select(Staff.id).where(Staff.store_id == sid).order_by(Staff.id)) for sid, _ in stores}
    for n in range(members):
        habit = _pick_habit(rng)
        joined = _at_opening_hours(now - timedelta(days=rng.randrange(1, 365)), rng)
        with db.transaction() as session:
            member = _member(session, rng, joined, terms_version)
            home = rng.choice(stores)[0]
            if habit.gap_days:
                last = now - timedelta(days=rng.randrange(*habit.stops_days_ago) if habit.stops_days_ago[1] else 0)
                day = joined + timedelta(days=rng.random() * 3)
                welcome_used = False
                while day < last:
                    at = _at_opening_hours(day, rng)
                    if at >= now:
                        break
                    store_id = home if rng.random() < 0.85 else rng.choice(stores)[0]
                    actor = Actor(store_id=store_id, kind="staff", staff_id=staff[store_id], role="cashier")
                    amount = Decimal(rng.randrange(habit.spend[0], habit.spend[1] + 1, 5))
                    checkout(session, member=member, receipt_id=f"demo-{n}-{purchases}", amount=amount, visit=True, actor=actor, now=at)
                    purchases += 1
                    if not welcome_used and amount >= 150:
                        welcome_used = True
                        code = session.scalar(select(Coupon.code).where(Coupon.member_id == member.id, Coupon.source == "welcome"))
                        if code and rng.random() < 0.6:
                            try:
                                with session.begin_nested():
                                    redeem(session, code=code, amount=amount, actor=actor, now=at)
                                redeemed += 1
                            except DomainError:  # expired before the first purchase big enough
                                pass
                    day += timedelta(days=max(1.0, rng.expovariate(1 / habit.gap_days)))
            if rng.random() < 0.06:
                gone = min(now - timedelta(hours=1), joined + timedelta(days=rng.randrange(1, 200)))
                record_unfollow(session, member.line_user_id, now=gone)
                blocked += 1
    return Seeded(members=members, purchases=purchases, coupons_redeemed=redeemed, blocked=blocked)


def quiet_history(session: Session) -> int:
    """What the history queued for LINE (made-up users) is not sent: marked skipped, with why."""
    from models.outbox import OutboxMessage

    result = session.execute(
        update(OutboxMessage).where(OutboxMessage.status == "pending").values(status="skipped", last_error="demo history")
    )
    return result.rowcount or 0
