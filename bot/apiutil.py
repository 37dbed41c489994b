"""Small helpers shared by the JSON APIs: the request session, input parsing, serialisers."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Flask, Response, g, request
from flask.json.provider import DefaultJSONProvider
from sqlalchemy.orm import Session
from werkzeug.routing import IntegerConverter

from bot.services import services
from models.dashboard import TAIPEI
from models.errors import InvalidInput
from models.limits import MAX_DB_INT, MAX_PURCHASE
from models.segment_rules import adhoc_query


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


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: an id past a BIGINT names nothing (404), rather than failing the query."""

    def __init__(self, map, *args: Any, **kwargs: Any) -> None:  # type: ignore[no-untyped-def]  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", MAX_DB_INT)
        super().__init__(map, *args, **kwargs)


def init_id_converter(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter


def adhoc_segment_query():  # type: ignore[no-untyped-def]
    """models.segment_rules.adhoc_query on the request's session, with SEGMENT_QUERY_TIMEOUT_MS."""
    return adhoc_query(g.db, timeout_ms=services().settings.segment_query_timeout_ms)


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, except that a body nested past the parser's recursion limit is invalid JSON
    (``get_json`` answers None or 400 as for any bad body) rather than a RecursionError (a 500)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError as exc:
            raise ValueError("JSON nested too deeply") from exc


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
    if amount > MAX_PURCHASE:  # the same refusal as models.ledger.check_purchase's
        raise InvalidInput(f"amount must be between 0 and {MAX_PURCHASE:,}", code="invalid_amount",
                           details={"field": "amount", "max": str(MAX_PURCHASE)})
    return amount


def parse_int(body: dict[str, Any], name: str) -> int:
    """A whole number that fits a BIGINT (ids; amounts are bounded further by their domain rule)."""
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_DB_INT:
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
