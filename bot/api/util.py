"""Small helpers shared by the JSON APIs: the request session, input parsing, serialisers."""
from __future__ import annotations

import math
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Flask, Response, current_app, g, request
from flask.json.provider import DefaultJSONProvider
from sqlalchemy.orm import Session
from werkzeug.routing import IntegerConverter

from bot.services import services
from models.dashboard import TAIPEI
from models.errors import InvalidInput, NotFound
from models.limits import MAX_DAY, MAX_DB_INT, MAX_PURCHASE, MIN_DAY
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


MAX_JSON_DEPTH = 64  # far past any documented body (a segment rule of MAX_DEPTH levels is about 20, a Flex message about 30)
_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")  # NUL (PostgreSQL text refuses it) and lone surrogates (not UTF-8)


def init_request_checks(app: Flask) -> None:
    """Query and path values with a NUL or an unpaired surrogate name nothing and fit no column
    (PostgreSQL refuses NUL in text): refused before any route reads them."""

    @app.before_request
    def _plain_text_only() -> None:
        if not request.path.startswith("/api/"):
            return
        for name, value in (request.view_args or {}).items():
            if isinstance(value, str) and _BAD_CHAR.search(value):
                raise NotFound("Nothing is named like that", code="not_found", details={"field": name})
        for name, value in request.args.items(multi=True):
            if _BAD_CHAR.search(name) or _BAD_CHAR.search(value):
                raise InvalidInput(f"{_BAD_CHAR.sub('?', name)} has a NUL or an unpaired surrogate", code="invalid_query",
                                   details={"field": _BAD_CHAR.sub("?", name)})


def parse_day(name: str, *, code: str = "invalid_period") -> date | None:
    """The query parameter ``name`` as a day like 2026-11-01 from MIN_DAY to MAX_DAY (None when absent):
    a report over year 1 or 9999 would only overflow the date arithmetic behind it."""
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidInput(f"{name} is a date like 2026-11-01", code=code, details={"field": name}) from exc
    if not MIN_DAY <= day <= MAX_DAY:
        raise InvalidInput(f"{name} is a date from {MIN_DAY} to {MAX_DAY}", code=code,
                           details={"field": name, "min": MIN_DAY.isoformat(), "max": MAX_DAY.isoformat()})
    return day


def adhoc_segment_query():  # type: ignore[no-untyped-def]
    """models.segment_rules.adhoc_query on the request's session, with SEGMENT_QUERY_TIMEOUT_MS."""
    return adhoc_query(g.db, timeout_ms=services().settings.segment_query_timeout_ms)


class JSONRefused(ValueError):
    """A body that parses as JSON but that no operation takes: NaN or Infinity, a number too large
    for a float or a BIGINT, nesting past MAX_JSON_DEPTH, a NUL or a lone surrogate in a string. ``path`` is a
    JSON pointer to the bad part ("" for the whole body)."""

    def __init__(self, reason: str, path: str = "") -> None:
        super().__init__(f"{path or '/'}: {reason}")
        self.reason, self.path = reason, path


class _Refused:
    """What the parser's hooks put in place of a number no field takes; check_json_value then
    refuses it with its path."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _refuse_constant(name: str) -> _Refused:
    return _Refused(f"{name} is not a JSON number")


def _finite_float(text: str) -> float | _Refused:
    value = float(text)
    return _Refused(f"{text[:20]} is too large a number") if math.isinf(value) else value


def _int64(text: str) -> int | _Refused:
    value = int(text)
    if not -MAX_DB_INT - 1 <= value <= MAX_DB_INT:
        return _Refused(f"{text[:20]}… is a whole number past 64 bits")
    return value


def check_json_value(value: Any) -> None:
    """Walks a parsed body without recursion: depth, and the characters of every key and string."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        node, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise JSONRefused(f"nested deeper than {MAX_JSON_DEPTH} levels", path)
        if isinstance(node, _Refused):
            raise JSONRefused(node.reason, path)
        if isinstance(node, str):
            if _BAD_CHAR.search(node):
                raise JSONRefused("text with a NUL or an unpaired surrogate", path)
        elif isinstance(node, dict):
            for key, sub in node.items():
                child = f"{path}/{key.replace('~', '~0').replace('/', '~1')}"
                if _BAD_CHAR.search(key):
                    raise JSONRefused("a name with a NUL or an unpaired surrogate", path)
                stack.append((sub, child, depth + 1))
        elif isinstance(node, list):
            stack.extend((sub, f"{path}/{i}", depth + 1) for i, sub in enumerate(node))


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, strict: NaN and Infinity, numbers past a float or past 64 bits, nesting past MAX_JSON_DEPTH
    (or past the parser's recursion limit), NUL and lone surrogates are invalid JSON, so every
    ``get_json`` (the audit log's copy of a body too) answers None or 400 as for any bad body, and
    json_body() says which part was refused."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        kwargs.setdefault("parse_constant", _refuse_constant)
        kwargs.setdefault("parse_float", _finite_float)
        kwargs.setdefault("parse_int", _int64)  # no field takes more; an id past a BIGINT would fail its query
        try:
            value = super().loads(s, **kwargs)
        except RecursionError as exc:
            raise JSONRefused(f"nested deeper than {MAX_JSON_DEPTH} levels") from exc
        check_json_value(value)
        return value


def json_body() -> dict[str, Any]:
    """The request's JSON object, parsed once, strictly (JSONProvider), with every top-level name
    the operation's documented body schema lists (bot/api/openapi/document.py) and no other: a misspelt or
    misplaced field is refused with its name (422 unknown_field, details.fields) rather than ignored."""
    if "json_body" in g:
        return g.json_body  # type: ignore[no-any-return]
    if not request.is_json:
        raise InvalidInput("Send a JSON object (Content-Type: application/json)", code="invalid_json")
    try:
        body = current_app.json.loads(request.get_data(cache=True))
    except JSONRefused as exc:
        details = {"path": exc.path, "reason": exc.reason}
        if exc.path:
            details["field"] = exc.path.split("/")[1]
        raise InvalidInput(f"Not valid JSON here: {exc}", code="invalid_json", details=details) from exc
    except ValueError as exc:  # a syntax error, or bytes that are not UTF-8
        raise InvalidInput("Send a JSON object", code="invalid_json") from exc
    if not isinstance(body, dict):
        raise InvalidInput("Send a JSON object", code="invalid_json")
    unknown = sorted(set(body) - allowed) if (allowed := documented_fields()) is not None else []
    if unknown:
        raise InvalidInput(f"Unknown fields: {', '.join(unknown)}", code="unknown_field",
                           details={"field": unknown[0], "fields": unknown, "allowed": sorted(allowed or ())})
    g.json_body = body
    return body


_FIELDS: dict[tuple[str, str], frozenset[str] | None] | None = None


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def documented_fields() -> frozenset[str] | None:
    """The top-level names of this operation's documented JSON body, or None when it documents
    none with fixed names (then nothing is refused here; the route checks what it reads)."""
    global _FIELDS
    if _FIELDS is None:
        from bot.api.openapi.document import document

        doc = document()
        schemas = doc["components"]["schemas"]

        def names(schema: dict[str, Any] | None) -> frozenset[str] | None:
            while schema and "$ref" in schema:
                schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
            if not schema:
                return None
            if "allOf" in schema:  # a member reference and the operation's own fields
                parts = [names(part) for part in schema["allOf"]]
                return None if any(p is None for p in parts) else frozenset().union(*parts)  # type: ignore[arg-type]
            extra = schema.get("additionalProperties", False)
            return frozenset(schema["properties"]) if "properties" in schema and extra is False else None

        found: dict[tuple[str, str], frozenset[str] | None] = {}
        for path, ops in doc["paths"].items():
            for method, operation in ops.items():
                found[(path, method)] = names(operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema"))
        _FIELDS = found
    rule = request.url_rule
    return None if rule is None else _FIELDS.get((_openapi_path(rule.rule), request.method.lower()))


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
