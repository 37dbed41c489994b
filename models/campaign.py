"""Campaigns: a message to a segment (or every reachable member), now or scheduled.

Sending is a resumable state machine kept in the database:
    draft → scheduled → sending → sent      (or cancelled)
Recipients are written once, in chunks in member order (one INSERT … SELECT each: holdout chosen
by a stable hash, the frequency cap applied, batches of at most 500 numbered), every batch gets its
X-Line-Retry-Key in the chunk's transaction, *before* it can be sent, and a batch is marked sent
only after LINE accepted it (its recipients' outcome is the batch's). The primary keys say that a
member is a campaign's recipient once, in one batch. A worker killed at any point resumes with the
same batches and keys and writes the rest of the audience after the last member written; LINE
answers 409 to a key it already accepted, so no member gets a batch twice.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Select, and_, case, false, func, insert, literal, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql import Subquery

from models.base import Base, BigInt, IntPK, Timestamp
from models.errors import Conflict, InvalidInput, NotFound
from models.limits import MAX_DAY, MAX_DB_INT, MIN_DAY, whole_in
from models.member import Member
from models.coupon import CouponTemplate
from models.segment import MemberStats, Segment
from models.segment_rules import compile_rule

KINDS = ("text", "image", "flex", "coupon_offer")
BATCH_SIZE = 500
CHUNK_BATCHES = 20  # the most members one chunk of recipients holds, in batches (materialize_chunk): 10,000


class Campaign(Base):
    __tablename__ = "campaign"

    id: Mapped[IntPK]
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    rule: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segment.id"))
    coupon_template_id: Mapped[int | None] = mapped_column(ForeignKey("coupon_template.id"))
    holdout_pct: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12), index=True)
    scheduled_at: Mapped[Timestamp | None]
    over_quota_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[Timestamp]
    started_at: Mapped[Timestamp | None]
    finished_at: Mapped[Timestamp | None]
    stats_computed_at: Mapped[Timestamp | None]  # when the member stats its audience was chosen on were computed
    materialized_at: Mapped[Timestamp | None]  # when the last of its recipients were written (None: more to write)


class CampaignRecipient(Base):
    __tablename__ = "campaign_recipient"
    __table_args__ = (Index("ix_campaign_recipient_batch", "campaign_id", "batch_no"),)

    # No foreign keys: rows are written only by materialize_chunk's INSERT … SELECT from the member
    # table under the campaign row's lock, and members are never deleted (erasure keeps the row);
    # checked row by row, the keys cost PostgreSQL three times the write itself (bench/campaign.py).
    campaign_id: Mapped[int] = mapped_column(BigInt, primary_key=True)
    member_id: Mapped[int] = mapped_column(BigInt, primary_key=True)
    group: Mapped[str] = mapped_column(String(8))  # target | holdout
    # batched | failed | skipped | held (sent: rows written by earlier versions). A batched
    # recipient's outcome is its batch's (recipients_with_outcome): sending a batch updates one
    # batch row instead of rewriting its 500 recipient rows.
    status: Mapped[str] = mapped_column(String(10))
    skip_reason: Mapped[str | None] = mapped_column(String(16))
    batch_no: Mapped[int | None] = mapped_column(Integer)
    sent_at: Mapped[Timestamp | None]  # set by earlier versions only: the batch's sent_at says when


class CampaignBatch(Base):
    __tablename__ = "campaign_batch"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), primary_key=True)
    batch_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    retry_key: Mapped[str] = mapped_column(String(36), unique=True)
    status: Mapped[str] = mapped_column(String(8))  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    size: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[Timestamp | None]


class MarketingSend(Base):
    """Every marketing message a member received (campaigns and journeys): the frequency cap counts these."""

    __tablename__ = "marketing_send"
    __table_args__ = (Index("ix_marketing_send_member_at", "member_id", "sent_at"),)

    id: Mapped[IntPK]
    member_id: Mapped[int] = mapped_column(BigInt)  # no foreign key, as for CampaignRecipient: a campaign batch settles 500 at once
    source: Mapped[str] = mapped_column(String(40))
    sent_at: Mapped[Timestamp]


MAX_NAME = 120  # the column's length


# Validates a campaign's message (kind, content); raises InvalidInput. The web layer passes one that builds SDK models.
CheckMessage = Callable[[str, dict[str, Any]], None]


def _bad(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_campaign", details={"field": field})


def _fields(session: Session, data: dict[str, Any], *, now: datetime, check_message: CheckMessage) -> dict[str, Any]:
    """A campaign's columns from the request, validated; ``check_message(kind, content)`` validates the message."""
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME:
        raise _bad("name", f"name is required, at most {MAX_NAME} characters")
    kind = data.get("kind")
    if kind not in KINDS:
        raise _bad("kind", f"kind must be one of {KINDS}")
    content = data.get("content")
    if not isinstance(content, dict):
        raise _bad("content", "content is an object")
    holdout = data.get("holdout_pct", 0)
    if isinstance(holdout, bool) or not isinstance(holdout, int) or not 0 <= holdout <= 50:
        raise _bad("holdout_pct", "holdout_pct is a whole number from 0 to 50")
    rule, segment_id = data.get("rule"), data.get("segment_id")
    if segment_id is not None:
        segment = session.get(Segment, segment_id) if whole_in(segment_id, 1, MAX_DB_INT) else None
        if segment is None:
            raise _bad("segment_id", "no such segment")
        rule = segment.rule
    compile_rule(session, rule, now)
    template_id = None
    if kind == "coupon_offer":
        template_id = content.get("coupon_template_id")
        if not whole_in(template_id, 1, MAX_DB_INT) or session.get(CouponTemplate, template_id) is None:
            raise _bad("content", "a coupon offer names an existing coupon_template_id")
    check_message(kind, content)
    scheduled = data.get("scheduled_at")
    scheduled_at = None
    if scheduled is not None:
        try:
            scheduled_at = datetime.fromisoformat(str(scheduled))
        except ValueError as exc:
            raise _bad("scheduled_at", "an ISO 8601 time with a zone") from exc
        if scheduled_at.tzinfo is None:
            raise _bad("scheduled_at", "scheduled_at needs a time zone (e.g. +08:00)")
        if not MIN_DAY <= scheduled_at.date() <= MAX_DAY:
            raise _bad("scheduled_at", f"scheduled_at is a time from {MIN_DAY} to {MAX_DAY}")
    return {"name": name.strip(), "kind": kind, "content": content, "rule": rule or None, "segment_id": segment_id,
            "coupon_template_id": template_id, "holdout_pct": holdout, "scheduled_at": scheduled_at}


def create_campaign(session: Session, data: dict[str, Any], *, now: datetime, check_message: CheckMessage) -> Campaign:
    """A draft; ``check_message(kind, content)`` validates the message (the web layer builds SDK models)."""
    campaign = Campaign(**_fields(session, data, now=now, check_message=check_message), status="draft", created_at=now)
    session.add(campaign)
    session.flush()
    return campaign


def update_draft(session: Session, campaign: Campaign, data: dict[str, Any], *, now: datetime, check_message: CheckMessage) -> Campaign:
    """The composer's draft rewritten with the whole request (as create_campaign takes it): reviewing a
    composition again reuses its draft instead of adding another. Only a draft can change."""
    if campaign.status != "draft":
        raise Conflict(f"The campaign is {campaign.status}", code="campaign_not_draft")
    for key, value in _fields(session, data, now=now, check_message=check_message).items():
        setattr(campaign, key, value)
    session.flush()
    return campaign


def get_campaign(session: Session, campaign_id: int, *, lock: bool = False) -> Campaign:
    campaign = session.get(Campaign, campaign_id, with_for_update=lock)
    if campaign is None:
        raise NotFound("No such campaign", code="campaign_not_found")
    return campaign


def audience(session: Session, campaign: Campaign, now: datetime) -> Select[int]:
    """Joined, reachable members the rule selects (the target before the holdout)."""
    return (
        select(Member.id)
        .outerjoin(MemberStats, MemberStats.member_id == Member.id)
        .where(Member.joined_at.is_not(None), Member.is_reachable.is_(True), Member.erased_at.is_(None),
               compile_rule(session, campaign.rule, now))
    )


def estimate(session: Session, campaign: Campaign, now: datetime) -> dict[str, int]:
    total = int(session.scalar(select(func.count()).select_from(audience(session, campaign, now).subquery())) or 0)
    held = total * campaign.holdout_pct // 100
    return {"audience": total, "holdout_estimate": held, "messages_estimate": total - held}


def schedule(session: Session, campaign: Campaign, *, now: datetime) -> Campaign:
    if campaign.status not in ("draft", "scheduled"):
        raise Conflict(f"The campaign is {campaign.status}", code="campaign_not_draft")
    campaign.status = "scheduled"
    if campaign.scheduled_at is None:
        campaign.scheduled_at = now
    session.flush()
    return campaign


def claim_for_sending(session: Session, campaign_id: int, *, now: datetime) -> bool:
    """scheduled → sending, by one worker only; a campaign already sending may be resumed."""
    moved = session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.status == "scheduled", Campaign.scheduled_at <= now)
        .values(status="sending", started_at=func.coalesce(Campaign.started_at, now))
    ).rowcount
    return bool(moved) or session.scalar(select(Campaign.status).where(Campaign.id == campaign_id)) == "sending"


def due_campaigns(session: Session, now: datetime) -> list[int]:
    return list(session.scalars(select(Campaign.id).where(
        (Campaign.status == "sending") | and_(Campaign.status == "scheduled", Campaign.scheduled_at <= now)
    ).order_by(Campaign.id)))


def _capped(now: datetime, per_week: int):
    """Whether the member already got ``per_week`` marketing messages in the last 7 days: a count
    per member on the (member_id, sent_at) index, so a chunk of the audience costs its own size."""
    sends = (select(func.count()).select_from(MarketingSend)
             .where(MarketingSend.member_id == Member.id, MarketingSend.sent_at > now - timedelta(days=7)).scalar_subquery())
    return sends >= per_week


def materialized(session: Session, campaign_id: int) -> bool:
    """Whether the campaign's recipients started being written (its audience is chosen once)."""
    return session.scalar(select(CampaignRecipient.member_id).where(CampaignRecipient.campaign_id == campaign_id).limit(1)) is not None


def materialize_chunk(session: Session, campaign: Campaign, *, now: datetime, members: int, per_week: int | None = None) -> int:
    """Write the next ``members`` of the audience (in member order, after the last one written),
    in one INSERT … SELECT, each with its fate: held out (a stable pseudo-random share of the
    target), skipped over the frequency cap (``per_week``; held-out members are not counted as
    capped), or batched, numbered on from the batched recipients before them into batches of
    BATCH_SIZE; then give every batch that is full (or the last one, once the audience is
    exhausted) its retry key. A batch without its key is not sent yet: the next chunk fills it.

    The caller commits: a committed chunk's batches can be sent while the next is written, and a
    resumed campaign carries on after the last committed member with the same batches and keys.
    The audience is the one at the campaign's start (``started_at``). When it is exhausted,
    ``materialized_at`` is set (``now``). Returns the batches sealed. The caller holds the
    campaign row's lock (``get_campaign(lock=True)``): chunks are written one at a time."""
    if campaign.materialized_at is not None:
        return 0
    at = campaign.started_at or now
    mine = CampaignRecipient.campaign_id == campaign.id
    after, top = session.execute(select(func.max(CampaignRecipient.member_id), func.max(CampaignRecipient.batch_no)).where(mine)).one()
    done = 0 if top is None else (top - 1) * BATCH_SIZE + (session.scalar(
        select(func.count()).select_from(CampaignRecipient).where(mine, CampaignRecipient.batch_no == top)) or 0)  # batched so far
    sealed = session.scalar(select(func.max(CampaignBatch.batch_no)).where(CampaignBatch.campaign_id == campaign.id)) or 0
    # The chunk's members with their cap computed once (a subquery with LIMIT is not merged into the one that uses it)
    capped = false() if per_week is None else _capped(at, per_week)
    ids = audience(session, campaign, at).add_columns(capped.label("capped")).where(Member.id > (after or 0)) \
        .order_by(Member.id).limit(members).subquery("chunk")
    held = (ids.c.id * 2654435761 + campaign.id * 40503) % 100 < campaign.holdout_pct
    fate = case((held, literal("held")), (ids.c.capped, literal("skipped")), else_=literal("batched"))
    order = func.row_number().over(partition_by=fate, order_by=ids.c.id)
    rows = select(
        literal(campaign.id), ids.c.id,
        case((held, literal("holdout")), else_=literal("target")),
        fate,
        case((fate == "skipped", literal("capped"))),
        case((fate == "batched", (order - 1 + done).self_group().op("/", return_type=Integer)(BATCH_SIZE) + 1)),  # integer division on both databases
    )
    cols = ["campaign_id", "member_id", "group", "status", "skip_reason", "batch_no"]
    session.execute(insert(CampaignRecipient).from_select(cols, rows))
    written = session.scalar(select(func.count()).select_from(CampaignRecipient).where(mine, CampaignRecipient.member_id > (after or 0)))
    exhausted = (written or 0) < members  # (the driver's rowcount of an INSERT … SELECT is not to be relied on)
    sizes = session.execute(
        select(CampaignRecipient.batch_no, func.count()).where(mine, CampaignRecipient.batch_no > sealed)
        .group_by(CampaignRecipient.batch_no).order_by(CampaignRecipient.batch_no)
    ).all()
    ready = [(no, size) for no, size in sizes if size == BATCH_SIZE or exhausted]
    if ready:
        session.execute(insert(CampaignBatch), [
            {"campaign_id": campaign.id, "batch_no": no, "retry_key": str(uuid.uuid4()), "status": "pending", "attempts": 0, "size": size}
            for no, size in ready
        ])
    if exhausted:
        campaign.materialized_at = now
    session.flush()
    return len(ready)


def materialize(session: Session, campaign: Campaign, now: datetime, *, per_week: int | None = None) -> int:
    """Write all the recipients at once, in the caller's transaction (materialize_chunk until the
    audience is exhausted); the sender writes them chunk by chunk instead. Returns the batches made."""
    made = 0
    while campaign.materialized_at is None:
        made += materialize_chunk(session, campaign, now=now, members=CHUNK_BATCHES * BATCH_SIZE, per_week=per_week)
    return made


def pending_batches(session: Session, campaign_id: int, *, after: int = 0, limit: int | None = None) -> list[CampaignBatch]:
    """Batches still to send in batch order; ``after`` a batch number and ``limit`` page through them."""
    return list(session.scalars(select(CampaignBatch).where(
        CampaignBatch.campaign_id == campaign_id, CampaignBatch.status == "pending", CampaignBatch.batch_no > after,
    ).order_by(CampaignBatch.batch_no).limit(limit)))


def batch_users(session: Session, campaign_id: int, batch_nos: list[int]) -> dict[int, list[tuple[int, str, bool]]]:
    """(member id, LINE user id, reachable) of each batch's recipients still to send, in one query."""
    users: dict[int, list[tuple[int, str, bool]]] = {no: [] for no in batch_nos}
    for no, mid, uid, reachable in session.execute(
        select(CampaignRecipient.batch_no, Member.id, Member.line_user_id, Member.is_reachable)
        .join(CampaignRecipient, CampaignRecipient.member_id == Member.id)
        .where(CampaignRecipient.campaign_id == campaign_id, CampaignRecipient.batch_no.in_(batch_nos), CampaignRecipient.status == "batched")
        .order_by(CampaignRecipient.batch_no, Member.id)
    ):
        users[no].append((mid, uid, reachable))
    return users


def settle_batch(session: Session, campaign_id: int, batch_no: int, *, sent: bool, now: datetime, error: str | None, unreachable: list[int]) -> None:
    """Record what LINE did with a batch, once: the conditional UPDATE lets one worker settle it."""
    values: dict[str, Any] = {"attempts": CampaignBatch.attempts + 1}
    values.update({"status": "sent", "sent_at": now} if sent else {"status": "failed", "last_error": (error or "")[:200]})
    quick = {"synchronize_session": False}  # nothing of these tables is loaded in the session
    settled = session.execute(
        update(CampaignBatch)
        .where(CampaignBatch.campaign_id == campaign_id, CampaignBatch.batch_no == batch_no, CampaignBatch.status == "pending")
        .values(**values), execution_options=quick
    ).rowcount
    if not settled:
        return
    if unreachable:
        session.execute(update(CampaignRecipient).where(CampaignRecipient.campaign_id == campaign_id, CampaignRecipient.member_id.in_(unreachable))
                        .values(status="skipped", skip_reason="unreachable"))
    where = and_(CampaignRecipient.campaign_id == campaign_id, CampaignRecipient.batch_no == batch_no, CampaignRecipient.status == "batched")
    if sent:  # the batch row now says its recipients were sent; the frequency cap counts them from here
        session.execute(insert(MarketingSend).from_select(
            ["member_id", "source", "sent_at"],
            select(CampaignRecipient.member_id, literal(f"campaign:{campaign_id}"), literal(now, type_=MarketingSend.sent_at.type)).where(where),
        ))
    else:
        session.execute(update(CampaignRecipient).where(where).values(status="failed"), execution_options=quick)


def recipients_with_outcome(campaign_id: int) -> Subquery:
    """A campaign's recipients with their outcome as ``status``: a batched recipient was sent
    (or failed) when its batch was; the others carry their own (held, skipped, failed, sent)."""
    status = case(
        (and_(CampaignRecipient.status == "batched", CampaignBatch.status == "sent"), literal("sent")),
        (and_(CampaignRecipient.status == "batched", CampaignBatch.status == "failed"), literal("failed")),
        else_=CampaignRecipient.status,
    )
    return (
        select(CampaignRecipient.member_id, CampaignRecipient.group, status.label("status"), CampaignRecipient.skip_reason)
        .outerjoin(CampaignBatch, and_(CampaignBatch.campaign_id == CampaignRecipient.campaign_id, CampaignBatch.batch_no == CampaignRecipient.batch_no))
        .where(CampaignRecipient.campaign_id == campaign_id)
        .subquery("recipient")
    )


def finish(session: Session, campaign_id: int, *, now: datetime) -> None:
    session.execute(update(Campaign).where(Campaign.id == campaign_id, Campaign.status == "sending").values(status="sent", finished_at=now))
