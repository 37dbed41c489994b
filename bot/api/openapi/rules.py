"""The segment rule language in the OpenAPI document, generated from ``models.segment_rules.FIELDS``
so the document lists exactly the fields, operators and values the rule compiler accepts."""
from __future__ import annotations

from typing import Any

from bot.api.openapi.schemas import ref
from models.segment_rules import (
    FIELDS, FIRST_DAY, LAST_DAY, MAX_CHILDREN, MAX_CONDITIONS, MAX_DEPTH, MAX_IN_VALUES, MAX_TEXT, MAX_VALUES, Field,
)


FIELD_DOCS = {
    "tier": "The member's current tier code (members without a tier count as the entry tier); an unknown code is an error.",
    "rfm_class": "RFM class from the last recompute (重要價值, 重要保持, … 一般挽留).",
    "r_score": "Recency score 1–5 from the last recompute.",
    "f_score": "Frequency score 1–5 from the last recompute.",
    "m_score": "Monetary score 1–5 from the last recompute.",
    "nes": "Life-cycle stage by the brand's purchase cycle C: N new, E0 active, S1 1–2×C, S2 2–3×C, S3 over 3×C since the last visit.",
    "tag": "Has this tag (manual or rule tag).",
    "joined_on": "The day the member joined (Asia/Taipei calendar day; an upper bound includes its whole day).",
    "last_visit_on": "The day of the last visit (Asia/Taipei calendar day; an upper bound includes its whole day).",
    "last_visit_within_days": "Visited within the last N days.",
    "visits": "Visits in the RFM window (RFM_WINDOW_DAYS, default 365); members who never bought count 0.",
    "total_spend": "NT$ spent in the RFM window; members who never bought count 0.",
    "birthday_month": "Birthday month, 1–12.",
    "gender": "male, female or other.",
    "age": "Age in whole years, from the birthday (Asia/Taipei today).",
    "store": "Has earned at any of these store codes.",
    "reachable": "Can receive LINE messages (follows the account, has not blocked it).",
    "in_line": "A member in LINE (true), or a pre-member collecting at the counter by phone before joining (false).",
    "referred_count": "Friends this member referred who completed joining (referrals).",
    "joined_by_referral": "Joined through a friend's referral code.",
    "bought_category": "Bought in (any of) these product categories in the last 365 days (line items sent with awards; voided awards' items do not count).",
    "bought_sku": "Bought (any of) these SKUs in the last 365 days (line items sent with awards, known to the catalogue or not; voided awards' items do not count).",
    "category_share": ("The category's share of the member's spend on line items in the last 365 days, 0–1 (line totals; at most 4 "
                       "decimals): `{\"category\": \"烘焙\", \"share\": 0.3}` with gte is \"at least 30 % of what they spend is 烘焙\". "
                       "A member with no line items in the window has no share: neither gte nor lte holds."),

    "clicked_campaign": "Clicked a link of this campaign (its id) through the bot's redirect: campaigns with web links are sent per member.",
}
_KIND_TEXT = {"share": "{category, share 0–1}", "int": "whole number", "number": "number or decimal string", "date": "date YYYY-MM-DD", "bool": "true/false", "text": "text", "enum": "one of the listed values"}


def _scalar(field: Field) -> dict[str, Any]:
    if field.kind == "share":
        return {"type": "object", "required": ["category", "share"], "additionalProperties": False, "properties": {
            "category": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT},
            "share": {"type": ["number", "string"], "minimum": 0, "maximum": 1, "description": "0–1, at most 4 decimals (a number or a decimal string)"}}}
    if field.kind in ("int", "number"):
        schema: dict[str, Any] = {"type": "integer"} if field.kind == "int" else {
            "type": ["number", "string"], "description": "a number, or a decimal string such as \"1500.50\""}
        if field.bounds:
            schema.update(minimum=field.bounds[0], maximum=field.bounds[1])
        return schema
    return {
        "date": {"type": "string", "format": "date", "description": f"from {FIRST_DAY} to {LAST_DAY}"},
        "bool": {"type": "boolean"},
        "enum": {"type": "string", "enum": list(field.choices)},
    }.get(field.kind, {"type": "string", "minLength": 1, "maxLength": MAX_TEXT})


def _value(field: Field, op_name: str) -> dict[str, Any]:
    scalar = _scalar(field)
    if op_name == "in":
        return {"type": "array", "minItems": 1, "maxItems": MAX_IN_VALUES, "items": scalar, "description": "in: any of these"}
    if op_name == "between":
        return {"type": "array", "minItems": 2, "maxItems": 2, "items": scalar, "description": "between: [low, high], both included, low ≤ high"}
    return scalar


def _condition_rule(name: str, field: Field) -> dict[str, Any]:
    """if field is NAME then: its ops, and for each op the value's shape (scalar, in-list, between-pair)."""
    shapes: list[tuple[list[str], dict[str, Any]]] = []
    for op_name in field.ops:
        shape = _value(field, op_name)
        same = next((ops for ops, s in shapes if s == shape), None)
        if same is None:
            shapes.append(([op_name], shape))
        else:
            same.append(op_name)
    alternatives = [{"properties": {"op": {"type": "string", "enum": ops}, "value": shape}} for ops, shape in shapes]
    then = {"description": FIELD_DOCS.get(name, ""), **(alternatives[0] if len(alternatives) == 1 else {"anyOf": alternatives})}
    return {"if": {"properties": {"field": {"const": name}}}, "then": then}


def _choices(field: Field) -> str:
    if field.choices:
        return ", ".join(map(str, field.choices))
    return f"{field.bounds[0]}–{field.bounds[1]}" if field.bounds else _KIND_TEXT[field.kind]


_FIELD_TABLE = "\n".join(
    ["| field | ops | value | meaning |", "| --- | --- | --- | --- |"]
    + [f"| `{name}` | {', '.join(f.ops)} | {_choices(f)} | {FIELD_DOCS.get(name, '')} |" for name, f in FIELDS.items()]
)
ALL_OPS = sorted({o for f in FIELDS.values() for o in f.ops})

RULE_EXAMPLE = {"and": [
    {"field": "nes", "op": "in", "value": ["S1", "S2"]},
    {"field": "total_spend", "op": "gte", "value": "3000"},
    {"not": {"field": "tag", "op": "has", "value": "VIP"}},
]}

RULE_SCHEMAS: dict[str, Any] = {
    "SegmentRule": {
        "description": (
            "A segment rule: JSON compiled to one SQL condition over members and their RFM/NES stats.\n\n"
            "    node      := {\"and\": [node, …]} | {\"or\": [node, …]} | {\"not\": node} | condition\n"
            "    condition := {\"field\": FIELD, \"op\": OP, \"value\": VALUE}\n\n"
            "A bad rule answers 422 `invalid_rule` with `details.path`, the JSON pointer "
            "of the bad part (e.g. `/and/1/value`) and `details.reason`. Stats fields (RFM, NES, visits, spend, last visit) are "
            "as of the last `POST /api/v1/admin/segments/recompute` (or the nightly job).\n\n"
            f"**Limits.** Nodes nest at most {MAX_DEPTH} levels; one `and`/`or` has at most {MAX_CHILDREN} children; a rule has at "
            f"most {MAX_CONDITIONS} conditions; one `in` list has at most {MAX_IN_VALUES} values and all of a rule's lists "
            f"{MAX_VALUES} together; a text value has at most {MAX_TEXT} characters; dates run from {FIRST_DAY} to {LAST_DAY}. "
            "A rule past a limit answers 422 `rule_too_large` before anything runs, with `details.path`, `details.reason`, "
            "`details.limit` (max_depth, max_children, max_conditions, max_in_values or max_values) and `details.max`.\n\n"
            "**Query time.** Counting, listing, exporting and estimating members by a rule run on PostgreSQL without JIT and "
            "under a statement timeout (`SEGMENT_QUERY_TIMEOUT_MS`, default 10,000 ms); a query that runs out of time answers "
            "503 `query_too_slow` (`details.timeout_ms`): narrow the rule, or try again later."
        ),
        "oneOf": [ref("RuleCondition"), ref("RuleAnd"), ref("RuleOr"), ref("RuleNot")],
        "examples": [RULE_EXAMPLE],
    },
    "RuleAnd": {"type": "object", "description": "Every child matches.", "required": ["and"], "additionalProperties": False,
                "properties": {"and": {"type": "array", "minItems": 1, "maxItems": MAX_CHILDREN, "items": ref("SegmentRule")}}},
    "RuleOr": {"type": "object", "description": "At least one child matches.", "required": ["or"], "additionalProperties": False,
               "properties": {"or": {"type": "array", "minItems": 1, "maxItems": MAX_CHILDREN, "items": ref("SegmentRule")}}},
    "RuleNot": {"type": "object", "description": "The child does not match.", "required": ["not"], "additionalProperties": False,
                "properties": {"not": ref("SegmentRule")}},
    "RuleCondition": {
        "type": "object",
        "description": "One test on a member field. `in` takes a non-empty list, `between` a list [low, high] (both included).\n\n" + _FIELD_TABLE,
        "required": ["field", "op", "value"], "additionalProperties": False,
        "properties": {"field": {"type": "string", "enum": list(FIELDS)}, "op": {"type": "string", "enum": ALL_OPS},
                       "value": {"description": "Depends on field and op (see the table)"}},
        "allOf": [_condition_rule(name, f) for name, f in FIELDS.items()],
        "examples": [{"field": "r_score", "op": "between", "value": [4, 5]}, {"field": "gender", "op": "eq", "value": "female"}],
    },
    "TargetRule": {
        "description": "A segment rule; `null`, `{}` or leaving it out selects every joined member.",
        "anyOf": [ref("SegmentRule"), {"type": "object", "maxProperties": 0}, {"type": "null"}],
    },
}
