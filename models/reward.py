"""Rewards: the stamp card's reward (issued when a card fills) and the points catalogue."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import BigInt, Base, IntPK, Timestamp, insert_for
from models.errors import Conflict, InvalidInput, NotFound
from models.limits import MAX_POINTS_COST
from models.ledger import add_entry, balance, lock_member, spend
from models.member import refuse_erased
from models.rule import EarningRule
from models.store import Actor


class RewardGrant(Base):
    """A reward a member holds: a free item from a full stamp card (coupons: see the coupon module)."""

    __tablename__ = "reward_grant"

    id: Mapped[IntPK]
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # free_item | coupon
    name: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(16))  # stamp_card
    award_id: Mapped[int | None] = mapped_column(ForeignKey("award.id"))
    issued_at: Mapped[Timestamp]
    used_at: Mapped[Timestamp | None]
    used_store_id: Mapped[int | None] = mapped_column(ForeignKey("store.id"))
    used_identified_by: Mapped[str | None] = mapped_column(String(16))  # models.ledger.IDENTIFIED_BY


class RewardItem(Base):
    """The points catalogue: what a member can take at the counter for points."""

    __tablename__ = "reward_item"

    id: Mapped[IntPK]
    name: Mapped[str] = mapped_column(String(120))
    points_cost: Mapped[int] = mapped_column(Integer)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[Timestamp]


class Redemption(Base):
    __tablename__ = "redemption"
    __table_args__ = (UniqueConstraint("store_id", "request_id", name="uq_redemption_store_request"),)

    id: Mapped[IntPK]
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id"))
    request_id: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    reward_item_id: Mapped[int] = mapped_column(ForeignKey("reward_item.id"))
    points: Mapped[int] = mapped_column(BigInt)
    ledger_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"))
    created_at: Mapped[Timestamp]


@dataclass(frozen=True)
class RedemptionResult:
    redemption_id: int
    reward_name: str
    points: int
    point_balance: int
    replayed: bool = False


def issue_card_rewards(
    session: Session, *, member_id: int, award_id: int, rule: EarningRule, actor: Actor, now: datetime
) -> list[int]:
    """Every full card becomes a reward; the card starts again, extra stamps carried over."""
    ids: list[int] = []
    size = max(1, rule.card_size)
    while balance(session, member_id, "stamp") >= size:
        add_entry(session, member_id=member_id, currency="stamp", amount=-size, reason="card_reward", actor=actor, now=now, award_id=award_id, note=rule.reward_name)
        grant = RewardGrant(
            member_id=member_id, kind=rule.reward_kind, name=rule.reward_name, source="stamp_card", award_id=award_id, issued_at=now
        )
        session.add(grant)
        session.flush()
        ids.append(grant.id)
    return ids


def open_grants(session: Session, member_id: int) -> list[RewardGrant]:
    return list(
        session.scalars(
            select(RewardGrant).where(RewardGrant.member_id == member_id, RewardGrant.used_at.is_(None)).order_by(RewardGrant.id)
        )
    )


ITEM_FIELDS = ("name", "points_cost", "active")


def _bad_item(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_reward", details={"field": field})


def _item_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 120:
        raise _bad_item("name", "name is required (text, at most 120 characters)")
    return name.strip()


def _item_cost(points_cost: object) -> int:
    if isinstance(points_cost, bool) or not isinstance(points_cost, int) or not 0 < points_cost <= MAX_POINTS_COST:
        raise _bad_item("points_cost", f"points_cost must be a whole number from 1 to {MAX_POINTS_COST:,}")
    return points_cost


def create_item(session: Session, *, name: str, points_cost: int, now: datetime) -> RewardItem:
    item = RewardItem(name=_item_name(name), points_cost=_item_cost(points_cost), is_active=True, created_at=now)
    session.add(item)
    session.flush()
    return item


def get_item(session: Session, item_id: int) -> RewardItem:
    item = session.get(RewardItem, item_id)
    if item is None:
        raise NotFound("No such reward", code="reward_not_found")
    return item


def update_item(session: Session, item_id: int, changes: dict[str, object]) -> RewardItem:
    """Rename, reprice, withdraw (``active: false``) or bring back a catalogue reward; the fields
    sent change, the others stay. Redemptions already made keep the points they cost."""
    item = get_item(session, item_id)
    unknown = sorted(set(changes) - set(ITEM_FIELDS))
    if unknown:
        raise _bad_item(unknown[0], f"Unknown fields: {', '.join(unknown)}")
    if "name" in changes:
        item.name = _item_name(changes["name"])
    if "points_cost" in changes:
        item.points_cost = _item_cost(changes["points_cost"])
    if "active" in changes:
        if not isinstance(changes["active"], bool):
            raise _bad_item("active", "active is true or false")
        item.is_active = changes["active"]
    session.flush()
    return item


def list_items(session: Session, *, active_only: bool = True) -> list[RewardItem]:
    stmt = select(RewardItem).order_by(RewardItem.points_cost, RewardItem.id)
    if active_only:
        stmt = stmt.where(RewardItem.is_active.is_(True))
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class CatalogueEntry:
    """A catalogue reward as one member sees it: reachable, or how many points are missing."""

    item_id: int
    name: str
    points_cost: int
    short: int  # points still missing; 0: within reach

    @property
    def reachable(self) -> bool:
        return self.short == 0


def catalogue_for(items: list[RewardItem], points: int, *, limit: int | None = None) -> list[CatalogueEntry]:
    """Active rewards for a member with ``points``: those within reach first, then the nearest;
    cheapest first within each. ``limit``: at most that many."""
    entries = [CatalogueEntry(i.id, i.name, i.points_cost, max(0, i.points_cost - max(points, 0))) for i in items if i.is_active]
    entries.sort(key=lambda e: (not e.reachable, e.points_cost, e.item_id))
    return entries[:limit]


def redeem_item(
    session: Session, *, member_id: int, item_id: int, request_id: str, actor: Actor, now: datetime
) -> RedemptionResult:
    """Spend points on a catalogue item, once per (store, request id); never below zero.

    A retry (same member, same item) answers with the original result, even when the item was
    withdrawn since. The id already used for another member or another item is refused
    (``request_id_reused``), never answered with that other redemption.
    """
    request_id = (request_id or "").strip()
    if not request_id or len(request_id) > 64:
        raise InvalidInput("request_id is required (at most 64 characters)", code="invalid_request_id")
    existing = _existing(session, actor.store_id, request_id)
    if existing is not None:
        return _replay(session, existing, member_id=member_id, item_id=item_id)
    item = session.get(RewardItem, item_id)
    if item is None or not item.is_active:
        raise NotFound("No such reward", code="reward_not_found")
    refuse_erased(lock_member(session, member_id))
    existing = _existing(session, actor.store_id, request_id)  # a twin may have committed meanwhile
    if existing is not None:
        return _replay(session, existing, member_id=member_id, item_id=item_id)
    entry = spend(session, member_id=member_id, currency="point", amount=item.points_cost, reason="redeem", actor=actor, now=now, note=item.name)
    new_id = session.execute(
        insert_for(session)(Redemption)
        .values(
            store_id=actor.store_id, request_id=request_id, member_id=member_id, reward_item_id=item.id,
            points=item.points_cost, ledger_entry_id=entry.id, created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["store_id", "request_id"])
        .returning(Redemption.id)
    ).scalar()
    if new_id is None:
        # Another transaction took this request id while we were spending (PostgreSQL waits for it to
        # commit before DO NOTHING): refuse, so the caller's transaction rolls our spending back.
        winner = _existing(session, actor.store_id, request_id)
        if winner is not None:
            _refuse_reuse(winner, member_id=member_id, item_id=item_id)
        raise Conflict("This request is still being processed; retry it", code="request_in_progress")
    return RedemptionResult(new_id, item.name, item.points_cost, balance(session, member_id, "point"))


def _existing(session: Session, store_id: int, request_id: str) -> Redemption | None:
    return session.scalars(
        select(Redemption).where(Redemption.store_id == store_id, Redemption.request_id == request_id)
    ).one_or_none()


def _refuse_reuse(red: Redemption, *, member_id: int, item_id: int) -> None:
    if red.member_id != member_id or red.reward_item_id != item_id:
        raise Conflict("This request_id was already used for another member or reward", code="request_id_reused")


def _replay(session: Session, red: Redemption, *, member_id: int, item_id: int) -> RedemptionResult:
    """The original result of this request, when it is the same request."""
    _refuse_reuse(red, member_id=member_id, item_id=item_id)
    item = session.get(RewardItem, red.reward_item_id)
    name = item.name if item is not None else ""
    return RedemptionResult(red.id, name, red.points, balance(session, red.member_id, "point"), replayed=True)


def use_grant(session: Session, *, grant_id: int, member_id: int, actor: Actor, now: datetime) -> RewardGrant:
    """Hand over a stamp-card reward at the counter, exactly once."""
    refuse_erased(lock_member(session, member_id))
    grant = session.scalars(select(RewardGrant).where(RewardGrant.id == grant_id).with_for_update()).one_or_none()
    if grant is None or grant.member_id != member_id:
        raise NotFound("No such reward for this member", code="grant_not_found")
    if grant.used_at is not None:
        raise Conflict("This reward was already used", code="grant_used")
    grant.used_at, grant.used_store_id, grant.used_identified_by = now, actor.store_id, actor.identified_by
    session.flush()
    return grant
