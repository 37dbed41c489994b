"""Click tracking per member: a campaign's links, the signed tokens of the bot's ``/r/<token>``
redirect, and who clicked what.

A campaign whose message carries web links (URI actions) is sent one push per member (bot/
campaign_push.py) with each link pointing at ``/r/<token>``. The token is 22 bytes, 30 characters
of base64url::

    link id (4 bytes, in clear) | member id (6 bytes, encrypted) | tag (12 bytes)

``tag = HMAC(key, "tag" | link | member)[:12]`` and the member id is XORed with
``HMAC(key, "mask" | link | tag)[:6]``: a synthetic-IV construction with HMAC-SHA256 only, so the
same (link, member) always gives the same token (a resumed send rewrites the same message), the
member id is not readable from the URL (nor the LINE user id, which is never in it), and changing
any bit changes the tag's check: a forged, truncated or re-encoded token opens nothing. Opening a
token is a pure function; the redirect then reads the link by its primary key and writes one row.

Why signed rather than stored random tokens: a stored token needs a row per member × link written
before sending (a million rows for a 500,000-member campaign with two links), the signed one
needs none; what a click needs to know (which link, which member) is in the token itself.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, IntPK, Timestamp, insert_for

TOKEN_BYTES = 22
MAX_LINK_ID = 2**32 - 1
MAX_MEMBER_ID = 2**48 - 1
MAX_URL = 1000  # the column; LINE's URI action takes at most 1,000 characters
TRACKED_SCHEMES = ("https://", "http://")  # tel:, line:// and the like go as they are


class CampaignLink(Base):
    """One web link of a campaign's message, in the order it appears (``position`` from 0)."""

    __tablename__ = "campaign_link"
    __table_args__ = (UniqueConstraint("campaign_id", "position", name="uq_campaign_link_position"),)

    id: Mapped[IntPK]
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    position: Mapped[int] = mapped_column(Integer)
    url: Mapped[str] = mapped_column(String(MAX_URL))
    label: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[Timestamp]


class CampaignClick(Base):
    """A member's clicks on one link: the first (what purchases are counted after) and how many."""

    __tablename__ = "campaign_click"
    __table_args__ = (Index("ix_campaign_click_campaign_member", "campaign_id", "member_id"),)

    link_id: Mapped[int] = mapped_column(ForeignKey("campaign_link.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    clicks: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[Timestamp]
    last_at: Mapped[Timestamp]


# --- tokens (pure) ---------------------------------------------------------------------------
def link_key(secret: str) -> bytes:
    """The tokens' own key, derived from SECRET_KEY (rotating it retires every sent link)."""
    return hmac.new(secret.encode(), b"campaign-link-token-v1", hashlib.sha256).digest()


def _tag(key: bytes, link: bytes, member: bytes) -> bytes:
    return hmac.new(key, b"tag" + link + member, hashlib.sha256).digest()[:12]


def _mask(key: bytes, link: bytes, tag: bytes) -> bytes:
    return hmac.new(key, b"mask" + link + tag, hashlib.sha256).digest()[:6]


def make_token(key: bytes, link_id: int, member_id: int) -> str:
    if not (0 < link_id <= MAX_LINK_ID and 0 < member_id <= MAX_MEMBER_ID):
        raise ValueError("link or member id out of the token's range")
    link, member = link_id.to_bytes(4, "big"), member_id.to_bytes(6, "big")
    tag = _tag(key, link, member)
    hidden = bytes(a ^ b for a, b in zip(member, _mask(key, link, tag)))
    return base64.urlsafe_b64encode(link + hidden + tag).rstrip(b"=").decode()


def open_token(key: bytes, token: str) -> tuple[int, int] | None:
    """(link id, member id) of a token this key made; None for anything else (forged, cut, re-encoded)."""
    if len(token) != 30:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "==")
    except (binascii.Error, ValueError):
        return None
    if len(raw) != TOKEN_BYTES or base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != token:
        return None  # base64 lets the last character's spare bits vary: only the canonical spelling opens
    link, hidden, tag = raw[:4], raw[4:10], raw[10:]
    member = bytes(a ^ b for a, b in zip(hidden, _mask(key, link, tag)))
    if not hmac.compare_digest(_tag(key, link, member), tag):
        return None
    return int.from_bytes(link, "big"), int.from_bytes(member, "big")


def is_tracked(url: Any) -> bool:
    return isinstance(url, str) and url.lower().startswith(TRACKED_SCHEMES) and len(url) <= MAX_URL


# --- links and clicks ------------------------------------------------------------------------
def _money(value: Any) -> str:
    return str(Decimal(value or 0).quantize(Decimal("0.01")))


def record_links(session: Session, campaign_id: int, links: list[tuple[str, str | None]], *, now: datetime) -> list[int]:
    """The campaign's links (url, label) in message order, written once: a resumed send (or a second
    worker) finds the same rows and so makes the same tokens. Returns their ids by position."""
    if links:
        rows = [{"campaign_id": campaign_id, "position": i, "url": url, "label": (label or None) and label[:100], "created_at": now}
                for i, (url, label) in enumerate(links)]
        session.execute(insert_for(session)(CampaignLink).values(rows).on_conflict_do_nothing(index_elements=["campaign_id", "position"]))
    return list(session.scalars(select(CampaignLink.id).where(CampaignLink.campaign_id == campaign_id).order_by(CampaignLink.position)))


def find_link(session: Session, link_id: int) -> CampaignLink | None:
    return session.get(CampaignLink, link_id)


def record_click(session: Session, link: CampaignLink, member_id: int, *, now: datetime) -> None:
    """One statement: the member's first click on this link, or one more."""
    stmt = insert_for(session)(CampaignClick).values(link_id=link.id, member_id=member_id, campaign_id=link.campaign_id,
                                                     clicks=1, first_at=now, last_at=now)
    session.execute(stmt.on_conflict_do_update(index_elements=["link_id", "member_id"],
                                               set_={"clicks": CampaignClick.clicks + 1, "last_at": now}))


def clicked_campaigns(campaign_ids: list[int]):
    """Members who clicked a link of any of these campaigns (the segment rule ``clicked_campaign``)."""
    return select(CampaignClick.member_id).where(CampaignClick.campaign_id.in_(campaign_ids))


def _first_clicks(campaign_id: int):
    return (select(CampaignClick.member_id, func.min(CampaignClick.first_at).label("first_at"),
                   func.sum(CampaignClick.clicks).label("clicks"), func.count().label("links"))
            .where(CampaignClick.campaign_id == campaign_id).group_by(CampaignClick.member_id).subquery("clicker"))


def click_report(session: Session, campaign_id: int, *, sent: int, start: datetime, days: int, coupon_occasion: str) -> dict[str, Any]:
    """Per link: clicks, unique clickers and click-through over sent; in all: unique clickers, and
    what they did after their first click within the attribution window (``start`` + ``days``):
    bought (awards after that click) and redeemed the campaign's coupon."""
    from models.coupon import Coupon
    from models.ledger import Award

    per_link = session.execute(
        select(CampaignLink.id, CampaignLink.position, CampaignLink.url, CampaignLink.label,
               func.coalesce(func.sum(CampaignClick.clicks), 0), func.count(CampaignClick.member_id))
        .outerjoin(CampaignClick, CampaignClick.link_id == CampaignLink.id)
        .where(CampaignLink.campaign_id == campaign_id)
        .group_by(CampaignLink.id, CampaignLink.position, CampaignLink.url, CampaignLink.label).order_by(CampaignLink.position)
    ).all()
    clicker = _first_clicks(campaign_id)
    end = start + timedelta(days=days)
    unique, total = session.execute(select(func.count(), func.coalesce(func.sum(clicker.c.clicks), 0)).select_from(clicker)).one()
    buyers, revenue = session.execute(
        select(func.count(func.distinct(Award.member_id)), func.coalesce(func.sum(Award.amount), 0))
        .join(clicker, clicker.c.member_id == Award.member_id)
        .where(Award.created_at > clicker.c.first_at, Award.created_at <= end)
    ).one()
    redeemed = session.scalar(
        select(func.count(func.distinct(Coupon.member_id))).join(clicker, clicker.c.member_id == Coupon.member_id)
        .where(Coupon.occasion == coupon_occasion, Coupon.status == "redeemed", Coupon.redeemed_at > clicker.c.first_at,
               Coupon.redeemed_at <= end)
    )

    def rate(n: int) -> float | None:
        return round(n / sent, 4) if sent else None

    return {
        "tracked": bool(per_link),
        "unique_clickers": int(unique), "clicks": int(total), "click_rate": rate(int(unique)),
        "links": [{"id": lid, "position": pos, "url": url, "label": label, "clicks": int(n), "unique_clickers": int(u), "click_rate": rate(int(u))}
                  for lid, pos, url, label, n, u in per_link],
        "after_click": {"buyers": int(buyers), "revenue": _money(revenue), "coupons_redeemed": int(redeemed or 0),
                        "conversion": round(int(buyers) / int(unique), 4) if unique else None},
    }


def clickers(session: Session, campaign_id: int, *, start: datetime, days: int, page: int, per_page: int) -> tuple[int, list[dict[str, Any]]]:
    """Who clicked, first clickers first: member, first click, clicks, links, and what they bought after it."""
    from models.ledger import Award
    from models.member import Member

    clicker = _first_clicks(campaign_id)
    end = start + timedelta(days=days)
    bought = (select(func.coalesce(func.sum(Award.amount), 0)).where(Award.member_id == clicker.c.member_id, Award.created_at > clicker.c.first_at,
                                                                     Award.created_at <= end).scalar_subquery())
    total = int(session.scalar(select(func.count()).select_from(clicker)) or 0)
    rows = session.execute(
        select(Member.member_no, Member.display_name, Member.erased_at, clicker.c.first_at, clicker.c.clicks, clicker.c.links, bought)
        .join(clicker, clicker.c.member_id == Member.id)
        .order_by(clicker.c.first_at, Member.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return total, [{"member_no": no, "display_name": None if erased else name, "first_click_at": first.isoformat(), "clicks": int(n),
                    "links": int(links), "bought_after_click": _money(spent)}
                   for no, name, erased, first, n, links, spent in rows]


def settle_pushed_batch(session: Session, campaign_id: int, batch_no: int, *, now: datetime, failed: list[int], reached: int,
                        unreachable: list[int], error: str | None) -> None:
    """Record what LINE did with a batch sent member by member, once (the batch row is locked first,
    so a second worker that sent the same batch finds it settled and changes nothing): members LINE
    refused are failed on their own, and the batch is sent unless every push of it was refused."""
    from sqlalchemy import update

    from models.campaign import CampaignBatch, CampaignRecipient, settle_batch

    status = session.scalar(select(CampaignBatch.status).where(CampaignBatch.campaign_id == campaign_id, CampaignBatch.batch_no == batch_no)
                            .with_for_update())
    if status != "pending":
        return
    everyone = bool(reached) and len(failed) == reached
    if failed and not everyone:
        session.execute(update(CampaignRecipient).where(CampaignRecipient.campaign_id == campaign_id, CampaignRecipient.member_id.in_(failed),
                                                        CampaignRecipient.status == "batched").values(status="failed"),
                        execution_options={"synchronize_session": False})
    settle_batch(session, campaign_id, batch_no, sent=not everyone, now=now, error=error, unreachable=unreachable)
