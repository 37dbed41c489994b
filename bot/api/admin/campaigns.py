"""Campaigns over the admin API: compose, estimate against the quota, send or schedule, report."""
from __future__ import annotations

import io

from flask import Blueprint, Response, g, request
from sqlalchemy import select

from bot.api.util import adhoc_segment_query, json_body
from bot.api.auth import require_scope
from bot.api.csvexport import csv_writer
from bot.services import services
from bot.jobs.worker import start_campaign
from handlers.offers import campaign_messages
from models.campaign import Campaign, create_campaign, estimate, get_campaign, schedule, update_draft
from models.campaign_link import clickers
from models.campaign_report import funnel, report
from models.errors import Conflict, InvalidInput

bp = Blueprint("campaign_api", __name__, url_prefix="/api/v1/admin")
MANAGE, READ = "campaigns:manage", "members:read"


def check_message(kind: str, content: dict) -> None:  # type: ignore[type-arg]
    """The SDK's own models decide whether LINE would accept the message."""
    try:
        campaign_messages(kind, content, campaign_id=0, texts=services().texts)
    except (KeyError, ValueError, TypeError) as exc:
        raise InvalidInput(f"The message is not valid: {exc}"[:300], code="invalid_campaign", details={"field": "content"}) from exc


def campaign_json(c: Campaign) -> dict:  # type: ignore[type-arg]
    return {
        "id": c.id, "name": c.name, "kind": c.kind, "content": c.content, "rule": c.rule, "segment_id": c.segment_id,
        "holdout_pct": c.holdout_pct, "status": c.status, "scheduled_at": c.scheduled_at.isoformat() if c.scheduled_at else None,
        "created_at": c.created_at.isoformat(), "started_at": c.started_at.isoformat() if c.started_at else None,
        "finished_at": c.finished_at.isoformat() if c.finished_at else None,
    }


def quota_estimate(campaign: Campaign) -> dict:  # type: ignore[type-arg]
    svc = services()
    with adhoc_segment_query():
        numbers = estimate(g.db, campaign, svc.now())
    limit, used = svc.line.quota()
    remaining = None if limit is None else max(0, limit - used)
    over = remaining is not None and numbers["messages_estimate"] > remaining
    return {**numbers, "quota": {"limit": limit, "used": used, "remaining": remaining}, "over_quota": over}


@bp.post("/campaigns")
@require_scope(MANAGE)
def create():  # type: ignore[no-untyped-def]
    campaign = create_campaign(g.db, json_body(), now=services().now(), check_message=check_message)
    g.db.commit()
    with adhoc_segment_query():
        numbers = estimate(g.db, campaign, services().now())
    return {**campaign_json(campaign), "estimate": numbers}, 201


@bp.get("/campaigns")
@require_scope(READ)
def index():  # type: ignore[no-untyped-def]
    return {"campaigns": [campaign_json(c) for c in g.db.scalars(select(Campaign).order_by(Campaign.id.desc()).limit(200))]}


@bp.put("/campaigns/<int:campaign_id>")
@require_scope(MANAGE)
def update(campaign_id: int):  # type: ignore[no-untyped-def]
    """The same composition reviewed again: its draft is rewritten, not joined by another."""
    campaign = update_draft(g.db, get_campaign(g.db, campaign_id, lock=True), json_body(), now=services().now(), check_message=check_message)
    g.db.commit()
    with adhoc_segment_query():
        numbers = estimate(g.db, campaign, services().now())
    return {**campaign_json(campaign), "estimate": numbers}


@bp.get("/campaigns/<int:campaign_id>")
@require_scope(READ)
def show(campaign_id: int):  # type: ignore[no-untyped-def]
    campaign = get_campaign(g.db, campaign_id)
    return {**campaign_json(campaign), "report": report(g.db, campaign)}


@bp.get("/campaigns/<int:campaign_id>/estimate")
@require_scope(READ)
def estimate_route(campaign_id: int):  # type: ignore[no-untyped-def]
    return quota_estimate(get_campaign(g.db, campaign_id))


@bp.post("/campaigns/<int:campaign_id>/send")
@require_scope(MANAGE)
def send(campaign_id: int):  # type: ignore[no-untyped-def]
    """Send now (or at scheduled_at). Over the remaining monthly quota it needs confirm_over_quota."""
    body, svc = json_body(), services()
    campaign = get_campaign(g.db, campaign_id, lock=True)
    numbers = quota_estimate(campaign)
    if numbers["over_quota"] and body.get("confirm_over_quota") is not True:
        raise Conflict("This campaign needs more messages than the month has left; confirm or narrow the target",
                       code="over_quota", details=numbers)
    campaign.over_quota_confirmed = bool(numbers["over_quota"])
    schedule(g.db, campaign, now=svc.now())
    due = campaign.scheduled_at <= svc.now()
    g.db.commit()
    if due:
        start_campaign(svc, campaign.id)
    return {**campaign_json(campaign), "estimate": numbers}, 202


@bp.post("/campaigns/<int:campaign_id>/cancel")
@require_scope(MANAGE)
def cancel(campaign_id: int):  # type: ignore[no-untyped-def]
    campaign = get_campaign(g.db, campaign_id, lock=True)
    if campaign.status not in ("draft", "scheduled"):
        raise Conflict(f"A {campaign.status} campaign cannot be cancelled", code="campaign_not_cancellable")
    campaign.status = "cancelled"
    g.db.commit()
    return campaign_json(campaign)


def _days() -> int:
    try:
        days = int(request.args.get("days", 14))
    except ValueError as exc:
        raise InvalidInput("days is a number", code="invalid_days") from exc
    return max(1, min(days, 365))


@bp.get("/campaigns/<int:campaign_id>/report")
@require_scope(READ)
def report_route(campaign_id: int):  # type: ignore[no-untyped-def]
    return report(g.db, get_campaign(g.db, campaign_id), days=_days())


@bp.get("/campaigns/<int:campaign_id>/report.csv")
@require_scope(READ)
def report_csv(campaign_id: int):  # type: ignore[no-untyped-def]
    """The funnel, target against holdout, for a spreadsheet."""
    got = report(g.db, get_campaign(g.db, campaign_id), days=_days())
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(["step", "group", "members", "share_of_sent", "note"])
    for step, group, members, note in funnel(got):
        share = "" if members is None or not got["sent"] or group != "target" else f"{members / got['sent']:.4f}"
        writer.writerow([step, group, "" if members is None else members, share, note])
    resp = Response("\ufeff" + out.getvalue(), mimetype="text/csv; charset=utf-8")  # BOM: Excel reads UTF-8
    resp.headers["Content-Disposition"] = f"attachment; filename=campaign-{campaign_id}-funnel.csv"
    return resp


@bp.get("/campaigns/<int:campaign_id>/clicks")
@require_scope(READ)
def clicks_route(campaign_id: int):  # type: ignore[no-untyped-def]
    """Who clicked the campaign's links (the bot's redirect), first clickers first, with what they bought after."""
    campaign = get_campaign(g.db, campaign_id)
    try:
        page, per = int(request.args.get("page", 1)), int(request.args.get("per_page", 50))
    except ValueError as exc:
        raise InvalidInput("page and per_page are numbers", code="invalid_page") from exc
    if not (1 <= page <= 10_000 and 1 <= per <= 500):
        raise InvalidInput("page 1 to 10,000, per_page 1 to 500", code="invalid_page")
    total, rows = clickers(g.db, campaign_id, start=campaign.started_at or campaign.created_at, days=_days(), page=page, per_page=per)
    return {"total": total, "page": page, "per_page": per, "clickers": rows}
