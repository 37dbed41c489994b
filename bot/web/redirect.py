"""The bot's own short redirect for campaign links: ``GET /r/<token>`` (models/campaign_link.py).

Fast by construction: the token is opened by a pure signature check, the link is read by its
primary key and the click is one upsert; nothing calls LINE. Never an open redirect: the only
place it sends anyone is the URL recorded for that link of that campaign, and the token names the
link by an id the signature covers. Anything else (a forged, cut or re-encoded token, a link that
does not exist) gets the same neutral 404 page, so an answer tells nothing about why.
"""
from __future__ import annotations

from flask import Blueprint, Response, g, redirect, render_template_string, request

from bot.security import PAGE_CSP_TAIL
from bot.services import services
from models.campaign_link import find_link, is_tracked, link_key, open_token, record_click

bp = Blueprint("redirect", __name__)
PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; " + PAGE_CSP_TAIL
HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"}
GONE = """<!doctype html><html lang="zh-Hant"><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>{{ title }}</title>
<style>body{font-family:sans-serif;max-width:32em;margin:3em auto;padding:0 1em;color:#333}</style>
<h1>{{ title }}</h1><p>{{ text }}</p></html>"""


def _gone() -> Response:
    t = services().texts
    html = render_template_string(GONE, title=t("link_gone_title"), text=t("link_gone"))
    return Response(html, status=404, mimetype="text/html", headers={**HEADERS, "Content-Security-Policy": PAGE_CSP})


@bp.get("/r/<token>", merge_slashes=False)  # "/r//host" is no route, not a redirect to "/r/host"
def follow(token: str):  # type: ignore[no-untyped-def]
    svc = services()
    opened = open_token(link_key(svc.settings.secret_key), token)  # one HMAC to derive the key, two to check: microseconds
    link = find_link(g.db, opened[0]) if opened else None
    if link is None or not is_tracked(link.url):
        return _gone()
    if request.method == "GET":  # a HEAD (a link checker) is not a click
        record_click(g.db, link, opened[1], now=svc.now())  # type: ignore[index]
        g.db.commit()
    resp = redirect(link.url, code=302)
    resp.headers.update(HEADERS)
    return resp
