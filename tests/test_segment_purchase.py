"""Niche clubs: rule fields over what members bought (bought_category, bought_sku, category_share),
in previews, saved segments and campaigns alike; voided awards' items and purchases older than
the window never count."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from models.segment_rules import RuleError, compile_rule, members_query
from models.shift import void_award
from models.store import Actor
from tests.conftest import ADMIN_TOKEN
from tests.purchase_data import Shop, add_products

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CATALOGUE = {"LATTE": ("拿鐵", "咖啡"), "CROISSANT": ("可頌", "烘焙"), "CAKE": ("蛋糕", "烘焙"), "WINE": ("紅酒", "酒")}


@pytest.fixture
def club(db, clock):  # type: ignore[no-untyped-def]
    """Who bought what (in the 365-day window unless said):
    n1 LATTE 100 + CROISSANT 100 (bakery share 0.5)   n2 CAKE 300 + LATTE 100 (0.75)
    n3 LATTE 200 (0)   n4 CROISSANT 50, 400 days ago only   n5 WINE 500 on a voided receipt, LATTE 100
    n6 bought nothing   n7 an unknown SKU 'X9' 80 (no category: share 0)"""
    with db.transaction() as s:
        add_products(s, CATALOGUE, now=clock.now)
        shop = Shop.open(s, clock.now)
        m = {n: shop.member(n) for n in range(1, 8)}
        shop.buy(m[1].id, [("LATTE", 1, "100.00"), ("CROISSANT", 2, "50.00")], days_ago=20)
        shop.buy(m[2].id, [("CAKE", 1, "300.00")], days_ago=200)
        shop.buy(m[2].id, [("LATTE", 1, "100.00")], days_ago=2)
        shop.buy(m[3].id, [("LATTE", 2, "100.00")], days_ago=30)
        shop.buy(m[4].id, [("CROISSANT", 1, "50.00")], days_ago=400)
        shop.buy(m[5].id, [("LATTE", 1, "100.00")], days_ago=3)
        wine = shop.buy(m[5].id, [("WINE", 1, "500.00")], days_ago=0)
        void_award(s, award_id=wine.id, reason="刷錯卡", actor=Actor(store_id=shop.store.id, kind="staff", role="manager"), now=clock.now)
        shop.buy(m[7].id, [("X9", 1, "80.00")], days_ago=1)
        return {m_.member_no: n for n, m_ in m.items()}


def who(db, clock, club, rule) -> set[int]:  # type: ignore[no-untyped-def]
    with db.sessions() as s:
        return {club[m.member_no] for m in s.scalars(members_query(s, rule, clock.now))}


def test_bought_category_and_sku(db, clock, club):
    assert who(db, clock, club, {"field": "bought_category", "op": "eq", "value": "烘焙"}) == {1, 2}  # n4's is too old
    assert who(db, clock, club, {"field": "bought_category", "op": "in", "value": ["酒", "烘焙"]}) == {1, 2}  # n5's wine was voided
    assert who(db, clock, club, {"field": "bought_category", "op": "eq", "value": "咖啡"}) == {1, 2, 3, 5}
    assert who(db, clock, club, {"field": "bought_sku", "op": "eq", "value": "X9"}) == {7}
    assert who(db, clock, club, {"field": "bought_sku", "op": "in", "value": ["CAKE", "WINE"]}) == {2}
    assert who(db, clock, club, {"not": {"field": "bought_category", "op": "eq", "value": "咖啡"}}) == {4, 6, 7}
    assert who(db, clock, club, {"and": [{"field": "bought_category", "op": "eq", "value": "咖啡"},
                                         {"not": {"field": "bought_category", "op": "eq", "value": "烘焙"}}]}) == {3, 5}


def test_category_share(db, clock, club):
    share = lambda op, v: who(db, clock, club, {"field": "category_share", "op": op, "value": {"category": "烘焙", "share": v}})  # noqa: E731
    assert share("gte", 0.5) == {1, 2}
    assert share("gte", "0.5001") == {2}
    assert share("gte", 0.75) == {2}
    assert share("gte", 0) == {1, 2, 3, 5, 7}  # everyone with spend on items in the window; n4, n6 have no share
    assert share("lte", 0) == {3, 5, 7}
    assert share("lte", "0.5") == {1, 3, 5, 7}
    assert who(db, clock, club, {"not": {"field": "category_share", "op": "gte", "value": {"category": "烘焙", "share": 0.5}}}) == {3, 4, 5, 6, 7}


@pytest.mark.parametrize(("value", "path"), [
    ("烘焙", "/value"), ({"category": "烘焙"}, "/value/share"), ({"category": "", "share": 0.3}, "/value/category"),
    ({"category": "烘焙", "share": 1.5}, "/value/share"), ({"category": "烘焙", "share": True}, "/value/share"),
    ({"category": "烘焙", "share": "0.12345"}, "/value/share"), ({"category": "烘焙", "share": 0.3, "days": 30}, "/value/days"),
])
def test_a_bad_share_names_its_part(db, clock, value, path):  # type: ignore[no-untyped-def]
    with db.sessions() as s, pytest.raises(RuleError) as caught:
        compile_rule(s, {"field": "category_share", "op": "gte", "value": value}, clock.now)
    assert caught.value.details["path"] == path


def test_the_schema_agrees_with_the_compiler_on_purchase_rules(client):
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    doc = client.get("/openapi.json").get_json()
    registry = Registry().with_resource("urn:api", Resource.from_contents(doc, default_specification=DRAFT202012))
    validator = Draft202012Validator({"$ref": "urn:api#/components/schemas/SegmentRule"}, registry=registry)
    good = [{"field": "bought_category", "op": "in", "value": ["烘焙"]}, {"field": "bought_sku", "op": "eq", "value": "LATTE"},
            {"field": "category_share", "op": "lte", "value": {"category": "酒", "share": 1}}]
    bad = [{"field": "bought_category", "op": "gte", "value": "烘焙"}, {"field": "category_share", "op": "eq", "value": {"category": "酒", "share": 0.1}},
           {"field": "category_share", "op": "gte", "value": {"category": "酒"}}, {"field": "category_share", "op": "gte", "value": {"category": "酒", "share": 2}}]
    assert all(validator.is_valid(r) for r in good) and not any(validator.is_valid(r) for r in bad)


def test_segments_and_campaigns_take_purchase_rules(client, db, clock, club):
    rule = {"field": "bought_category", "op": "eq", "value": "烘焙"}
    preview = client.post("/api/v1/admin/segments/preview", json={"rule": rule}, headers=ADMIN)
    assert preview.status_code == 200 and preview.get_json()["count"] == 2
    saved = client.post("/api/v1/admin/segments", json={"name": "烘焙同好會", "rule": rule}, headers=ADMIN)
    assert saved.status_code == 201, saved.get_json()
    made = client.post("/api/v1/admin/campaigns", json={"name": "麵包日", "kind": "text", "content": {"text": "新品可頌"},
                                                        "rule": {"field": "category_share", "op": "gte", "value": {"category": "烘焙", "share": 0.6}}},
                       headers=ADMIN)
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["estimate"]["audience"] == 1  # n2 alone


BASKET = st.lists(st.tuples(st.sampled_from(["烘焙", "咖啡", None]), st.integers(1, 3), st.integers(0, 50_000)), max_size=4)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(baskets=st.lists(BASKET, min_size=1, max_size=5), share=st.integers(0, 10_000), op=st.sampled_from(["gte", "lte"]))
def test_category_share_agrees_with_python(db, clock, baskets, share, op):  # type: ignore[no-untyped-def]
    """Random members' line items (prices in cents, some without a category): the rule picks exactly
    those whose bakery share of spend, computed here in Decimal, is ≥ (or ≤) the share."""
    value = Decimal(share).scaleb(-4)
    with db.sessions() as s:
        shop = Shop.open(s, clock.now, code="HYP")
        add_products(s, {"C-烘焙": ("麵包", "烘焙"), "C-咖啡": ("咖啡", "咖啡")}, now=clock.now)
        expected, ids = set(), {}
        for n, basket in enumerate(baskets):
            m = shop.member(n + 1)
            ids[m.id] = n
            if basket:
                shop.buy(m.id, [(f"C-{c}" if c else "NONE", q, f"{Decimal(p).scaleb(-2):.2f}") for c, q, p in basket])
            total = sum((Decimal(p).scaleb(-2) * q for _, q, p in basket), Decimal(0))
            inside = sum((Decimal(p).scaleb(-2) * q for c, q, p in basket if c == "烘焙"), Decimal(0))
            if total > 0 and (inside / total >= value if op == "gte" else inside / total <= value):
                expected.add(n)
        rule = {"field": "category_share", "op": op, "value": {"category": "烘焙", "share": str(value)}}
        got = {ids[m.id] for m in s.scalars(members_query(s, rule, clock.now))}
        s.rollback()
    assert got == expected
