"""Member data rights at the edges: the member's own copy behind a short-lived link, and the admin's
export and erasure for a member who asks at the counter (owners: settings:manage; both audited).

    GET  /my-data/<token>                         an HTML page (zh-TW); ?format=json downloads the JSON
    GET  /api/v1/admin/members/<no>/export        the same data as JSON
    POST /api/v1/admin/members/<no>/erase         {"reason": "..."}: erase, once (a second call: erased false)
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, g, render_template_string, request

from bot.api.util import json_body
from bot.api.auth import require_scope
from bot.jobs.outbox import send_after_response
from bot.security import PAGE_CSP_TAIL
from bot.services import services
from models import admin
from models.errors import InvalidInput
from models.member import Member, get_by_member_no
from models.outbox import queued_in
from models.privacy import TAIPEI, ExportTokenError, erase_member, export_data, read_export_token

bp = Blueprint("privacy_api", __name__)
OWNER = "settings:manage"
PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; " + PAGE_CSP_TAIL
PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer", "Content-Security-Policy": PAGE_CSP}

PAGE = """<!doctype html><html lang="zh-Hant"><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>{{ title }}</title>
<style>body{font-family:sans-serif;max-width:52em;margin:1.5em auto;padding:0 1em;line-height:1.5;color:#333}
h1{color:#6F4E37;font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%;font-size:.9em}td,th{border:1px solid #e5e5e5;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#faf6f2}a.btn{display:inline-block;background:#6F4E37;color:#fff;padding:.5em 1em;border-radius:6px;text-decoration:none}</style>
<h1>{{ title }}</h1>
{% if gone %}<p id="gone">{{ gone }}</p>{% else %}
<p>{{ intro }}</p><p><a class="btn" id="download" href="?format=json" download>{{ download }}</a></p>
{% for section in sections %}<h2>{{ section.title }}</h2>
{% if not section.rows %}<p>{{ none }}</p>
{% elif section.columns %}<table><tr>{% for c in section.columns %}<th>{{ c }}</th>{% endfor %}</tr>
{% for row in section.rows %}<tr>{% for v in row %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}</table>
{% else %}<table>{% for k, v in section.rows %}<tr><th>{{ k }}</th><td>{{ v }}</td></tr>{% endfor %}</table>{% endif %}
{% endfor %}{% endif %}</html>"""


def _cell(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, list):
        return "\n".join(map(str, value))
    return str(value)


def _sections(data: dict, t) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    """The export as headed tables: a dict is label/value rows, a list of dicts a table."""
    label = lambda key: t(f"mydata_f_{key}") if t.has(f"mydata_f_{key}") else key  # noqa: E731
    parts: list[tuple[str, object]] = [("profile", data["profile"]), ("consents", data["consents"]), ("balances", data["balances"]),
                                      ("ledger", data["ledger"]), ("coupons", data["coupons"]), ("rewards", data["rewards"]),
                                      ("redemptions", data["redemptions"]),
                                      ("tier", {k: v for k, v in data["tier"].items() if k != "history"}),
                                      ("tier_history", data["tier"]["history"]), ("tags", [{"name": n} for n in data["tags"]]),
                                      ("referrals", {k: v for k, v in data["referrals"].items() if k != "friends_referred"}),
                                      ("friends_referred", data["referrals"]["friends_referred"]),
                                      ("follow_history", data["follow_history"]), ("messages", data["messages"]),
                                      ("marketing_messages", data["marketing_messages"])]
    out = []
    for key, value in parts:
        if isinstance(value, dict):
            out.append({"title": t(f"mydata_{key}"), "columns": None, "rows": [(label(k), _cell(v)) for k, v in value.items()]})
        else:
            rows = list(value)  # type: ignore[call-overload]
            columns = list(rows[0]) if rows else []
            out.append({"title": t(f"mydata_{key}"), "columns": [label(c) for c in columns],
                        "rows": [[_cell(r.get(c)) for c in columns] for r in rows]})
    return out


@bp.get("/my-data/<token>")
def my_data(token: str):  # type: ignore[no-untyped-def]
    """The member's own copy: readable in the browser LINE opens, or as a JSON file."""
    svc, now = services(), services().now()
    t = svc.texts
    member = None
    try:
        member = g.db.get(Member, read_export_token(svc.settings.secret_key, token, now=now))
    except ExportTokenError:
        pass
    if member is None or member.erased_at is not None:
        html = render_template_string(PAGE, title=t("mydata_title"), gone=t("mydata_gone"))
        return Response(html, status=404, mimetype="text/html", headers=PRIVATE)
    data = export_data(g.db, member.id, now)
    if request.args.get("format") == "json":
        body = json.dumps(data, ensure_ascii=False, indent=2)
        return Response(body, mimetype="application/json", headers={
            **PRIVATE, "Content-Disposition": f"attachment; filename=my-data-{now:%Y%m%d}.json"})
    local = now.astimezone(TAIPEI).strftime("%Y/%m/%d %H:%M")
    html = render_template_string(PAGE, title=t("mydata_title"), intro=t("mydata_intro", time=local), download=t("mydata_download"),
                                  none=t("mydata_none"), sections=_sections(data, t), gone=None)
    return Response(html, mimetype="text/html", headers=PRIVATE)


@bp.get("/api/v1/admin/members/<member_no>/export")
@require_scope(OWNER)
def admin_export(member_no: str):  # type: ignore[no-untyped-def]
    """For a member who asks at the counter; recorded in the audit log."""
    now = services().now()
    member = get_by_member_no(g.db, member_no)
    data = export_data(g.db, member.id, now)
    admin.record(g.db, actor=g.admin, action="member.export", details={"member_id": member.id, "member_no": member.member_no}, now=now)
    g.db.commit()
    return data


@bp.post("/api/v1/admin/members/<member_no>/erase")
@require_scope(OWNER)
def admin_erase(member_no: str):  # type: ignore[no-untyped-def]
    reason = json_body().get("reason")
    if not isinstance(reason, str) or not reason.strip() or len(reason.strip()) > 200:
        raise InvalidInput("A reason is required (at most 200 characters)", code="reason_required", details={"field": "reason"})
    reason = reason.strip()
    member = get_by_member_no(g.db, member_no)
    erased, done = erase_member(g.db, member.id, actor=g.admin, reason=reason, via="admin", now=services().now())
    queued = queued_in(g.db)
    g.db.commit()
    if queued:  # the member menu comes off their LINE
        send_after_response(queued)
    return {"member_no": erased.member_no, "erased_at": erased.erased_at.isoformat() if erased.erased_at else None, "erased": done}
