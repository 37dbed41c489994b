"""The cashier page on a phone (390×844) after an award: a compact result with the amount field and
確認集點 above the 下一位 bar (the next sale starts without scrolling); the repeat-visit warning; the
day's transactions and shift summary, a manager's void; a receipt claim QR for a sale without a card.
Screenshots: artifacts/screenshots/cashier-today-*.png."""
from __future__ import annotations

import re

import pytest

from tests.e2e.test_cashier_page import _chromium_present, camera, expect, look_up, page, shot, sign_in  # noqa: F401  (fixtures)

pytestmark = pytest.mark.timeout(180)


def layout(page) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """Where the pieces of the next sale are, in viewport pixels."""
    return page.evaluate("""() => {
        const box = (sel) => { const r = document.querySelector(sel).getBoundingClientRect(); return { top: r.top, bottom: r.bottom }; };
        return { scrollY, height: innerHeight, header: box('.top'), result: box('#result'), amount: box('#amount'),
                 confirm: box('#confirmBtn'), bar: box('#memberView .next-bar #nextBtn') };
    }""")


def assert_next_sale_in_view(page) -> None:  # type: ignore[no-untyped-def]
    at = layout(page)
    assert at["result"]["top"] >= at["header"]["bottom"] - 1, at  # the result is not under the header
    assert at["amount"]["top"] >= at["header"]["bottom"], at
    assert at["confirm"]["bottom"] <= at["bar"]["top"], at  # 確認集點 is not under the 下一位 bar
    assert at["bar"]["bottom"] <= at["height"] + 1, at


def test_after_an_award_the_next_sale_starts_without_scrolling(page, live_url, client, counter, make_member, shot):  # noqa: F811
    check = expect()
    counter.rule(amount_per_point="10", stamps_per_visit=1, repeat_visit_minutes=10)
    _, number = make_member("陳小姐")
    sign_in(page, f"{live_url}/cashier")
    look_up(page, number)
    page.get_by_label("消費金額").fill("120")
    page.get_by_label("來店").check()
    page.get_by_role("button", name="確認集點").click()
    check(page.locator("#result")).to_contain_text("+12")
    check(page.locator("#result")).not_to_contain_text("注意")
    assert_next_sale_in_view(page)
    shot(page, "today-01-after-award")

    # the next sale, same member, two minutes later at most: typed and confirmed where it is
    before = layout(page)["scrollY"]
    page.get_by_label("消費金額").fill("80")
    page.get_by_role("button", name="確認集點").click()
    check(page.locator("#result")).to_contain_text("+8")
    check(page.locator("#result")).to_contain_text(re.compile(r"注意：此會員 0 分鐘前才集點過（10 分鐘內重複集點）"))
    check(page.locator("#result")).to_have_class(re.compile("warn"))
    assert layout(page)["scrollY"] == before
    assert_next_sale_in_view(page)
    shot(page, "today-02-repeat-visit-warning")


def sign_in_manager(page, url: str) -> None:  # type: ignore[no-untyped-def]
    check = expect()
    page.goto(url)
    page.get_by_label("帳號").fill("manager-tpe01")
    page.get_by_label("密碼").fill("correct horse")
    page.get_by_role("button", name="登入").click()
    check(page.locator("#staffName")).to_contain_text("manager-tpe01")


def test_todays_list_shift_summary_and_a_managers_void(page, live_url, client, counter, make_member, clock, shot):  # noqa: F811
    check = expect()
    counter.rule(amount_per_point="10", stamps_per_visit=1)
    _, a = make_member("陳小姐")
    _, b = make_member("林先生")
    assert counter.award(a, "RCPT-0001", amount="120", visit=True).status_code == 201
    clock.advance(minutes=5)
    assert counter.award(b, "RCPT-0002", amount="300").status_code == 201
    sign_in_manager(page, f"{live_url}/cashier")
    rows = page.get_by_role("list", name="今日交易明細").locator("li")
    check(rows).to_have_count(2)
    check(rows.nth(0)).to_contain_text("NT$300・+30 點")  # newest first
    check(rows.nth(0)).to_contain_text("林先生")
    check(rows.nth(1)).to_contain_text("NT$120・來店・+1 章・+12 點")
    summary = page.get_by_label("交班統計")
    check(summary).to_contain_text("集點2 筆")
    check(summary).to_contain_text("營業額NT$420")
    check(summary).to_contain_text("送出點數42")
    page.locator("#todayBox").scroll_into_view_if_needed()
    shot(page, "today-03-today")

    rows.nth(0).get_by_role("button", name="作廢").click()
    rows.nth(0).get_by_label("作廢原因").fill("結帳錯誤")
    rows.nth(0).get_by_role("button", name="確認作廢").click()
    page.get_by_role("dialog").get_by_role("button", name="確認作廢").click()
    check(page.locator("#banner")).to_contain_text("已作廢：收回 0 章、30 點")
    check(rows.nth(0)).to_contain_text("已作廢")
    check(summary).to_contain_text("營業額NT$120")
    check(summary).to_contain_text("作廢1 筆")
    shot(page, "today-04-voided")
    balances = client.post("/api/v1/scan", json={"member_no": b}, headers=counter.cashier).get_json()["balances"]
    assert balances == {"stamps": 0, "points": 0}


def test_a_cashier_sees_no_void_and_shows_a_receipt_claim_qr(page, live_url, client, counter, make_member, shot):  # noqa: F811
    check = expect()
    _, a = make_member("陳小姐")
    assert counter.award(a, "RCPT-0001", amount="120", visit=True).status_code == 201
    sign_in(page, f"{live_url}/cashier")
    rows = page.get_by_role("list", name="今日交易明細").locator("li")
    check(rows).to_have_count(1)
    check(rows.nth(0).get_by_role("button", name="作廢")).to_have_count(0)  # a cashier does not void

    box = page.locator("#claimBox")
    box.get_by_label("收據金額").fill("250")
    box.get_by_role("button", name="顯示收據領取碼").click()
    check(page.locator("#claimShown")).to_be_visible()
    code = page.locator("#claimCode").inner_text()
    assert re.fullmatch(r"[A-Z0-9-]{6,}", code), code
    check(page.locator("#claimWhat")).to_have_text("NT$250")
    page.wait_for_function("() => { const i = document.getElementById('claimQr'); return i.complete && i.naturalWidth > 100; }")
    page.locator("#claimShown").scroll_into_view_if_needed()
    shot(page, "today-05-claim-qr")
    assert client.get(f"/claims/{code}.png").status_code == 200
