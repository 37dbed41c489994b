"""Small public routes: health, member card QR images, the terms page."""
from __future__ import annotations

from functools import lru_cache
from io import BytesIO

import qrcode
from flask import Blueprint, Response, render_template_string, request
from sqlalchemy import text

from bot.errors import error_response
from bot.security import PAGE_CSP_TAIL
from bot.services import services
from bot.web.terms import source, to_html
from models.card import CardTokenError, read_card_token, token_expires_in
from models.coupon import CouponError, read_coupon_token

bp = Blueprint("web", __name__)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    try:
        with services().db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - health reports, it does not raise
        return {"status": "degraded", "app": "up", "database": "down"}, 503
    return {"status": "ok", "app": "up", "database": "up"}


@lru_cache(maxsize=512)
def render_qr_png(data: str) -> bytes:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=2)
    qr.add_data(data)
    qr.make(fit=True)
    out = BytesIO()
    qr.make_image(fill_color="black", back_color="white").save(out, format="PNG")
    return out.getvalue()


@bp.get("/qr/<token>.png")
def member_qr(token: str):  # type: ignore[no-untyped-def]
    """The QR for a card token; cacheable exactly as long as the token lives."""
    svc = services()
    ttl, now = svc.settings.card_token_ttl_seconds, svc.now()
    try:
        read_card_token(svc.settings.secret_key, token, now=now, max_age=ttl)
    except CardTokenError as exc:
        return error_response(404, exc.code, exc.message)
    left = token_expires_in(svc.settings.secret_key, token, now=now, max_age=ttl)
    resp = Response(render_qr_png(token), mimetype="image/png")
    resp.headers["Cache-Control"] = f"public, max-age={left}, immutable"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


@bp.get("/qr/coupon/<token>.png")
def coupon_qr(token: str):  # type: ignore[no-untyped-def]
    """A coupon's QR; it holds the signed coupon code, so it may be cached for a day."""
    svc = services()
    try:
        read_coupon_token(svc.settings.secret_key, token)
    except CouponError as exc:
        return error_response(404, exc.code, exc.message)
    resp = Response(render_qr_png(token), mimetype="image/png")
    resp.headers["Cache-Control"] = "private, max-age=86400"
    return resp


TERMS = """<!doctype html><html lang="zh-Hant"><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{ title }}</title>
<body style="font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em;line-height:1.7;color:#333">
<p style="color:#777">版本 {{ version }}{% if older %}（舊版，現行版本為 <a href="/terms">{{ current }}</a>）{% endif %}</p>
{{ body|safe }}</body></html>"""


TERMS_CSP = "default-src 'none'; style-src 'unsafe-inline'; " + PAGE_CSP_TAIL  # text and its one style attribute


@bp.get("/terms")
def terms():  # type: ignore[no-untyped-def]
    """The current terms, or ``?version=`` one a member consented to earlier (bot/web/terms.py)."""
    s = services().settings
    asked = request.args.get("version") or None
    text = source(s.terms_dir, s.terms_version, asked)
    if text is None:
        return error_response(404, "terms_version_unknown", "No terms were published under this version")
    version = asked or s.terms_version
    title, body = to_html(text, brand=s.brand_name, version=version)
    html = render_template_string(TERMS, title=title, body=body, version=version, current=s.terms_version, older=version != s.terms_version)
    return Response(html, mimetype="text/html", headers={"Content-Security-Policy": TERMS_CSP})
