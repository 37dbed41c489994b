"""The segment rule language: JSON compiled to one SQL condition over members and their stats.

    node      := {"and": [node, ...]} | {"or": [node, ...]} | {"not": node} | condition
    condition := {"field": FIELD, "op": OP, "value": VALUE}

Errors name the JSON pointer of the bad part (``/and/1/value``) so a form can point at it.

A rule is small by construction: at most MAX_DEPTH levels, MAX_CHILDREN children in one and/or,
MAX_CONDITIONS conditions, MAX_IN_VALUES values in one ``in`` and MAX_VALUES in all; a bigger one
is refused (``rule_too_large``, naming the limit) before anything is compiled or sent to the
database: a 20,000-branch ``or`` kept PostgreSQL in JIT compilation for a quarter of an hour, and a
70,000-value ``in`` is past its bind parameter limit. Queries a marketer runs at will (preview,
member search, export, campaign estimate) also run under ``adhoc_query``: no JIT, a statement
timeout, and ``query_too_slow`` rather than a 500 when it strikes.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, exists, extract, false, func, not_, or_, select, text, true
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from models.campaign_link import clicked_campaigns
from models.errors import DomainError, InvalidInput
from models.limits import MAX_DB_INT
from models.ledger import Award
from models.member import PREMEMBER_PREFIX, Member
from models.product import AwardItem
from models.referral import Referral
from models.segment import CLASSES, NES, MemberStats
from models.segment_purchase import ShareValueError, bought, category_share, parse_share
from models.store import Store
from models.tag import MemberTag, Tag
from models.tier import Tier

TAIPEI = ZoneInfo("Asia/Taipei")
MAX_DEPTH = 8  # levels of and/or/not
MAX_CHILDREN = 50  # children of one and/or
MAX_CONDITIONS = 100  # conditions in a rule
MAX_IN_VALUES = 500  # values in one `in` list
MAX_VALUES = 1_000  # values in all the rule's `in` lists (bind parameters)
MAX_TEXT = 120  # characters of a text value (tag, tier and store codes)
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
MAX_SPEND = 10**10  # NT$, total_spend


class RuleError(InvalidInput):
    code = "invalid_rule"

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path or '/'}: {reason}", code=self.code, details={"path": path or "/", "reason": reason})


class RuleTooLarge(RuleError):
    """A rule past one of the size limits; ``details.limit`` names it and ``details.max`` gives it."""

    code = "rule_too_large"

    def __init__(self, path: str, limit: str, maximum: int, reason: str) -> None:
        super().__init__(path, reason)
        self.details.update(limit=limit, max=maximum)


class QueryTooSlow(DomainError):
    """An ad-hoc segment query ran into the statement timeout (503: the rule is valid, the database
    would not spend more time on it now; narrow the rule, or try later)."""

    code = "query_too_slow"
    status = 503


@dataclass(frozen=True)
class Field:
    ops: tuple[str, ...]
    kind: str  # int | number | date | enum | text | bool | share ({"category": text, "share": 0–1})
    choices: tuple[Any, ...] = ()
    bounds: tuple[int, int] | None = None


SCORE = Field(("eq", "gte", "lte", "between"), "int", bounds=(1, 5))
FIELDS: dict[str, Field] = {
    "tier": Field(("eq", "in"), "text"),
    "rfm_class": Field(("eq", "in"), "enum", tuple(CLASSES.values())),
    "r_score": SCORE, "f_score": SCORE, "m_score": SCORE,
    "nes": Field(("eq", "in"), "enum", NES),
    "tag": Field(("has",), "text"),
    "joined_on": Field(("gte", "lte", "between"), "date"),
    "last_visit_on": Field(("gte", "lte", "between"), "date"),
    "last_visit_within_days": Field(("lte",), "int", bounds=(0, 10000)),
    "visits": Field(("eq", "gte", "lte", "between"), "int", bounds=(0, 10**6)),
    "total_spend": Field(("gte", "lte", "between"), "number", bounds=(0, MAX_SPEND)),
    "birthday_month": Field(("eq", "in"), "int", bounds=(1, 12)),
    "gender": Field(("eq", "in"), "enum", ("male", "female", "other")),
    "age": Field(("gte", "lte", "between"), "int", bounds=(0, 130)),
    "store": Field(("eq", "in"), "text"),
    "reachable": Field(("eq",), "bool"),
    "in_line": Field(("eq",), "bool"),  # false: pre-members collecting at the counter before joining in LINE
    "referred_count": Field(("eq", "gte", "lte", "between"), "int", bounds=(0, 10**6)),
    "joined_by_referral": Field(("eq",), "bool"),
    # what they bought (models/segment_purchase.py): the last 365 days' line items
    "bought_category": Field(("eq", "in"), "text"),
    "bought_sku": Field(("eq", "in"), "text"),
    "category_share": Field(("gte", "lte"), "share"),

    "clicked_campaign": Field(("eq", "in"), "int", bounds=(1, MAX_DB_INT)),  # a campaign id: clicked one of its links (/r/<token>)
}


def _scalar(path: str, field: Field, value: Any) -> Any:
    if field.kind == "share":
        try:
            return parse_share(value, MAX_TEXT)
        except ShareValueError as exc:
            raise RuleError(f"{path}/{exc.key}" if exc.key else path, exc.reason) from exc
    if field.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise RuleError(path, "a whole number is expected")
        if field.bounds and not field.bounds[0] <= value <= field.bounds[1]:
            raise RuleError(path, f"must be between {field.bounds[0]} and {field.bounds[1]}")
        return value
    if field.kind == "number":
        try:
            number = Decimal(str(value))
        except InvalidOperation as exc:
            raise RuleError(path, "a number is expected") from exc
        if isinstance(value, bool) or not number.is_finite():
            raise RuleError(path, "a number is expected")
        if field.bounds and not field.bounds[0] <= number <= field.bounds[1]:
            raise RuleError(path, f"must be between {field.bounds[0]} and {field.bounds[1]}")
        return number
    if field.kind == "date":
        try:
            day = date.fromisoformat(str(value))
        except ValueError as exc:
            raise RuleError(path, "a date like 2026-01-31 is expected") from exc
        if not FIRST_DAY <= day <= LAST_DAY:
            raise RuleError(path, f"a date from {FIRST_DAY} to {LAST_DAY} is expected")
        return day
    if field.kind == "bool":
        if not isinstance(value, bool):
            raise RuleError(path, "true or false is expected")
        return value
    if not isinstance(value, str) or not value:
        raise RuleError(path, "a text value is expected")
    if len(value) > MAX_TEXT:
        raise RuleError(path, f"at most {MAX_TEXT} characters")
    if field.kind == "enum" and value not in field.choices:
        raise RuleError(path, f"must be one of {', '.join(map(str, field.choices))}")
    return value


def _values(path: str, field: Field, op: str, value: Any) -> Any:
    if op == "in":
        if not isinstance(value, list) or not value:
            raise RuleError(path, "a non-empty list is expected")
        return [_scalar(f"{path}/{i}", field, v) for i, v in enumerate(value)]
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise RuleError(path, "a list of two values [low, high] is expected")
        low, high = (_scalar(f"{path}/{i}", field, v) for i, v in enumerate(value))
        if low > high:
            raise RuleError(path, "low is greater than high")
        return low, high
    return _scalar(path, field, value)


def _compare(col: Any, op: str, value: Any) -> ColumnElement[bool]:
    return {
        "eq": lambda: col == value,
        "in": lambda: col.in_(value),
        "gte": lambda: col >= value,
        "lte": lambda: col <= value,
        "between": lambda: col.between(value[0], value[1]),
    }[op]()


def _day_start(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=TAIPEI)


def _dates(col: Any, op: str, value: Any) -> ColumnElement[bool]:
    """Dates are Taipei calendar days; an upper bound includes its whole day."""
    if op == "gte":
        return col >= _day_start(value)
    if op == "lte":
        return col < _day_start(value + timedelta(days=1))
    return and_(col >= _day_start(value[0]), col < _day_start(value[1] + timedelta(days=1)))


def check_size(rule: Any) -> None:
    """Refuse a rule past the size limits, walking it once without recursion (and so before any of
    it is compiled: a rule of 20,000 conditions is refused in microseconds)."""
    conditions = values = 0
    stack: list[tuple[Any, str, int]] = [(rule, "", 0)]
    while stack:
        node, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise RuleTooLarge(path, "max_depth", MAX_DEPTH, f"rules nest at most {MAX_DEPTH} levels")
        if not isinstance(node, dict):
            continue  # the compiler says what is wrong with it
        for key in ("and", "or"):
            children = node.get(key)
            if isinstance(children, list):
                if len(children) > MAX_CHILDREN:
                    raise RuleTooLarge(f"{path}/{key}", "max_children", MAX_CHILDREN, f"'{key}' takes at most {MAX_CHILDREN} children")
                stack.extend((child, f"{path}/{key}/{i}", depth + 1) for i, child in reversed(list(enumerate(children))))
        if "not" in node:
            stack.append((node["not"], f"{path}/not", depth + 1))
        if "field" in node:
            conditions += 1
            if conditions > MAX_CONDITIONS:
                raise RuleTooLarge(path, "max_conditions", MAX_CONDITIONS, f"a rule has at most {MAX_CONDITIONS} conditions")
            value = node.get("value")
            if isinstance(value, list):
                if len(value) > MAX_IN_VALUES:
                    raise RuleTooLarge(f"{path}/value", "max_in_values", MAX_IN_VALUES, f"a list has at most {MAX_IN_VALUES} values")
                values += len(value)
                if values > MAX_VALUES:
                    raise RuleTooLarge(f"{path}/value", "max_values", MAX_VALUES, f"a rule's lists have at most {MAX_VALUES} values in all")


class Compiler:
    def __init__(self, session: Session, now: datetime) -> None:
        self.session, self.now = session, now
        self.today = now.astimezone(TAIPEI).date()
        self._tiers: dict[str, Tier] | None = None

    def node(self, node: Any, path: str = "", depth: int = 0) -> ColumnElement[bool]:
        if depth == 0:
            check_size(node)
        if not isinstance(node, dict):
            raise RuleError(path, "an object is expected")
        if "and" in node or "or" in node:
            key = "and" if "and" in node else "or"
            if len(node) != 1 or not isinstance(node[key], list) or not node[key]:
                raise RuleError(f"{path}/{key}", f"'{key}' takes a non-empty list and nothing beside it")
            parts = [self.node(child, f"{path}/{key}/{i}", depth + 1) for i, child in enumerate(node[key])]
            return and_(*parts) if key == "and" else or_(*parts)
        if "not" in node:
            if len(node) != 1:
                raise RuleError(path, "'not' stands alone")
            inner = self.node(node["not"], f"{path}/not", depth + 1)
            # SQL's NOT keeps an unknown unknown: a member with no stats (never bought) or no gender
            # would match neither a condition nor its negation. Here a condition that cannot be
            # decided does not hold, so its negation does: "not S3" includes members with no NES.
            return not_(func.coalesce(inner, false()))
        return self.condition(node, path)

    def condition(self, node: dict[str, Any], path: str) -> ColumnElement[bool]:
        extra = set(node) - {"field", "op", "value"}
        if extra:
            raise RuleError(f"{path}/{sorted(extra)[0]}", "unknown key (use field, op, value, and/or/not)")
        name = node.get("field")
        if not isinstance(name, str) or name not in FIELDS:
            raise RuleError(f"{path}/field", f"unknown field; one of {', '.join(FIELDS)}")
        field = FIELDS[name]
        op = node.get("op")
        if not isinstance(op, str) or op not in field.ops:
            raise RuleError(f"{path}/op", f"{name} takes {', '.join(field.ops)}")
        value = _values(f"{path}/value", field, op, node.get("value"))
        self.value_path = f"{path}/value"
        return getattr(self, f"_{name}", lambda o, v: self._stat(name, o, v))(op, value)

    def _stat(self, name: str, op: str, value: Any) -> ColumnElement[bool]:
        column = {"r_score": MemberStats.r_score, "f_score": MemberStats.f_score, "m_score": MemberStats.m_score,
                  "rfm_class": MemberStats.rfm_class, "nes": MemberStats.nes,
                  "visits": func.coalesce(MemberStats.visits, 0),  # members who never bought have no stats row
                  "total_spend": func.coalesce(MemberStats.spend, 0),
                  "gender": Member.gender, "reachable": Member.is_reachable}[name]
        return _compare(column, op, value)

    def _tier(self, op: str, value: Any) -> ColumnElement[bool]:
        codes = [value] if op == "eq" else value
        if self._tiers is None:  # read once per rule, however many tier conditions it has
            self._tiers = {t.code: t for t in self.session.scalars(select(Tier))}
        tiers = self._tiers
        unknown = [c for c in codes if c not in tiers]
        if unknown:
            raise RuleError(self.value_path, f"unknown tier {unknown[0]}")
        lowest = min(tiers.values(), key=lambda t: t.rank)
        clause = Member.tier_id.in_([tiers[c].id for c in codes])
        return or_(clause, Member.tier_id.is_(None)) if lowest.code in codes else clause

    def _in_line(self, op: str, value: Any) -> ColumnElement[bool]:
        pre = Member.line_user_id.like(f"{PREMEMBER_PREFIX}%")  # taken-over ones have left the joined members
        return not_(pre) if value else pre

    def _tag(self, op: str, value: Any) -> ColumnElement[bool]:
        return exists().where(MemberTag.member_id == Member.id, MemberTag.tag_id == Tag.id, Tag.name == value)

    def _joined_on(self, op: str, value: Any) -> ColumnElement[bool]:
        return _dates(Member.joined_at, op, value)

    def _last_visit_on(self, op: str, value: Any) -> ColumnElement[bool]:
        return _dates(MemberStats.last_visit_at, op, value)

    def _last_visit_within_days(self, op: str, value: Any) -> ColumnElement[bool]:
        return MemberStats.last_visit_at > self.now - timedelta(days=value)

    def _birthday_month(self, op: str, value: Any) -> ColumnElement[bool]:
        return _compare(extract("month", Member.birthday_on), op, value)

    def _age(self, op: str, value: Any) -> ColumnElement[bool]:
        def born_after(age: int) -> date:  # older than `age`+1 years is born before this day
            return self._years_ago(age + 1) + timedelta(days=1)

        if op == "gte":
            return Member.birthday_on <= self._years_ago(value)
        if op == "lte":
            return Member.birthday_on >= born_after(value)
        return and_(Member.birthday_on <= self._years_ago(value[0]), Member.birthday_on >= born_after(value[1]))

    def _years_ago(self, years: int) -> date:
        try:
            return self.today.replace(year=self.today.year - years)
        except ValueError:  # 29 February
            return self.today.replace(year=self.today.year - years, day=28)

    def _store(self, op: str, value: Any) -> ColumnElement[bool]:
        codes = [value] if op == "eq" else value
        return exists().where(Award.member_id == Member.id, Award.store_id == Store.id, Store.code.in_(codes))

    def _referred_count(self, op: str, value: Any) -> ColumnElement[bool]:
        """Friends this member referred who completed joining (whatever happened after)."""
        joined = select(func.count(Referral.id)).where(Referral.referrer_id == Member.id, Referral.joined_at.is_not(None))
        return _compare(joined.correlate(Member).scalar_subquery(), op, value)

    def _bought_category(self, op: str, value: Any) -> ColumnElement[bool]:
        return bought(AwardItem.category, op, value, self.now)

    def _bought_sku(self, op: str, value: Any) -> ColumnElement[bool]:
        return bought(AwardItem.sku, op, value, self.now)

    def _category_share(self, op: str, value: Any) -> ColumnElement[bool]:
        return category_share(op, value, self.now)

    def _joined_by_referral(self, op: str, value: Any) -> ColumnElement[bool]:
        referred = exists().where(Referral.friend_id == Member.id, Referral.joined_at.is_not(None))
        return referred if value else not_(referred)

    def _clicked_campaign(self, op: str, value: Any) -> ColumnElement[bool]:
        clicked = clicked_campaigns([value] if op == "eq" else value)
        return Member.id.in_(clicked)


def compile_rule(session: Session, rule: Any, now: datetime) -> ColumnElement[bool]:
    """The SQL condition for a rule (raises RuleError pointing at the bad part)."""
    if rule in (None, {}):
        return true()
    return Compiler(session, now).node(rule)


def members_query(session: Session, rule: Any, now: datetime) -> Select[Member]:
    """Joined members matching the rule, with their stats joined for the conditions (erased members never)."""
    clause = compile_rule(session, rule, now)
    return (select(Member).outerjoin(MemberStats, MemberStats.member_id == Member.id)
            .where(Member.joined_at.is_not(None), Member.erased_at.is_(None), clause))


def preview(session: Session, rule: Any, now: datetime, sample: int = 10) -> tuple[int, list[Member]]:
    query = members_query(session, rule, now)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    members = list(session.scalars(query.order_by(Member.id).limit(sample)))
    return int(total), members


STATEMENT_TIMEOUT = "57014"  # PostgreSQL's query_canceled, which a statement timeout raises


@contextmanager
def adhoc_query(session: Session, *, timeout_ms: int) -> Iterator[None]:
    """Run what the block asks of the database as an ad-hoc segment query: on PostgreSQL without JIT
    compilation (a wide rule's expressions cost far more to compile than to run) and under a
    statement timeout, both for the rest of the transaction (``SET LOCAL``); a statement that times
    out raises QueryTooSlow. SQLite has neither setting; the rule limits bound its queries."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT set_config('jit', 'off', true), set_config('statement_timeout', :ms, true)"),
                        {"ms": str(max(1, int(timeout_ms)))})
    try:
        yield
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != STATEMENT_TIMEOUT:
            raise
        raise QueryTooSlow(f"The query took longer than {timeout_ms:,} ms; narrow the rule, or try again later",
                           details={"timeout_ms": timeout_ms}) from exc

