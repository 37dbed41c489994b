"""Small helpers shared by the JSON APIs: the request session, input parsing, serialisers."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Flask, Response, g, request
from sqlalchemy.orm import Session

from bot.services import services
from models.dashboard import TAIPEI
from models.errors import InvalidInput


def init_request_session(app: Flask) -> None:
    """One session per web request, opened lazily; rolled back unless the route committed."""

    @app.before_request
    def _open() -> None:
        g.db = services().db.sessions()

    @app.teardown_request
    def _close(exc: BaseException | None) -> None:
        session: Session | None = g.pop("db", None)
        if session is not None:
            session.close()


BUSINESS_DATE_HEADER = "X-Business-Date"


def init_business_date(app: Flask) -> None:
    """Every API answer says which day it is in Taipei by the app's clock, so pages never take
    "today" (a default period, a preset, tomorrow 10:00) from the browser's clock."""

    @app.after_request
    def _stamp(response: Response) -> Response:
        if request.path.startswith("/api/"):
            response.headers[BUSINESS_DATE_HEADER] = services().now().astimezone(TAIPEI).date().isoformat()
        return response


def json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput("Send a JSON object", code="invalid_json")
    return body


def parse_amount(value: Any, *, required: bool = False) -> Decimal | None:
    if value is None or value == "":
        if required:
            raise InvalidInput("amount is required", code="invalid_amount")
        return None
    if isinstance(value, bool) or isinstance(value, float):
        # floats are refused: amounts travel as strings or integers ("120.50", 120)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise InvalidInput("amount must be a number (integer, or a string like \"120.50\")", code="invalid_amount")
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise InvalidInput("amount must be a number", code="invalid_amount") from exc
    if not amount.is_finite() or amount < 0 or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise InvalidInput("amount must be ≥ 0 with at most 2 decimals", code="invalid_amount")
    return amount


def parse_int(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{name} must be an integer", code=f"invalid_{name}", details={"field": name})
    return value


def parse_str(body: dict[str, Any], name: str, *, required: bool = True, max_len: int = 200) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise InvalidInput(f"{name} is required (text, at most {max_len} characters)", code=f"invalid_{name}", details={"field": name})
    return value.strip()


def decimal_str(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")
