"""The chat simulator in a real browser: a member opens 兌換目錄 from the stamp card, edits 會員資料
(a bad phone, then a good one; the birthday once) and asks for 門市據點 with its location message."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from models.member import Member

try:
    from playwright.sync_api import expect as check
except ImportError:  # the ``browser`` fixture skips (or fails under REQUIRE_SERVICES=1) with the reason
    check = None  # type: ignore[assignment]

pytestmark = pytest.mark.timeout(150)


def send(page, words: str) -> None:  # type: ignore[no-untyped-def]
    box = page.get_by_placeholder("輸入訊息")
    box.fill(words)
    box.press("Enter")


def test_catalogue_profile_edit_and_stores(page, live_url, db, counter, client, screenshot):  # type: ignore[no-untyped-def]
    counter.rule(amount_per_point="10", stamps_per_visit=1)
    for name, cost in (("手工餅乾", 30), ("拿鐵", 60), ("蛋糕", 120)):
        assert client.post("/api/v1/admin/rewards", json={"name": name, "points_cost": cost}, headers=counter.admin).status_code == 201
    assert client.put(f"/api/v1/admin/stores/{counter.code}", headers=counter.admin, json={
        "address": "台北市信義區松高路 1 號", "hours": "每日 07:30–20:00", "phone": "02-2720-1234",
        "latitude": 25.0392, "longitude": 121.5677}).status_code == 200

    page.goto(f"{live_url}/simulator")
    chat = page.locator("#chat")
    page.get_by_role("button", name="立即加入會員").click()
    page.get_by_role("button", name="同意並繼續").click()
    page.get_by_role("button", name="選擇生日").click()
    page.locator("#pickerInput").fill("1990-05-20")
    page.get_by_role("button", name="確定").click()
    check(chat).to_contain_text("請輸入您的手機號碼")
    page.locator("#quick").get_by_role("button", name="略過").click()
    page.locator("#quick").get_by_role("button", name="略過").click()
    check(chat).to_contain_text("歡迎成為 好日子咖啡 會員")
    user_id = page.evaluate("JSON.parse(localStorage.getItem('lineSimulator.user')).userId")
    with db.sessions() as s:
        number = s.scalar(select(Member.member_no).where(Member.line_user_id == user_id))
    assert counter.award(number, "R-1", amount="350").status_code == 201  # 35 points

    # 兌換目錄 from the stamp card's button
    send(page, "集點卡")
    stamp_card = page.locator(".fx-bubble").filter(has_text="集點卡").last
    stamp_card.get_by_role("button", name="兌換目錄").click()
    check(chat).to_contain_text("目前點數 35 點，有 1 項可以兌換")
    cookie = page.locator(".fx-bubble").filter(has_text="手工餅乾").last
    check(cookie).to_contain_text("可兌換")
    check(page.locator(".fx-bubble").filter(has_text="拿鐵").last).to_contain_text("還差 25 點")
    check(page.locator(".fx-bubble").filter(has_text="蛋糕").last).to_contain_text("還差 85 點")
    cookie.scroll_into_view_if_needed()
    screenshot(page, "catalogue")

    # 會員資料: a bad phone is asked again, a good one is saved; the birthday once
    send(page, "會員資料")
    profile = page.locator(".fx-bubble").filter(has_text="我的會員資料").last
    check(profile).not_to_contain_text("結帳時告訴門市人員")
    profile.get_by_role("button", name="修改手機").click()
    check(chat).to_contain_text("請輸入新的手機號碼")
    send(page, "12345")
    check(chat).to_contain_text("手機號碼格式不太對")
    send(page, "0987654321")
    check(chat).to_contain_text("資料已更新")
    check(page.locator(".fx-bubble").filter(has_text="我的會員資料").last).to_contain_text("0987-***-321")

    page.locator(".fx-bubble").filter(has_text="我的會員資料").last.get_by_role("button", name="修改生日").click()
    page.locator(".fx-bubble").filter(has_text="生日只能修改一次").last.get_by_role("button", name="選擇生日").click()
    page.locator("#pickerInput").fill("1991-03-04")
    page.locator("#picker").get_by_role("button", name="確定").click()
    confirm = page.locator(".fx-bubble").filter(has_text="確定將生日改為 1991/03/04").last
    check(confirm).to_be_visible()
    screenshot(page, "profile-birthday-confirm")
    confirm.get_by_role("button", name="確定").click()
    check(chat).to_contain_text("生日已更新為 1991/03/04")
    latest = page.locator(".fx-bubble").filter(has_text="我的會員資料").last
    check(latest).to_contain_text("1991/03/04")
    check(latest.get_by_role("button", name="修改生日")).to_have_count(0)
    latest.scroll_into_view_if_needed()
    screenshot(page, "profile-edited")
    with db.sessions() as s:
        member = s.scalars(select(Member).where(Member.line_user_id == user_id)).one()
        assert member.phone == "0987654321" and str(member.birthday_on) == "1991-03-04" and member.birthday_changed_at is not None

    # 門市據點: the store's card, then its LINE location message
    send(page, "門市據點")
    store = page.locator(".fx-bubble").filter(has_text="台北市信義區松高路 1 號").last
    check(store).to_contain_text("每日 07:30–20:00")
    check(store.get_by_role("button", name="撥打電話")).to_be_visible()
    store.get_by_role("button", name="傳送位置").click()
    check(chat.locator(".bubble").filter(has_text="📍 台北信義店").last).to_contain_text("台北市信義區松高路 1 號")
    check(page.locator("#status")).to_be_hidden()  # every webhook answered 200
    screenshot(page, "stores-location")
