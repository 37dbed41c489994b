"""The cashier page's optional item list: rows picked from the catalogue (the price filled in) or
typed, the total put into the amount, sent with the award and stored; a total that does not match
the amount is explained. Screenshot: artifacts/screenshots/cashier-items-*.png."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from models.product import AwardItem
from tests.e2e.test_cashier_page import _chromium_present, camera, expect, look_up, page, shot, sign_in  # noqa: F401  (fixtures)

pytestmark = pytest.mark.timeout(180)


def test_items_picked_from_the_catalogue_go_with_the_award(page, live_url, client, counter, make_member, db, shot):  # noqa: F811
    check = expect()
    counter.rule(amount_per_point="10", stamps_per_visit=0)
    client.put("/api/v1/admin/products", json=[{"sku": "LATTE", "name": "拿鐵", "category": "咖啡", "price": 65}], headers=counter.admin)
    _, number = make_member("陳小姐")
    sign_in(page, f"{live_url}/cashier")
    look_up(page, number)

    page.get_by_text("商品明細（選填）").click()
    rows = page.locator("#itemRows li")
    check(rows).to_have_count(1)
    first = rows.nth(0)
    first.get_by_label("商品代碼").fill("LATTE")
    first.get_by_label("商品代碼").dispatch_event("change")
    check(first.get_by_label("單價")).to_have_value("65")  # the catalogue's price
    check(first.locator(".item-name")).to_have_text("拿鐵")
    first.get_by_label("數量").fill("2")
    page.get_by_role("button", name="＋ 新增品項").click()
    second = rows.nth(1)
    second.get_by_label("商品代碼").fill("CRS01")  # not in the catalogue: typed, kept as an unknown SKU
    second.get_by_label("單價").fill("55")
    check(page.locator("#itemsTotal")).to_have_text("合計 NT$185")

    # a wrong amount is explained with the difference, and nothing is awarded
    page.get_by_label("消費金額").fill("170")
    page.get_by_role("button", name="確認集點").click()
    check(page.locator("#banner")).to_contain_text("差 NT$15.00")
    shot(page, "items-01-mismatch")

    page.get_by_role("button", name="填入合計").click()
    check(page.get_by_label("消費金額")).to_have_value("185")
    page.get_by_role("button", name="確認集點").click()
    check(page.locator("#result")).to_contain_text("+18")
    check(rows).to_have_count(0)  # the next sale starts with no items
    shot(page, "items-02-awarded")
    with db.sessions() as s:
        got = [(i.sku, i.qty, i.unit_price, i.name, i.product_id is not None)
               for i in s.scalars(select(AwardItem).order_by(AwardItem.line_no))]
    assert got == [("LATTE", 2, Decimal("65.00"), "拿鐵", True), ("CRS01", 1, Decimal("55.00"), None, False)]


def test_an_incomplete_row_is_refused_on_the_page(page, live_url, counter, make_member, db):  # noqa: F811
    check = expect()
    _, number = make_member()
    sign_in(page, f"{live_url}/cashier")
    look_up(page, number)
    page.get_by_text("商品明細（選填）").click()
    page.locator("#itemRows li").nth(0).get_by_label("商品代碼").fill("LATTE")  # no price
    page.get_by_label("消費金額").fill("65")
    page.get_by_role("button", name="確認集點").click()
    check(page.locator("#banner")).to_contain_text("第 1 列不完整")
    with db.sessions() as s:
        assert s.scalar(select(AwardItem.id)) is None
