"""Marketers' admin API: members (list, sort, export), tags, segments (RFM, NES, rules), tokens and the audit log."""
from __future__ import annotations

import io

from flask import Blueprint, Response, g, request
from sqlalchemy import func, select

from bot.api.util import adhoc_segment_query, json_body, parse_day, parse_str
from bot.api.auth import require_scope
from bot.api.csvexport import csv_writer
from bot.jobs.segments import recompute_segments
from bot.api.serialize import entry_json, member_summary
from bot.services import services
from models import admin
from models.coupon import Coupon, CouponTemplate, coupon_json
from models.errors import InvalidInput, NotFound
from models.ledger import Award, recent_entries
from models.member import Member, get_by_member_no
from models.member_list import DEFAULT_SORT, MemberListRow, member_list, rows
from models.outbox import OutboxMessage
from models.segment import Segment, nes_funnel, rfm_grid, stats_of
from models.segment_setting import get_setting, setting_json, update_setting
from models.segment_rules import members_query, preview
from models.store import Store
from models.tag import add_tag, create_rule_tag, list_tags, refresh_rule_tags, remove_tag, tags_of

bp = Blueprint("members_api", __name__, url_prefix="/api/v1/admin")
READ, CAMPAIGNS, SETTINGS = "members:read", "campaigns:manage", "settings:manage"
MAX_PAGE = 100_000


def member_row(m: Member) -> dict:  # type: ignore[type-arg]
    return {"member_no": m.member_no, "name": m.display_name, "phone": m.phone, "gender": m.gender,
            "joined_at": m.joined_at.isoformat() if m.joined_at else None, "reachable": m.is_reachable}


def _page() -> tuple[int, int]:
    try:
        page, per = int(request.args.get("page", 1)), int(request.args.get("per_page", 50))
    except ValueError as exc:
        raise InvalidInput("page and per_page are numbers", code="invalid_page") from exc
    if not 1 <= page <= MAX_PAGE or not 1 <= per <= 500:
        raise InvalidInput(f"page 1 to {MAX_PAGE:,}, per_page 1 to 500", code="invalid_page")
    return page, per


def list_row(r: MemberListRow) -> dict:  # type: ignore[type-arg]
    return {**member_row(r.member), "points": r.points, "stamps": r.stamps, "tier": r.tier.name if r.tier else None,
            "tier_code": r.tier.code if r.tier else None, "last_visit_at": r.last_visit_at.isoformat() if r.last_visit_at else None}


def _listing():  # type: ignore[no-untyped-def]
    """The members list's query from ?q=&rule=&sort= (the list and its CSV take the same)."""
    rule = None
    if request.args.get("rule"):
        from flask import current_app

        try:  # as strictly as a body (bot/api/util.py: no NaN, no numbers past 64 bits, no NUL, bounded depth)
            rule = current_app.json.loads(request.args["rule"])
        except ValueError as exc:
            raise InvalidInput(f"rule is JSON: {exc}"[:300], code="invalid_rule") from exc
    return member_list(g.db, q=request.args.get("q") or "", rule=rule, sort=request.args.get("sort") or DEFAULT_SORT, now=services().now())


@bp.get("/members")
@require_scope(READ)
def members():  # type: ignore[no-untyped-def]
    """Search (name, number, phone) and list with pagination, balances, tier and last visit; ``rule`` filters
    by a segment rule (JSON), ``sort`` orders (joined_at, name, points, stamps, tier, last_visit_at; -key: descending)."""
    page, per = _page()
    with adhoc_segment_query():
        query = _listing()
        total = g.db.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        found = rows(g.db, g.db.execute(query.offset((page - 1) * per).limit(per)))
    return {"total": total, "page": page, "per_page": per, "members": [list_row(r) for r in found]}


@bp.get("/members.csv")
@require_scope(READ)
def export_members():  # type: ignore[no-untyped-def]
    """The members list as it is filtered and sorted, every page, as CSV."""
    out = io.StringIO()
    writer = csv_writer(out)  # defuses formulas: a display name is anyone's text
    writer.writerow(["member_no", "name", "phone", "gender", "tier", "points", "stamps", "last_visit_at", "joined_at", "reachable"])
    with adhoc_segment_query():
        for r in rows(g.db, g.db.execute(_listing().execution_options(yield_per=1000))):
            m = r.member
            writer.writerow([m.member_no, m.display_name or "", m.phone or "", m.gender or "", r.tier.name if r.tier else "", r.points, r.stamps,
                             r.last_visit_at.isoformat() if r.last_visit_at else "", m.joined_at.isoformat() if m.joined_at else "", m.is_reachable])
    resp = Response("\ufeff" + out.getvalue(), mimetype="text/csv; charset=utf-8")  # BOM: Excel reads UTF-8
    resp.headers["Content-Disposition"] = "attachment; filename=members.csv"
    return resp


def ledger_rows(session, entries: list) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    """Ledger entries with their store's name and, for an award, the purchase's amount (NT$)."""
    stores = {s.id: s.name for s in session.scalars(select(Store).where(Store.id.in_({e.store_id for e in entries if e.store_id})))}
    spends = dict(session.execute(select(Award.id, Award.amount).where(Award.id.in_({e.award_id for e in entries if e.award_id}))).all())
    return [{**entry_json(e), "store_name": stores.get(e.store_id),
             "purchase_amount": None if spends.get(e.award_id) is None else format(spends[e.award_id].normalize(), "f")} for e in entries]


@bp.get("/members/<member_no>")
@require_scope(READ)
def member_detail(member_no: str):  # type: ignore[no-untyped-def]
    session, now = g.db, services().now()
    member = get_by_member_no(session, member_no)
    stats = stats_of(session, member.id)
    coupons = session.execute(select(Coupon, CouponTemplate).join(CouponTemplate, CouponTemplate.id == Coupon.template_id).where(Coupon.member_id == member.id).order_by(Coupon.id.desc()))
    messages = session.scalars(select(OutboxMessage).where(OutboxMessage.member_id == member.id).order_by(OutboxMessage.id.desc()).limit(50))
    return {
        "profile": {**member_row(member), "birthday_on": member.birthday_on.isoformat() if member.birthday_on else None,
                    "terms_version": member.terms_version, "tier_until": member.tier_until.isoformat() if member.tier_until else None,
                    "erased_at": member.erased_at.isoformat() if member.erased_at else None},
        "summary": member_summary(session, member, now),
        "ledger": ledger_rows(session, recent_entries(session, member.id, limit=50)),
        "coupons": [coupon_json(c, t) for c, t in coupons],
        "tags": tags_of(session, member.id),
        "segments": None if stats is None else {
            "rfm": {"r": stats.r_score, "f": stats.f_score, "m": stats.m_score, "class": stats.rfm_class},
            "nes": stats.nes, "visits": stats.visits, "spend": format(stats.spend.normalize(), "f"),
            "last_visit_at": stats.last_visit_at.isoformat(), "computed_at": stats.computed_at.isoformat()},
        "messages": [{"purpose": m.purpose, "status": m.status, "created_at": m.created_at.isoformat(),
                      "sent_at": m.sent_at.isoformat() if m.sent_at else None} for m in messages],
    }


@bp.post("/members/<member_no>/tags")
@require_scope(CAMPAIGNS)
def tag_member(member_no: str):  # type: ignore[no-untyped-def]
    member = get_by_member_no(g.db, member_no)
    add_tag(g.db, member.id, parse_str(json_body(), "tag", max_len=60) or "", now=services().now())
    tags = tags_of(g.db, member.id)
    g.db.commit()
    return {"tags": tags}


@bp.delete("/members/<member_no>/tags/<tag>")
@require_scope(CAMPAIGNS)
def untag_member(member_no: str, tag: str):  # type: ignore[no-untyped-def]
    member = get_by_member_no(g.db, member_no)
    remove_tag(g.db, member.id, tag)
    tags = tags_of(g.db, member.id)
    g.db.commit()
    return {"tags": tags}


@bp.get("/tags")
@require_scope(READ)
def tags():  # type: ignore[no-untyped-def]
    return {"tags": [{"name": t.name, "kind": t.kind, "rule": t.rule} for t in list_tags(g.db)]}


@bp.post("/tags")
@require_scope(CAMPAIGNS)
def add_rule_tag():  # type: ignore[no-untyped-def]
    body = json_body()
    if not isinstance(body.get("rule"), dict):
        raise InvalidInput("rule is a segment rule object", code="invalid_rule", details={"path": "/"})
    with adhoc_segment_query():  # tags its members now
        tag = create_rule_tag(g.db, parse_str(body, "name", max_len=60) or "", body["rule"], now=services().now())
    g.db.commit()
    return {"name": tag.name, "kind": tag.kind, "rule": tag.rule}, 201


@bp.post("/segments/preview")
@require_scope(READ)
def segment_preview():  # type: ignore[no-untyped-def]
    with adhoc_segment_query():
        total, sample = preview(g.db, json_body().get("rule"), services().now())
    return {"count": total, "sample": [member_row(m) for m in sample]}


@bp.get("/segments")
@require_scope(READ)
def segments():  # type: ignore[no-untyped-def]
    return {"segments": [{"id": s.id, "name": s.name, "rule": s.rule} for s in g.db.scalars(select(Segment).order_by(Segment.name))]}


@bp.post("/segments")
@require_scope(CAMPAIGNS)
def save_segment():  # type: ignore[no-untyped-def]
    body, now = json_body(), services().now()
    name = parse_str(body, "name", max_len=120) or ""
    rule = body.get("rule")
    with adhoc_segment_query():
        total, _ = preview(g.db, rule, now)  # validates the rule
    if g.db.scalar(select(Segment.id).where(Segment.name == name)):
        raise InvalidInput("A segment with this name exists", code="segment_exists", details={"field": "name"})
    segment = Segment(name=name, rule=rule or {}, created_at=now, updated_at=now)
    g.db.add(segment)
    g.db.commit()
    return {"id": segment.id, "name": segment.name, "rule": segment.rule, "count": total}, 201


def get_segment(segment_id: int) -> Segment:
    segment = g.db.get(Segment, segment_id)
    if segment is None:
        raise NotFound("No such segment", code="segment_not_found")
    return segment


@bp.get("/segments/<int:segment_id>/members.csv")
@require_scope(READ)
def export_segment(segment_id: int):  # type: ignore[no-untyped-def]
    segment = get_segment(segment_id)
    out = io.StringIO()
    writer = csv_writer(out)  # defuses formulas: a display name is anyone's text
    writer.writerow(["member_no", "name", "phone", "gender", "birthday_on", "joined_at", "reachable"])
    with adhoc_segment_query():
        query = members_query(g.db, segment.rule, services().now()).order_by(Member.id)
        for m in g.db.scalars(query.execution_options(yield_per=1000)):
            writer.writerow([m.member_no, m.display_name or "", m.phone or "", m.gender or "",
                             m.birthday_on.isoformat() if m.birthday_on else "", m.joined_at.isoformat() if m.joined_at else "", m.is_reachable])
    resp = Response("\ufeff" + out.getvalue(), mimetype="text/csv; charset=utf-8")  # BOM: Excel reads UTF-8
    resp.headers["Content-Disposition"] = f"attachment; filename=segment-{segment.id}.csv"
    return resp


@bp.post("/segments/recompute")
@require_scope(CAMPAIGNS)
def recompute():  # type: ignore[no-untyped-def]
    done = recompute_segments(services(), g.db)
    g.db.commit()
    return {**done, "rfm": rfm_grid(g.db), "nes": nes_funnel(g.db)}


@bp.get("/segments/overview")
@require_scope(READ)
def overview():  # type: ignore[no-untyped-def]
    setting = get_setting(g.db)
    return {"rfm": rfm_grid(g.db), "nes": nes_funnel(g.db), "computed_at": setting.computed_at.isoformat() if setting.computed_at else None}


@bp.get("/segments/settings")
@require_scope(READ)
def segment_settings():  # type: ignore[no-untyped-def]
    """How "high" is decided per RFM dimension, the action hint per class, and the last recompute."""
    return {**setting_json(get_setting(g.db)), "window_days": services().settings.rfm_window_days}


@bp.put("/segments/settings")
@require_scope(CAMPAIGNS)
def update_segment_settings():  # type: ignore[no-untyped-def]
    row = update_setting(g.db, json_body(), now=services().now())
    out = {**setting_json(row), "window_days": services().settings.rfm_window_days}
    g.db.commit()
    return out


@bp.get("/dashboard")
@require_scope(READ)
def dashboard_route():  # type: ignore[no-untyped-def]
    """Members, visitors, regulars, returning and block rates, distributions, RFM, NES, trends, top stores."""
    from datetime import timedelta

    from models.dashboard import TAIPEI, dashboard

    today = services().now().astimezone(TAIPEI).date()
    end = parse_day("to") or today
    start = parse_day("from") or end - timedelta(days=29)
    if start > end or (end - start).days > 366:
        raise InvalidInput("from must be before to, at most a year apart", code="invalid_period")
    return dashboard(g.db, start=start, end=end, now=services().now())


@bp.get("/audit")
@require_scope(SETTINGS)
def audit():  # type: ignore[no-untyped-def]
    return {"entries": [{"actor": a.actor, "action": a.action, "details": a.details, "at": a.at.isoformat()} for a in admin.recent(g.db)]}
