"""Domain errors: a snake_case code (the API and the chat replies key on it) and a message."""
from __future__ import annotations


class DomainError(Exception):
    code = "domain_error"
    status = 400

    def __init__(self, message: str = "", *, code: str | None = None, details: dict | None = None) -> None:
        super().__init__(message or self.code)
        if code:
            self.code = code
        self.message = message or self.code
        self.details = details or {}


class NotFound(DomainError):
    code = "not_found"
    status = 404


class InvalidInput(DomainError):
    code = "invalid_input"
    status = 422


class Conflict(DomainError):
    code = "conflict"
    status = 409
