"""The chat simulator's backend (dev tools only): act as a LINE user against this bot.

The page posts what the person typed or tapped; this builds a spec-shaped event,
signs it with the channel secret and sends it through the real /callback. The
bot's replies go to the fake LINE server, which the page reads back here.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

from pathlib import Path

from flask import Blueprint, Response, current_app, request
from markupsafe import escape

from bot.dev import lineevents as ev
from bot.errors import error_response
from bot.security import PAGE_CSP_TAIL
from bot.services import services

bp = Blueprint("simulator", __name__)

# Its own scripts, styles and /dev/ API; the messages it shows may hold images and media from any
# host (QR codes at PUBLIC_BASE_URL, campaign images), which is all it loads from elsewhere.
SIMULATOR_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src * data: blob:; media-src * blob:; "
                 "connect-src 'self'; " + PAGE_CSP_TAIL)


def _fake(path: str, payload: dict | None = None) -> dict:
    url = services().settings.line_api_base_url + path
    data = json.dumps(payload).encode() if payload is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310 - loopback fake only
        return json.loads(resp.read() or b"{}")


@bp.get("/simulator")
def page():  # type: ignore[no-untyped-def]
    """The page, with this brand's name as the chat's title."""
    html = (Path(current_app.static_folder) / "simulator.html").read_text(encoding="utf-8")  # type: ignore[arg-type]
    brand = escape(services().settings.brand_name)
    return Response(html.replace('data-bot-name="好日子咖啡"', f'data-bot-name="{brand}"', 1), mimetype="text/html",
                    headers={"Content-Security-Policy": SIMULATOR_CSP})


@bp.post("/dev/simulator/send")
def send():  # type: ignore[no-untyped-def]
    body = request.get_json(silent=True) or {}
    user_id, kind = body.get("userId"), body.get("kind")
    if not isinstance(user_id, str) or not user_id.startswith("U"):
        return error_response(422, "invalid_user", "userId must be a LINE user id (U...)")
    _fake("/__fake__/profiles", {"userId": user_id, "displayName": body.get("displayName") or "模擬使用者"})
    if kind == "text" and isinstance(body.get("text"), str) and body["text"].strip():
        event = ev.text_event(user_id, body["text"])
    elif kind == "postback" and isinstance(body.get("data"), str):
        event = ev.postback_event(user_id, body["data"], body.get("params") or None)
    elif kind == "follow":
        event = ev.follow_event(user_id, unblocked=bool(body.get("unblocked")))
    elif kind == "unfollow":
        event = ev.unfollow_event(user_id)
    else:
        return error_response(422, "invalid_kind", "kind must be text, postback, follow or unfollow")
    if "replyToken" in event:
        _fake("/__fake__/reply-tokens", {"replyToken": event["replyToken"], "userId": user_id})
    raw = ev.payload(event)
    secret = services().settings.line_channel_secret
    resp = current_app.test_client().post(
        "/callback", data=raw, headers={"X-Line-Signature": ev.sign(secret, raw), "Content-Type": "application/json"}
    )
    return {"status": resp.status_code, "webhookEventId": event["webhookEventId"]}


@bp.get("/dev/simulator/messages")
def messages():  # type: ignore[no-untyped-def]
    user_id = request.args.get("userId", "")
    after = request.args.get("after", "0")
    query = urllib.parse.urlencode({"userId": user_id, "after": after})
    return _fake(f"/__fake__/messages?{query}")


@bp.get("/dev/simulator/richmenu")
def richmenu():  # type: ignore[no-untyped-def]
    """The rich menu the user sees (linked, else the default), or the menu behind ``aliasId``."""
    query = urllib.parse.urlencode({k: v for k in ("userId", "aliasId") if (v := request.args.get(k))})
    body = _fake(f"/__fake__/richmenu?{query}")
    if body.get("richMenuId"):
        body["imageUrl"] = f"/dev/simulator/richmenu/{urllib.parse.quote(body['richMenuId'])}/image"
    return body


@bp.get("/dev/simulator/richmenu/<menu_id>/image")
def richmenu_image(menu_id: str):  # type: ignore[no-untyped-def]
    url = f"{services().settings.line_api_base_url}/__fake__/richmenu/{urllib.parse.quote(menu_id)}/image"
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - loopback fake only
            data, mimetype = resp.read(), resp.headers.get_content_type()
    except urllib.error.HTTPError as exc:
        return error_response(exc.code, "richmenu_image", "No image for this rich menu")
    # a rich menu's image never changes (LINE refuses a second upload), so browsers may keep it
    return Response(data, mimetype=mimetype, headers={"Cache-Control": "private, max-age=86400"})
