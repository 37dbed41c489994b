"""Member data rights in real browsers: an owner downloads a member's data and erases them from the
console's member page, which then shows the tombstone (figures kept, nothing personal, nothing to
change); the cashier page scanning that member's card, or typing their number, is refused."""
from __future__ import annotations

import json

import pytest

from tests.e2e.admin_helpers import console, expect, make_account, sign_in  # noqa: F401 - fixtures
from tests.e2e.cashier_helpers import card_token, qr_png, write_y4m
from tests.e2e.test_cashier_page import _chromium_present, camera, page, shot  # noqa: F401 - fixtures
from tests.e2e.test_cashier_page import sign_in as cashier_sign_in

pytestmark = pytest.mark.timeout(180)
ERASED = "這位會員已刪除會員資料"


def test_owner_exports_then_erases_from_the_member_page(console, live_url, app, client, counter, make_member, db):  # noqa: F811
    check = expect()
    counter.rule(amount_per_point="10", stamps_per_visit=1)
    _, number = make_member("周美玲")
    assert counter.award(number, "R-1", amount=300, visit=True).status_code == 201
    make_account(app, role="owner")
    sign_in(console, live_url, f"/admin/members/{number}")
    check(console.locator("#memberName")).to_have_text("周美玲")

    with console.expect_download() as got:
        console.locator("#exportMember").click()
    data = json.loads(got.value.path().read_text(encoding="utf-8"))
    assert data["profile"]["display_name"] == "周美玲" and data["balances"] == {"stamp": 1, "point": 30}

    console.locator("#eraseMember").click()
    dialog = console.locator("#dialog")
    check(dialog).to_contain_text("無法復原")
    console.locator("#dialogOk").click()  # no reason yet: the form refuses, the dialog stays
    check(dialog).to_be_visible()
    check(console.locator("#erasedNote")).to_have_count(0)
    dialog.get_by_label("原因").fill("本人於信義店臨櫃申請")
    console.locator("#dialogOk").click()

    check(console.locator("#erasedNote")).to_contain_text("個人資料已於")
    check(console.locator("#memberName")).to_have_text("未提供")
    check(console.locator(".page-head .badge.bad").first).to_have_text("已刪除")
    check(console.locator("#stampBalance")).to_have_text("1")  # the figures stay
    check(console.locator("#pointBalance")).to_have_text("30")
    check(console.locator("#eraseMember")).to_have_count(0)
    check(console.locator("#exportMember")).to_have_count(0)
    check(console.get_by_role("button", name="確認調整")).to_have_count(0)
    check(console.locator("main")).not_to_contain_text("周美玲")
    check(console.locator("main")).not_to_contain_text("0912345678")

    console.goto(f"{live_url}/admin/members?q={number}")  # gone from the list and the search
    check(console.locator("main")).to_contain_text("找不到符合的會員")
    check(console.locator("main")).to_contain_text("共 0 位會員")


def test_cashier_page_refuses_an_erased_members_card_and_number(page, live_url, client, counter, line, make_member, camera):  # noqa: F811
    check = expect()
    counter.rule(stamps_per_visit=1)
    user, number = make_member("吳先生")
    write_y4m(camera, qr_png(client, card_token(line, user)))  # the card, shown a minute after the erasure
    assert client.post(f"/api/v1/admin/members/{number}/erase", json={"reason": "臨櫃申請"}, headers=counter.admin).status_code == 200

    cashier_sign_in(page, f"{live_url}/cashier")
    page.get_by_role("button", name="掃描會員 QR").click()
    check(page.get_by_role("alert")).to_contain_text(ERASED)
    check(page.locator("#memberView")).to_be_hidden()

    page.get_by_label("會員編號").fill(number)
    page.get_by_role("button", name="查詢").click()
    check(page.get_by_role("alert")).to_contain_text(ERASED)
    check(page.locator("#memberView")).to_be_hidden()
