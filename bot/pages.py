"""Static staff pages under short URLs: /cashier is the counter's sign-in, scan and award page."""
from __future__ import annotations

from flask import Blueprint, current_app, send_from_directory

bp = Blueprint("pages", __name__)


@bp.get("/cashier")
def cashier():  # type: ignore[no-untyped-def]
    """static/cashier.html (it loads its script and styles from /static/ by absolute path)."""
    resp = send_from_directory(current_app.static_folder or "static", "cashier.html", max_age=0)
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers["X-Robots-Tag"] = "noindex"
    return resp
