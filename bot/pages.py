"""Static staff pages under short URLs: /cashier is the counter's sign-in, scan and award page;
/admin (and every path under it) is the marketers' console, one page that routes in the browser."""
from __future__ import annotations

from flask import Blueprint, current_app, send_from_directory

bp = Blueprint("pages", __name__)

# The console loads only its own files; campaign images may come from any HTTPS host (previews).
ADMIN_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' https: data:; "
             "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def _page(name: str):  # type: ignore[no-untyped-def]
    resp = send_from_directory(current_app.static_folder or "static", name, max_age=0)
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers["X-Robots-Tag"] = "noindex"
    return resp


@bp.get("/cashier")
def cashier():  # type: ignore[no-untyped-def]
    """static/cashier.html (it loads its script and styles from /static/ by absolute path)."""
    return _page("cashier.html")


@bp.get("/admin")
@bp.get("/admin/")
@bp.get("/admin/<path:sub>")
def admin_console(sub: str = ""):  # type: ignore[no-untyped-def]
    """static/admin/index.html for /admin/members/123 and the like: a reload keeps the page."""
    resp = _page("admin/index.html")
    resp.headers["Content-Security-Policy"] = ADMIN_CSP
    return resp
