"""Earning bonuses per product or category: the pure arithmetic (no database), the rule's
validation, and one award through the API whose ledger explains the bonus."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from models.bonus import parse_bonuses, split_capped
from models.errors import InvalidInput
from models.items import Line
from models.ledger import LedgerEntry
from models.rule import DEFAULTS, EarningRule, earn_for
from tests.conftest import all_text


def rule(**changes) -> EarningRule:  # type: ignore[no-untyped-def]
    return EarningRule(**{**DEFAULTS, **changes})


LATTE = Line(sku="LATTE", qty=2, unit_price=Decimal(65), name="拿鐵", category="咖啡")
NEW = Line(sku="NEW01", qty=1, unit_price=Decimal(120), name="黑糖拿鐵", category="新品")
CAKE = Line(sku="CAKE", qty=3, unit_price=Decimal(90), name="蛋糕", category="新品")


def test_per_unit_points_on_a_sku():
    got = earn_for(rule(bonuses=[{"sku": "LATTE", "points": 1}]), amount=Decimal(250), visit=False, items=[LATTE, NEW])
    assert (got.stamps, got.points) == (0, 25)
    assert (got.bonus.points, got.bonus.stamps, got.bonus.on) == (2, 0, ("拿鐵",))


def test_per_unit_stamps_on_a_category():
    got = earn_for(rule(bonuses=[{"category": "新品", "stamps": 1}]), amount=Decimal(520), visit=True, items=[LATTE, NEW, CAKE])
    assert got.stamps == 1 and got.bonus.stamps == 4 and got.bonus.points == 0 and got.bonus.on == ("新品",)


def test_a_category_multiplier_doubles_the_points_its_lines_earn():
    # NT$10 a point: 新品 lines are 120 + 270 = 390 → 39 points, doubled: 39 more; the latte earns only its 13
    got = earn_for(rule(bonuses=[{"category": "新品", "multiplier": "2"}]), amount=Decimal(520), visit=False, items=[LATTE, NEW, CAKE])
    assert (got.points, got.bonus.points) == (52, 39)
    # with a tier's 1.5×: the lines' points are 58.5, the bonus (2 − 1) × 58.5 rounded down
    tiered = earn_for(rule(bonuses=[{"category": "新品", "multiplier": "2"}]), amount=Decimal(520), visit=False, items=[NEW, CAKE],
                      multiplier=Decimal("1.5"))
    assert tiered.bonus.points == 58
    half = earn_for(rule(bonuses=[{"sku": "NEW01", "multiplier": "1.5"}]), amount=Decimal(120), visit=False, items=[NEW])
    assert (half.points, half.bonus.points) == (12, 6)


def test_bonuses_add_up_and_need_what_they_name():
    bonuses = [{"sku": "LATTE", "points": 1}, {"category": "咖啡", "points": 2}, {"sku": "NONE", "points": 50}]
    got = earn_for(rule(bonuses=bonuses), amount=Decimal(130), visit=False, items=[LATTE])
    assert got.bonus.points == 2 + 4 and got.bonus.on == ("拿鐵", "咖啡")
    assert earn_for(rule(bonuses=bonuses), amount=Decimal(130), visit=False).bonus.points == 0  # no items
    assert earn_for(rule(), amount=Decimal(130), visit=False, items=[LATTE]).bonus.points == 0  # no bonuses
    unknown_category = Line(sku="X", qty=1, unit_price=Decimal(10), category=None)
    assert earn_for(rule(bonuses=[{"category": "新品", "points": 5}]), amount=Decimal(10), visit=False, items=[unknown_category]).bonus.points == 0


def test_below_the_minimum_spend_and_without_a_points_rate():
    bonuses = [{"sku": "LATTE", "points": 1}, {"category": "咖啡", "multiplier": 3}]
    below = earn_for(rule(bonuses=bonuses, min_spend=Decimal(200)), amount=Decimal(130), visit=False, items=[LATTE])
    assert (below.points, below.bonus.points) == (0, 0)
    no_rate = earn_for(rule(bonuses=bonuses, amount_per_point=None), amount=Decimal(130), visit=False, items=[LATTE])
    assert (no_rate.points, no_rate.bonus.points) == (0, 2)  # per-unit points stand; nothing to multiply
    visit_only = earn_for(rule(bonuses=bonuses), amount=None, visit=True, items=[LATTE])
    assert (visit_only.stamps, visit_only.bonus.points) == (1, 2)


def test_caps_take_from_the_bonus_first():
    assert split_capped(10, 5, 12) == (10, 2)
    assert split_capped(10, 5, 8) == (8, 0)
    assert split_capped(10, 5, 15) == (10, 5)


@pytest.mark.parametrize("bad, key", [
    ([{"sku": "LATTE"}], "points"), ([{"points": 1}], "sku"), ([{"sku": "A", "category": "B", "points": 1}], "sku"),
    ([{"sku": "A", "points": 1, "stamps": 1}], "points"), ([{"sku": "A", "points": 0}], "points"), ([{"sku": "A", "points": 1.5}], "points"),
    ([{"sku": "A", "multiplier": 1}], "multiplier"), ([{"sku": "A", "multiplier": "11"}], "multiplier"),
    ([{"sku": "A", "multiplier": 1.5}], "multiplier"), ([{"sku": "", "points": 1}], "sku"), ([{"sku": "A", "points": 1, "x": 2}], "x"),
])
def test_bad_bonuses_name_their_index_and_key(bad, key):
    with pytest.raises(InvalidInput) as caught:
        parse_bonuses([{"sku": "OK", "points": 1}, *bad])
    assert caught.value.code == "invalid_rule"
    assert caught.value.details == {"field": "bonuses", "index": 1, "key": key}


def test_bonuses_are_stored_normalised():
    assert parse_bonuses([{"sku": " LATTE ", "points": 1}, {"category": "新品", "multiplier": 2}]) == [
        {"sku": "LATTE", "points": 1}, {"category": "新品", "multiplier": "2"}]
    assert parse_bonuses([]) is None and parse_bonuses(None) is None


def test_an_award_writes_its_bonus_as_its_own_ledger_entry(client, counter, line, make_member, db):
    rule_json = counter.rule(bonuses=[{"sku": "LATTE", "points": 1}, {"category": "新品", "multiplier": 2}])
    assert rule_json["bonuses"] == [{"sku": "LATTE", "points": 1}, {"category": "新品", "multiplier": "2"}]
    bad = client.put("/api/v1/admin/earning-rule", json={"bonuses": [{"sku": "LATTE", "points": -1}]}, headers=counter.admin)
    assert bad.status_code == 422 and bad.get_json()["details"] == {"field": "bonuses", "index": 0, "key": "points"}
    client.put("/api/v1/admin/products", json=[{"sku": "NEW01", "name": "黑糖拿鐵", "category": "新品"}], headers=counter.admin)
    user, number = make_member()
    items = [{"sku": "LATTE", "name": "拿鐵", "qty": 2, "unit_price": 65}, {"sku": "NEW01", "qty": 1, "unit_price": 120}]
    resp = client.post("/api/v1/awards", json={"member_no": number, "receipt_id": "R-1", "amount": 250, "items": items}, headers=counter.cashier)
    assert resp.status_code == 201, resp.get_json()
    # 25 points for NT$250, +2 for two lattes, +12 for 黑糖拿鐵 (新品, NT$120 doubled)
    assert resp.get_json()["award"]["points"] == 39 and resp.get_json()["member"]["balances"]["points"] == 39
    with db.sessions() as s:
        entries = [(e.reason, e.currency, e.amount, e.note) for e in s.scalars(select(LedgerEntry).order_by(LedgerEntry.id))]
    assert entries == [("award", "point", 25, None), ("bonus", "point", 14, "拿鐵、新品")]
    replay = client.post("/api/v1/awards", json={"member_no": number, "receipt_id": "R-1", "amount": 250, "items": items}, headers=counter.cashier)
    assert replay.status_code == 200 and replay.get_json()["award"]["points"] == 39
    line.say(user, "集點卡")
    text = all_text(line.last(user))
    assert "商品加碼：拿鐵、新品" in text and "+14" in text and "消費集點：拿鐵 ×2、黑糖拿鐵 ×1" in text


def test_a_daily_cap_counts_bonuses(client, counter, make_member, db):
    counter.rule(bonuses=[{"sku": "LATTE", "points": 10}], daily_cap_points=30)
    _, number = make_member()
    items = [{"sku": "LATTE", "qty": 2, "unit_price": 65}]
    first = client.post("/api/v1/awards", json={"member_no": number, "receipt_id": "R-1", "amount": 130, "items": items}, headers=counter.cashier)
    assert first.get_json()["award"]["points"] == 30 and first.get_json()["award"]["capped"] is True  # 13 + 20, capped at 30
    second = client.post("/api/v1/awards", json={"member_no": number, "receipt_id": "R-2", "amount": 130, "items": items}, headers=counter.cashier)
    assert second.get_json()["award"]["points"] == 0
    with db.sessions() as s:
        got = [(e.reason, e.amount) for e in s.scalars(select(LedgerEntry).order_by(LedgerEntry.id))]
    assert got == [("award", 13), ("bonus", 17)]


def test_voiding_an_award_takes_back_its_bonus(client, counter, make_member, db):
    counter.rule(bonuses=[{"sku": "LATTE", "points": 1}])
    _, number = make_member()
    items = [{"sku": "LATTE", "qty": 2, "unit_price": 65}]
    award_id = client.post("/api/v1/awards", json={"member_no": number, "receipt_id": "R-1", "amount": 130, "items": items},
                           headers=counter.cashier).get_json()["award"]["id"]
    voided = client.post(f"/api/v1/awards/{award_id}/void", json={"reason": "打錯"}, headers=counter.manager)
    assert voided.status_code == 201, voided.get_json()
    assert client.post("/api/v1/scan", json={"member_no": number}, headers=counter.cashier).get_json()["balances"]["points"] == 0
