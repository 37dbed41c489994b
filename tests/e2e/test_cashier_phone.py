"""The cashier page looks members up by phone, and starts a pre-member for a phone nobody gave."""
from __future__ import annotations

import re

import pytest

from tests.e2e.cashier_helpers import member_state
from tests.e2e.test_cashier_page import _chromium_present, camera, expect, page, shot, sign_in  # noqa: F401  (fixtures)

pytestmark = pytest.mark.timeout(180)


def type_in(page, value: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("會員編號").fill(value)
    page.get_by_role("button", name="查詢").click()


def test_phone_lookup_and_a_premember_with_its_claim_code(page, live_url, client, counter, make_member, shot):  # type: ignore[no-untyped-def]  # noqa: F811
    check = expect()
    counter.rule(amount_per_point="10", stamps_per_visit=1, card_size=10)
    _, number = make_member("陳小姐")  # joined with 0912345678
    sign_in(page, f"{live_url}/cashier")

    type_in(page, "0912-345-678")
    check(page.locator("#memberName")).to_have_text("陳小姐")
    check(page.locator("#memberNumber")).to_have_text(number)
    check(page.locator("#prememberNote")).to_be_hidden()
    page.get_by_role("button", name="下一位").click()

    type_in(page, "091234")
    check(page.get_by_role("alert")).to_contain_text("手機號碼格式不正確")

    # a phone nobody gave: the page offers a pre-member, and shows its claim code
    type_in(page, "0987654321")
    dialog = page.locator("#confirmDialog")
    check(dialog).to_contain_text("查無此手機號碼的會員")
    page.get_by_role("button", name="建立門市會員").click()
    check(page.locator("#prememberNote")).to_be_visible()
    check(page.locator("#prememberClaimCode")).to_have_text(re.compile(r"^\d{4}-\d{4}$"))
    shot(page, "20-premember")
    pre_no = page.locator("#memberNumber").inner_text()
    page.get_by_label("消費金額").fill("300")
    page.get_by_role("button", name="確認集點").click()
    check(page.locator("#pointCount")).to_have_text("30 點")
    assert member_state(client, counter, pre_no)["balances"] == {"stamps": 0, "points": 30}

    # the same phone again finds the pre-member (no new code shown: only the cashier who made it saw it)
    page.get_by_role("button", name="下一位").click()
    type_in(page, "+886 987 654 321")
    check(page.locator("#memberNumber")).to_have_text(pre_no)
    check(page.locator("#prememberClaimBox")).to_be_hidden()
