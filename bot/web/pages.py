"""Static staff pages under short URLs: /cashier is the counter's sign-in, scan and award page;
/admin (and every path under it) is the marketers' console, one page that routes in the browser.

Each page has its Content-Security-Policy, the same whether it is opened by its short URL or by its
file's (/static/cashier.html); bot/security.py adds the headers every answer gets."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, request, send_from_directory

from bot.security import PAGE_CSP_TAIL
from bot.dev.simulator import SIMULATOR_CSP

bp = Blueprint("pages", __name__)

# The console loads only its own files; campaign images may come from any HTTPS host (previews).
ADMIN_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' https: data:; "
             "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
# The counter: its own script, styles and API; jsQR (static/vendor/jsqr) is loaded from /static too;
# the camera's stream is set as the video's srcObject, which no directive governs; the icon is data:.
CASHIER_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " + PAGE_CSP_TAIL

PAGE_CSP = {"cashier.html": CASHIER_CSP, "admin/index.html": ADMIN_CSP, "simulator.html": SIMULATOR_CSP}


def _page(name: str):  # type: ignore[no-untyped-def]
    resp = send_from_directory(current_app.static_folder or "static", name, max_age=0)
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers["X-Robots-Tag"] = "noindex"
    resp.headers["Content-Security-Policy"] = PAGE_CSP[name]
    return resp


@bp.after_app_request
def _static_page_csp(response: Response) -> Response:
    """A page's file under /static/ gets its page's policy (any other file: bot/security.py's default)."""
    if request.endpoint == "static" and (csp := PAGE_CSP.get((request.view_args or {}).get("filename", ""))):
        response.headers["Content-Security-Policy"] = csp
    return response


@bp.get("/cashier")
def cashier():  # type: ignore[no-untyped-def]
    """static/cashier.html (it loads its script and styles from /static/ by absolute path)."""
    return _page("cashier.html")


@bp.get("/admin")
@bp.get("/admin/")
@bp.get("/admin/<path:sub>")
def admin_console(sub: str = ""):  # type: ignore[no-untyped-def]
    """static/admin/index.html for /admin/members/123 and the like: a reload keeps the page."""
    return _page("admin/index.html")
