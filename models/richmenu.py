"""Deployed rich menus: which LINE rich menu id each definition has now, and which ones a
deploy replaced (deleted from LINE after the next deploy's links are in place).

Names are the definition files' names: ``guest`` (the default menu), ``member-card`` (the
member menu's first tab, linked to every member), ``member-more`` (its second tab), and
``tier-<code>`` (an optional variant for one tier).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, IntPK, Timestamp
from models.member import Member
from models.outbox import enqueue_richmenu
from models.tier import Tier, all_tiers, current_tier

GUEST_MENU = "guest"
MEMBER_MENU = "member-card"
TIER_PREFIX = "tier-"


class RichMenuDeployment(Base):
    """One rich menu a deploy created; current while ``retired_at`` is empty."""

    __tablename__ = "richmenu_deployment"

    id: Mapped[IntPK]
    name: Mapped[str] = mapped_column(String(64))
    rich_menu_id: Mapped[str] = mapped_column(String(80), unique=True)
    alias: Mapped[str | None] = mapped_column(String(32))
    deployed_at: Mapped[Timestamp]
    retired_at: Mapped[Timestamp | None]  # replaced by a later deploy
    deleted_at: Mapped[Timestamp | None]  # deleted from LINE


@dataclass(frozen=True)
class Deployed:
    name: str
    rich_menu_id: str
    alias: str | None


def tier_code_of(name: str) -> str | None:
    """``tier-gold`` -> ``gold``; None for any other menu."""
    if not name.startswith(TIER_PREFIX):
        return None
    return name[len(TIER_PREFIX):] or None


def current_menus(session: Session) -> dict[str, str]:
    """Definition name -> rich menu id, for the menus of the latest deploy."""
    rows = session.execute(select(RichMenuDeployment.name, RichMenuDeployment.rich_menu_id)
                           .where(RichMenuDeployment.retired_at.is_(None)))
    return {name: menu_id for name, menu_id in rows}


def member_menu_id(session: Session) -> str | None:
    return current_menus(session).get(MEMBER_MENU)


def _menu_for_tier(menus: dict[str, str], tier: Tier | None) -> str | None:
    if tier is not None and f"{TIER_PREFIX}{tier.code}" in menus:
        return menus[f"{TIER_PREFIX}{tier.code}"]
    return menus.get(MEMBER_MENU)


def menu_for_member(session: Session, member: Member) -> str | None:
    """The menu a member should see: their tier's variant, else the member menu (None: none deployed)."""
    menus = current_menus(session)
    return _menu_for_tier(menus, current_tier(session, member)) if menus else None


def link_member_menu(session: Session, member: Member, *, now: datetime) -> str | None:
    """Queue the link of the member's menu (sent once the transaction commits, through the outbox);
    None when no menu is deployed. On joining, and on following again: a deploy links only the
    members who can be reached, and a tier change's link is skipped while the member blocks the account."""
    menu = menu_for_member(session, member)
    if menu:
        enqueue_richmenu(session, member_id=member.id, richmenu_id=menu, now=now)
    return menu


def record_deployment(session: Session, menus: list[Deployed], *, now: datetime) -> list[str]:
    """Make ``menus`` the current ones; returns the ids of the menus they replace."""
    previous = list(session.scalars(select(RichMenuDeployment).where(RichMenuDeployment.retired_at.is_(None))))
    for row in previous:
        row.retired_at = now
    session.add_all(RichMenuDeployment(name=m.name, rich_menu_id=m.rich_menu_id, alias=m.alias, deployed_at=now)
                    for m in menus)
    session.flush()
    return [row.rich_menu_id for row in previous]


def menus_to_delete(session: Session) -> list[str]:
    """Menus replaced by a deploy and not yet deleted from LINE (a failed deletion is retried)."""
    return list(session.scalars(
        select(RichMenuDeployment.rich_menu_id)
        .where(RichMenuDeployment.retired_at.is_not(None), RichMenuDeployment.deleted_at.is_(None))
        .order_by(RichMenuDeployment.id)))


def mark_deleted(session: Session, rich_menu_ids: list[str], *, now: datetime) -> None:
    for row in session.scalars(select(RichMenuDeployment).where(RichMenuDeployment.rich_menu_id.in_(rich_menu_ids))):
        row.deleted_at = now
    session.flush()


def assign_tier_menus(session: Session) -> dict[str, str | None]:
    """Point each tier at its menu so a tier change relinks the member.

    A tier with a variant gets the variant. When any tier has one, the others get the member
    menu (so moving down from a variant tier links the member menu again); otherwise they get
    none. A tier pointing at a menu no deploy made (set by hand) is left alone.
    """
    menus = current_menus(session)
    ours = set(session.scalars(select(RichMenuDeployment.rich_menu_id)))
    any_variant = any(tier_code_of(name) for name in menus)
    changed: dict[str, str | None] = {}
    for tier in all_tiers(session):
        if tier.richmenu_id is not None and tier.richmenu_id not in ours:
            continue
        variant = menus.get(f"{TIER_PREFIX}{tier.code}")
        wanted = variant or (menus.get(MEMBER_MENU) if any_variant else None)
        if tier.richmenu_id != wanted:
            tier.richmenu_id = wanted
            changed[tier.code] = wanted
    session.flush()
    return changed


def members_to_link(session: Session) -> dict[str, list[str]]:
    """Rich menu id -> LINE user ids of the joined, reachable members who should have it."""
    menus = current_menus(session)
    if MEMBER_MENU not in menus:
        return {}
    tiers = all_tiers(session)
    by_id = {t.id: t for t in tiers}
    entry = tiers[0] if tiers else None
    rows = session.execute(
        select(Member.line_user_id, Member.tier_id)
        .where(Member.joined_at.is_not(None), Member.is_reachable.is_(True))
        .order_by(Member.id))
    links: dict[str, list[str]] = {}
    for user_id, tier_id in rows:
        menu_id = _menu_for_tier(menus, by_id.get(tier_id, entry) if tier_id else entry)
        if menu_id:
            links.setdefault(menu_id, []).append(user_id)
    return links
