"""The segment rule language: JSON compiled to one SQL condition over members and their stats.

    node      := {"and": [node, ...]} | {"or": [node, ...]} | {"not": node} | condition
    condition := {"field": FIELD, "op": OP, "value": VALUE}

Errors name the JSON pointer of the bad part (``/and/1/value``) so a form can point at it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Callable
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, extract, false, func, not_, or_, select, true
from sqlalchemy.orm import Session

from models.errors import InvalidInput
from models.ledger import Award
from models.member import Member
from models.referral import Referral
from models.segment import CLASSES, NES, MemberStats
from models.store import Store
from models.tag import MemberTag, Tag
from models.tier import Tier

TAIPEI = ZoneInfo("Asia/Taipei")
MAX_DEPTH = 8


class RuleError(InvalidInput):
    code = "invalid_rule"

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path or '/'}: {reason}", code="invalid_rule", details={"path": path or "/", "reason": reason})


@dataclass(frozen=True)
class Field:
    ops: tuple[str, ...]
    kind: str  # int | number | date | enum | text | bool
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
    "total_spend": Field(("gte", "lte", "between"), "number"),
    "birthday_month": Field(("eq", "in"), "int", bounds=(1, 12)),
    "gender": Field(("eq", "in"), "enum", ("male", "female", "other")),
    "age": Field(("gte", "lte", "between"), "int", bounds=(0, 130)),
    "store": Field(("eq", "in"), "text"),
    "reachable": Field(("eq",), "bool"),
    "referred_count": Field(("eq", "gte", "lte", "between"), "int", bounds=(0, 10**6)),
    "joined_by_referral": Field(("eq",), "bool"),
}


def _scalar(path: str, field: Field, value: Any) -> Any:
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
        return number
    if field.kind == "date":
        try:
            return date.fromisoformat(str(value))
        except ValueError as exc:
            raise RuleError(path, "a date like 2026-01-31 is expected") from exc
    if field.kind == "bool":
        if not isinstance(value, bool):
            raise RuleError(path, "true or false is expected")
        return value
    if not isinstance(value, str) or not value:
        raise RuleError(path, "a text value is expected")
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


def _compare(col, op: str, value: Any) -> ColumnElement[bool]:  # type: ignore[no-untyped-def]
    return {
        "eq": lambda: col == value,
        "in": lambda: col.in_(value),
        "gte": lambda: col >= value,
        "lte": lambda: col <= value,
        "between": lambda: col.between(value[0], value[1]),
    }[op]()


def _day_start(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=TAIPEI)


def _dates(col, op: str, value: Any) -> ColumnElement[bool]:  # type: ignore[no-untyped-def]
    """Dates are Taipei calendar days; an upper bound includes its whole day."""
    if op == "gte":
        return col >= _day_start(value)
    if op == "lte":
        return col < _day_start(value + timedelta(days=1))
    return and_(col >= _day_start(value[0]), col < _day_start(value[1] + timedelta(days=1)))


class Compiler:
    def __init__(self, session: Session, now: datetime) -> None:
        self.session, self.now = session, now
        self.today = now.astimezone(TAIPEI).date()

    def node(self, node: Any, path: str = "", depth: int = 0) -> ColumnElement[bool]:
        if depth > MAX_DEPTH:
            raise RuleError(path, f"rules nest at most {MAX_DEPTH} levels")
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
        if name not in FIELDS:
            raise RuleError(f"{path}/field", f"unknown field; one of {', '.join(FIELDS)}")
        field = FIELDS[name]
        op = node.get("op")
        if op not in field.ops:
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
        tiers = {t.code: t for t in self.session.scalars(select(Tier))}
        unknown = [c for c in codes if c not in tiers]
        if unknown:
            raise RuleError(self.value_path, f"unknown tier {unknown[0]}")
        lowest = min(tiers.values(), key=lambda t: t.rank)
        clause = Member.tier_id.in_([tiers[c].id for c in codes])
        return or_(clause, Member.tier_id.is_(None)) if lowest.code in codes else clause

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

    def _joined_by_referral(self, op: str, value: Any) -> ColumnElement[bool]:
        referred = exists().where(Referral.friend_id == Member.id, Referral.joined_at.is_not(None))
        return referred if value else not_(referred)


def compile_rule(session: Session, rule: Any, now: datetime) -> ColumnElement[bool]:
    """The SQL condition for a rule (raises RuleError pointing at the bad part)."""
    if rule in (None, {}):
        return true()
    return Compiler(session, now).node(rule)


def members_query(session: Session, rule: Any, now: datetime):  # type: ignore[no-untyped-def]
    """Joined members matching the rule, with their stats joined for the conditions."""
    clause = compile_rule(session, rule, now)
    return select(Member).outerjoin(MemberStats, MemberStats.member_id == Member.id).where(Member.joined_at.is_not(None), clause)


def preview(session: Session, rule: Any, now: datetime, sample: int = 10) -> tuple[int, list[Member]]:
    query = members_query(session, rule, now)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    members = list(session.scalars(query.order_by(Member.id).limit(sample)))
    return int(total), members

