"""The console's 設定 › 匯入會員 (static/admin/settings-import.js): upload a member list as the
request body (the CSV's bytes as they are, so a Big5 file arrives undamaged). ``dry_run=1`` answers
the report at once and writes nothing; otherwise the import is recorded and runs in the background
(bot/jobs/worker.py), and the page polls ``GET …/member-imports/<id>`` for its counts until it is done."""
from __future__ import annotations

from flask import Blueprint, g, request

from bot.api.auth import require_scope
from bot.jobs.member_import import check_file, create_job, pick_store
from bot.services import services
from models.errors import InvalidInput, NotFound
from models.member_import import MAX_REPORTED_ERRORS, MemberImport, job_json

bp = Blueprint("member_import_api", __name__, url_prefix="/api/v1/admin")


@bp.post("/member-imports")
@require_scope("settings:manage")
def upload():  # type: ignore[no-untyped-def]
    svc, data = services(), request.get_data(cache=True)
    if not data.strip():
        raise InvalidInput("Send the CSV file as the request body", code="import_no_header")
    store_code, source = request.args.get("store") or None, (request.args.get("filename") or "members.csv")[:200]
    pick_store(g.db, store_code)  # refused before anything is read or recorded
    plan = check_file(svc, data, g.db)
    if request.args.get("dry_run") in ("1", "true"):
        g.db.commit()  # the audit log's row
        return {"dry_run": True, **plan.report(limit=MAX_REPORTED_ERRORS)}
    g.db.commit()
    job_id = create_job(svc, data, source=source, store_code=store_code, created_by=g.admin)
    from bot.jobs.worker import start_member_import

    start_member_import(svc, job_id)
    with svc.db.sessions() as session:
        return {"import": job_json(session.get(MemberImport, job_id))}, 202  # type: ignore[arg-type]


@bp.get("/member-imports/<int:import_id>")
@require_scope("settings:manage")
def show(import_id: int):  # type: ignore[no-untyped-def]
    job = g.db.get(MemberImport, import_id)
    if job is None:
        raise NotFound("No such import", code="import_not_found")
    return {"import": job_json(job)}
