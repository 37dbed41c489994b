"""Issue 23 (1, 2) on /cashier, phone size: a coupon's QR (filmed by the fake camera) or its typed
code opens the coupon: value, conditions, expiry, state and member; the amount is asked for where a
minimum spend applies; it is redeemed once (the member gets a push), and a manager can void the
redemption once. Stamps are 章 on the page. Screenshots: artifacts/screenshots/cashier-2x-*.png."""
from __future__ import annotations

import re

import pytest

from tests.conftest import all_text
from tests.e2e.cashier_helpers import member_state, write_y4m
from tests.e2e.test_cashier_page import CSP_VIOLATIONS, _chromium_present, camera, expect, page, shot, sign_in  # noqa: F401 - fixtures

pytestmark = pytest.mark.timeout(180)


def make_coupon(client, counter, line, user: str, number: str, **template) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A coupon issued by hand; returns (its QR token as the member's carousel carries it, its code)."""
    body = {"name": "滿 200 折 50", "kind": "amount_off", "value": 50, "min_spend": 200, "valid_days": 30, **template}
    tpl = client.post("/api/v1/admin/coupon-templates", json=body, headers=counter.admin).get_json()
    issued = client.post(f"/api/v1/admin/coupon-templates/{tpl['id']}/issue", json={"member_no": number}, headers=counter.admin)
    assert issued.status_code == 201, issued.get_json()
    line.say(user, "我的優惠券")
    token = re.search(r"/qr/coupon/([^\"]+)\.png", all_text(line.last(user))).group(1)
    return token, issued.get_json()["coupon"]["code"]


def coupon_png(client, token: str) -> bytes:  # type: ignore[no-untyped-def]
    resp = client.get(f"/qr/coupon/{token}.png")
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    return resp.data


def sign_in_as(page, url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    check = expect()
    page.goto(url)
    page.get_by_label("帳號").fill(username)
    page.get_by_label("密碼").fill("correct horse")
    page.get_by_role("button", name="登入").click()
    check(page.locator("#staffName")).to_contain_text(username)


def test_scan_a_coupon_qr_and_redeem_it_with_the_minimum_spend(page, live_url, client, counter, line, make_member, camera, shot, fake_line):  # type: ignore[no-untyped-def]
    check = expect()
    user, number = make_member("王小美")
    token, code = make_coupon(client, counter, line, user, number)
    page.add_init_script(CSP_VIOLATIONS)
    sign_in(page, f"{live_url}/cashier")
    write_y4m(camera, coupon_png(client, token))
    page.get_by_role("button", name="掃描會員 QR").click()  # the member holds up the coupon, not the card

    view = page.locator("#couponView")
    check(view).to_be_visible()
    check(page.get_by_role("alert")).to_be_hidden()  # no 「這不是有效的會員卡 QR 碼」
    check(page.locator("#couponName")).to_have_text("滿 200 折 50")
    check(page.locator("#couponCodeShown")).to_have_text(code)
    check(page.locator("#couponState")).to_have_text("可使用")
    check(page.locator("#couponValue")).to_have_text("折抵 NT$50")
    terms = page.locator("#couponTerms")
    check(terms).to_contain_text("消費滿 NT$200 可用")
    check(terms).to_contain_text("使用期限至 ")
    check(page.locator("#couponMember")).to_have_text(f"會員：王小美・{number}")
    check(page.get_by_label("結帳金額")).to_be_visible()
    check(page.locator("#couponVoidBox")).to_be_hidden()  # a cashier cannot void
    shot(page, "2x-01-coupon-scanned")

    page.get_by_label("結帳金額").fill("150")
    page.get_by_role("button", name="確認使用").click()
    check(page.get_by_role("alert")).to_contain_text("未達最低消費：此優惠券需消費滿 NT$200")
    check(page.locator("#couponState")).to_have_text("可使用")
    shot(page, "2x-02-coupon-min-spend")

    before = len(fake_line.messages_to(user))
    page.get_by_label("結帳金額").fill("320")
    page.get_by_role("button", name="確認使用").dblclick()  # a double tap redeems once
    result = page.locator("#couponResult")
    check(result).to_contain_text("優惠券已使用")
    check(result).to_contain_text("結帳 NT$320")
    check(page.locator("#couponState")).to_have_text("已使用")
    check(terms).to_contain_text("（結帳 NT$320）")
    check(page.locator("#couponRedeemBox")).to_be_hidden()
    check(page.get_by_role("alert")).to_be_hidden()
    page.evaluate("() => getSelection().removeAllRanges()")  # the double tap selected a word
    shot(page, "2x-03-coupon-redeemed")

    pushed = fake_line.messages_to(user)[before:]
    assert len(pushed) == 1 and "已使用優惠券「滿 200 折 50」（折抵 NT$50）" in all_text(pushed[0]["messages"])
    state = client.post("/api/v1/coupons/lookup", json={"code": code}, headers=counter.cashier).get_json()
    assert state["coupon"]["status"] == "redeemed" and state["coupon"]["redeemed_amount"] == "320"

    page.get_by_role("button", name="下一位").click()
    check(page.get_by_role("button", name="掃描會員 QR")).to_be_visible()
    check(view).to_be_hidden()
    assert page.evaluate("window.__cspViolations") == []  # the coupon views keep /cashier's policy


def test_a_manager_types_the_code_and_voids_the_redemption_once(page, live_url, client, counter, line, make_member, shot):  # type: ignore[no-untyped-def]
    check = expect()
    user, number = make_member("林先生")
    token, code = make_coupon(client, counter, line, user, number, name="免費司康", kind="free_item", value=0, item_name="司康", min_spend=0)
    assert client.post("/api/v1/coupons/redeem", json={"token": token}, headers=counter.cashier).status_code == 200
    sign_in_as(page, f"{live_url}/cashier", "manager-tpe01")

    page.get_by_label("優惠券代碼").fill(code.lower())
    page.get_by_role("button", name="查看").click()
    check(page.locator("#couponName")).to_have_text("免費司康")
    check(page.locator("#couponValue")).to_have_text("免費兌換 司康")
    check(page.locator("#couponState")).to_have_text("已使用")
    check(page.locator("#couponTerms")).to_contain_text("無最低消費")
    check(page.locator("#couponTerms")).to_contain_text("已於 ")
    check(page.locator("#couponRedeemBox")).to_be_hidden()
    void_box = page.locator("#couponVoidBox")
    check(void_box).to_be_visible()

    page.get_by_role("button", name="作廢此次使用").click()
    check(page.get_by_role("alert")).to_contain_text("請填寫作廢原因")
    page.get_by_label("作廢原因").fill("顧客取消交易")
    shot(page, "2x-04-coupon-void")
    page.get_by_role("button", name="作廢此次使用").click()
    dialog = page.get_by_role("dialog")
    check(dialog).to_contain_text("作廢「免費司康」的這次使用")
    dialog.get_by_role("button", name="確認作廢").click()
    check(page.locator("#couponResult")).to_contain_text("已作廢此次使用")
    check(page.locator("#couponState")).to_have_text("可使用")
    check(void_box).to_be_hidden()
    check(page.get_by_label("結帳金額")).to_be_hidden()  # no minimum spend: no amount asked
    shot(page, "2x-05-coupon-voided")

    page.get_by_role("button", name="確認使用").click()
    check(page.locator("#couponResult")).to_contain_text("優惠券已使用")
    check(page.locator("#couponState")).to_have_text("已使用")
    check(void_box).to_be_hidden()  # voided once already: this redemption stands

    audit = client.get("/api/v1/admin/audit", headers=counter.admin).get_json()
    assert any(e["details"].get("reason") == "顧客取消交易" for e in audit["entries"] if "void-redemption" in e["action"]), audit

    page.get_by_role("button", name="下一位").click()
    page.get_by_label("優惠券代碼").fill("ZZZZZZZZZZ")
    page.get_by_role("button", name="查看").click()
    check(page.get_by_role("alert")).to_contain_text("查無此優惠券")


def test_stamps_are_zhang_on_the_cashier_page(page, live_url, client, counter, make_member, shot):  # type: ignore[no-untyped-def]
    check = expect()
    counter.rule(amount_per_point="10", stamps_per_visit=1, card_size=8, reward_name="免費拿鐵")
    _, number = make_member()
    sign_in(page, f"{live_url}/cashier")
    page.get_by_label("會員編號").fill(number)
    page.get_by_role("button", name="查詢").click()
    check(page.locator("#stampLabel")).to_have_text("集章")
    check(page.locator("#cardReward")).to_have_text("集滿 8 章兌換「免費拿鐵」，還差 8 章")
    page.get_by_label("消費金額").fill("350")
    page.locator("label.toggle").click()
    page.get_by_role("button", name="確認集點").click()
    result = page.locator("#result")
    check(result).to_contain_text("+1 章")
    check(result).to_contain_text("+35 點")
    check(result).to_contain_text("目前：集章 1 / 8・點數 35 點")
    check(result).not_to_contain_text("點數+")
    check(page.locator("#cardReward")).to_have_text("集滿 8 章兌換「免費拿鐵」，還差 7 章")
    shot(page, "2x-06-stamps-zhang")
    assert member_state(client, counter, number)["balances"] == {"stamps": 1, "points": 35}


def test_a_lost_answer_never_uses_a_coupon_twice(page, live_url, client, counter, line, make_member, shot):  # type: ignore[no-untyped-def]
    """The redemption reaches the server but its answer is lost: the page finds the coupon used at
    this store and says so; while offline it keeps the coupon and asks for another try."""
    check = expect()
    user, number = make_member()
    _, code = make_coupon(client, counter, line, user, number, min_spend=0)
    sign_in(page, f"{live_url}/cashier")
    page.get_by_label("優惠券代碼").fill(code)
    page.get_by_role("button", name="查看").click()
    check(page.locator("#couponState")).to_have_text("可使用")

    lost: list[int] = []

    def lose_first_answer(route) -> None:  # type: ignore[no-untyped-def]
        if not lost:
            lost.append(route.fetch().status)  # the server redeems it; the answer never reaches the till
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route("**/api/v1/coupons/redeem", lose_first_answer)
    page.get_by_role("button", name="確認使用").click()
    check(page.locator("#couponResult")).to_contain_text("連線曾中斷，但這次使用已完成，未重複使用")
    check(page.locator("#couponState")).to_have_text("已使用")
    check(page.get_by_role("alert")).to_be_hidden()
    assert lost == [200]
    shot(page, "2x-07-coupon-lost-answer")

    # Offline altogether: nothing is used, the page keeps the coupon and asks to try again.
    page.get_by_role("button", name="下一位").click()
    _, other = make_coupon(client, counter, line, user, number, name="第二張", min_spend=0)
    page.get_by_label("優惠券代碼").fill(other)
    page.get_by_role("button", name="查看").click()
    check(page.locator("#couponName")).to_have_text("第二張")
    page.context.set_offline(True)
    page.get_by_role("button", name="確認使用").click()
    check(page.get_by_role("alert")).to_contain_text("網路恢復後請再按一次「確認使用」")
    check(page.locator("#couponState")).to_have_text("可使用")
    page.context.set_offline(False)
    page.get_by_role("button", name="確認使用").click()
    check(page.locator("#couponResult")).to_be_visible()
    check(page.locator("#couponResult")).to_contain_text("優惠券已使用")
    check(page.locator("#couponState")).to_have_text("已使用")
    statuses = [client.post("/api/v1/coupons/lookup", json={"code": c}, headers=counter.cashier).get_json()["coupon"]["status"] for c in (code, other)]
    assert statuses == ["redeemed", "redeemed"]
