"""One error shape for every API answer: {"code", "message", "details"}."""
from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from models.errors import DomainError
from models.limits import MAX_DB_INT

log = logging.getLogger(__name__)


def _names_an_id_past_bigint(path: str) -> bool:
    return any(part.isdigit() and int(part) > MAX_DB_INT for part in path.split("/"))


def error_response(status: int, code: str, message: str, details: dict | None = None):  # type: ignore[no-untyped-def]
    return jsonify({"code": code, "message": message, "details": details or {}}), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):  # type: ignore[no-untyped-def]
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc: RequestEntityTooLarge):  # type: ignore[no-untyped-def]
        limit = current_app.config["MAX_CONTENT_LENGTH"]  # bot/security.py: by Content-Length, or cut off mid-stream
        return error_response(413, "request_too_large", f"The request body is larger than {limit} bytes", {"max_bytes": limit})

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):  # type: ignore[no-untyped-def]
        if exc.code == 405 and _names_an_id_past_bigint(request.path):
            # werkzeug answers 405 when another method's rule has the same pattern and this one's id
            # converter refused the value: an id past a BIGINT names nothing, whatever the method
            return error_response(404, "not_found", "Nothing is named like that")
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(exc.code or 500, code, exc.description or exc.name)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        log.exception("unhandled error")
        return error_response(500, "internal_error", "Something went wrong on our side")
