"""Small public routes: health, member card QR images, the terms page."""
from __future__ import annotations

from functools import lru_cache
from io import BytesIO

import qrcode
from flask import Blueprint, Response, render_template_string
from sqlalchemy import text

from bot.errors import error_response
from bot.security import PAGE_CSP_TAIL
from bot.services import services
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
<title>{{ brand }} 會員條款與隱私權政策</title>
<body style="font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em;line-height:1.6">
<h1>{{ brand }} 會員條款與隱私權政策</h1><p>版本 {{ version }}</p>
<p>我們蒐集您的 LINE 顯示名稱、生日、手機號碼與性別，僅用於會員識別、集點、生日禮與會員優惠通知。
您可以隨時封鎖官方帳號停止接收訊息，或聯絡門市刪除會員資料。</p></body></html>"""


TERMS_CSP = "default-src 'none'; style-src 'unsafe-inline'; " + PAGE_CSP_TAIL  # text and its one style attribute


@bp.get("/terms")
def terms():  # type: ignore[no-untyped-def]
    s = services().settings
    html = render_template_string(TERMS, brand=s.brand_name, version=s.terms_version)
    return Response(html, mimetype="text/html", headers={"Content-Security-Policy": TERMS_CSP})
