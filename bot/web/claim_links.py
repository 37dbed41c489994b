"""Receipt claim links: a QR on the receipt opens LINE with the claim message pre-filled."""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response

from bot.services import services
from bot.web.public import render_qr_png
from models.claim import format_code, normalise_code

bp = Blueprint("claims", __name__)


def basic_id() -> str:
    """The account's basic id (@xxxx), from the Get Bot Info API, cached by the gateway."""
    return services().line.basic_id()


def claim_message(code: str) -> str:
    return f"領取 {format_code(code)}"


def claim_links(code: str) -> dict[str, str]:
    url = f"https://line.me/R/oaMessage/{quote(basic_id())}/?{quote(claim_message(code))}"
    return {"line_url": url, "qr_url": f"{services().settings.public_base_url}/claims/{format_code(code)}.png"}


@bp.get("/claims/<code>.png")
def claim_qr(code: str):  # type: ignore[no-untyped-def]
    """The QR to print on the receipt; it encodes the oaMessage link."""
    url = claim_links(normalise_code(code))["line_url"]
    resp = Response(render_qr_png(url), mimetype="image/png")
    resp.headers["Cache-Control"] = "public, max-age=86400"
    return resp
