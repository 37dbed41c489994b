"""Automations over the admin API: list, switch on/off and edit, report."""
from __future__ import annotations

from flask import Blueprint, g, request

from bot.api.util import json_body
from bot.api.auth import require_scope
from bot.services import services
from models.errors import InvalidInput
from models.journey import ensure_journeys, get_journey, journey_json, journey_report, update_journey
from models.segment import purchase_cycle

bp = Blueprint("journey_api", __name__, url_prefix="/api/v1/admin")


def _days() -> int:
    try:
        return max(1, min(int(request.args.get("days", 14)), 365))
    except ValueError as exc:
        raise InvalidInput("days is a number", code="invalid_days") from exc


@bp.get("/journeys")
@require_scope("members:read")
def journeys():  # type: ignore[no-untyped-def]
    rows = ensure_journeys(g.db, now=services().now())
    out = [{**journey_json(j), "report": journey_report(g.db, j, days=_days())} for j in rows]
    cycle = purchase_cycle(g.db, override=services().settings.purchase_cycle_days)  # what win-back's NES stages use
    g.db.commit()
    return {"journeys": out, "purchase_cycle": cycle.json()}


@bp.put("/journeys/<kind>")
@require_scope("campaigns:manage")
def change(kind: str):  # type: ignore[no-untyped-def]
    ensure_journeys(g.db, now=services().now())
    journey = update_journey(g.db, get_journey(g.db, kind), json_body(), now=services().now())
    g.db.commit()
    return journey_json(journey)


@bp.get("/journeys/<kind>/report")
@require_scope("members:read")
def report(kind: str):  # type: ignore[no-untyped-def]
    journey = get_journey(g.db, kind)
    out = journey_report(g.db, journey, days=_days())
    g.db.commit()
    return out
