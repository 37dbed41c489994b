"""GET /docs: the API document (/openapi.json) in Swagger UI, served from static/vendor/swagger-ui/.

Nothing is loaded from elsewhere: the Content-Security-Policy allows this origin only (plus the one
inline script, by nonce), so a stray CDN reference would show up as a blocked load."""
from __future__ import annotations

import json
import secrets

from flask import Blueprint, Response, url_for

bp = Blueprint("docs", __name__)

SWAGGER_UI_VERSION = "5.35.0"  # static/vendor/README.md: update both together

PAGE = """<!doctype html>
<html lang="zh-Hant-TW">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API 文件</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{css}">
<style nonce="{nonce}">body {{ margin: 0; }} .swagger-ui .topbar {{ display: none; }}</style>
</head>
<body>
<div id="swagger-ui"></div>
<script src="{js}"></script>
<script nonce="{nonce}">
window.ui = SwaggerUIBundle({{
  url: {spec},
  dom_id: "#swagger-ui",
  deepLinking: true,
  docExpansion: "list",
  defaultModelsExpandDepth: 0,
  validatorUrl: null
}});
</script>
</body>
</html>
"""


def _csp(nonce: str) -> str:
    # Swagger UI sets style attributes from script, hence 'unsafe-inline' for styles only.
    return (f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


@bp.get("/docs")
def docs():  # type: ignore[no-untyped-def]
    nonce = secrets.token_urlsafe(16)
    vendor = "vendor/swagger-ui/"
    html = PAGE.format(
        nonce=nonce,
        css=url_for("static", filename=vendor + "swagger-ui.css", v=SWAGGER_UI_VERSION),
        js=url_for("static", filename=vendor + "swagger-ui-bundle.js", v=SWAGGER_UI_VERSION),
        spec=json.dumps(url_for("openapi.openapi_json")),
    )
    resp = Response(html, mimetype="text/html")
    resp.headers["Content-Security-Policy"] = _csp(nonce)
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers["X-Robots-Tag"] = "noindex"
    return resp
