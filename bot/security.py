"""What every answer gets, whatever the route: a bound on the request body and browser headers.

Bodies: at most ``MAX_REQUEST_BYTES`` (Flask's ``MAX_CONTENT_LENGTH``). A larger Content-Length is
refused with 413 before anything else runs, so no route reads it, and no session or signature
check starts. A body without one (chunked; gunicorn and Werkzeug's server mark it
``wsgi.input_terminated``) is read here, one byte past the limit at most, and refused the same way
when it has that byte; what is left is the route's, from memory. (Werkzeug's own stream would stop
at the limit without an error: a route would get the body cut short.) bot/errors.py words the 413.

Headers: ``nosniff``, ``Referrer-Policy: same-origin`` (cross-origin fetches, such as campaign
images in the console, learn nothing of the page), no framing anywhere, and a
Content-Security-Policy: a page sets its own (bot/web/pages.py, bot/web/docs.py, bot/dev/simulator.py, the
terms page in bot/web/public.py); every other answer (JSON, images, static files) gets ``DEFAULT_CSP``,
which allows nothing, so a file opened on its own cannot run or load anything."""
from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.exceptions import RequestEntityTooLarge

# Directives every page's policy ends with: no plugins, no <base>, no form posts elsewhere, no frames.
PAGE_CSP_TAIL = "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
DEFAULT_CSP = "default-src 'none'; " + PAGE_CSP_TAIL

HEADERS = {
    "Content-Security-Policy": DEFAULT_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",  # frame-ancestors, for browsers that predate it
}


def init_security(app: Flask, *, max_request_bytes: int) -> None:
    """Before any other hook: the body limit first, so nothing is opened for a refused request."""
    app.config["MAX_CONTENT_LENGTH"] = max_request_bytes

    @app.before_request
    def _refuse_large_body() -> None:
        length = request.content_length  # the header only: nothing is read
        if length is not None and length > max_request_bytes:
            raise RequestEntityTooLarge()
        if length is None and "wsgi.input_terminated" in request.environ:  # a stream: bounded, then cached
            request.max_content_length = max_request_bytes + 1
            if len(request.get_data(cache=True)) > max_request_bytes:
                raise RequestEntityTooLarge()

    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response
