"""The chat simulator in a real browser: a newcomer joins as a member from the welcome message.

Runs the real bot on a live loopback port (its LINE calls go to the fake LINE server, which
checks them against the spec) and drives /simulator with Debian's chromium."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from bot.line.wire import to_wire
from handlers.stamps import stamp_grid
from models.member import Member

try:
    from playwright.sync_api import expect as check
except ImportError:  # the ``browser`` fixture skips (or fails under REQUIRE_SERVICES=1) with the reason
    check = None  # type: ignore[assignment]

pytestmark = pytest.mark.timeout(120)

WELCOME = re.compile(r"謝謝您加入好日子咖啡的 LINE 好友")


def simulated_user(page) -> str:  # type: ignore[no-untyped-def]
    return page.evaluate("JSON.parse(localStorage.getItem('lineSimulator.user')).userId")


def image_loaded(page, img) -> None:  # type: ignore[no-untyped-def]
    """Wait until the <img> has really decoded (not just that the element exists)."""
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())


def test_newcomer_joins_and_sees_member_card(page, live_url, db, screenshot, clock):  # type: ignore[no-untyped-def]
    page.goto(f"{live_url}/simulator")
    chat = page.locator("#chat")

    # First visit: the page follows the bot by itself, so the welcome and the join card appear.
    check(chat).to_contain_text(WELCOME)
    check(chat).to_contain_text("測試用戶您好")
    join = page.get_by_role("button", name="立即加入會員")
    check(join).to_be_visible()
    check(page.locator("#botName")).to_have_text("好日子咖啡")
    user_id = simulated_user(page)
    assert re.fullmatch(r"U[0-9a-f]{32}", user_id)
    screenshot(page, "01-welcome")

    join.click()
    check(page.locator(".row.user .bubble").last).to_have_text("立即加入會員")  # the postback's displayText
    consent = page.get_by_role("button", name="同意並繼續")
    check(consent).to_be_visible()
    screenshot(page, "02-consent")
    consent.click()

    page.get_by_role("button", name="選擇生日").click()
    picker = page.locator("#pickerInput")
    check(picker).to_be_visible()
    check(picker).to_have_attribute("type", "date")
    check(picker).to_have_attribute("min", "1900-01-01")
    check(picker).to_have_attribute("max", clock.today().isoformat())  # today in Taipei by the app's clock
    check(picker).to_have_value("1990-01-01")
    picker.fill("1990-05-20")
    screenshot(page, "03-birthday-picker")
    page.get_by_role("button", name="確定").click()
    check(page.locator("#picker")).to_be_hidden()

    check(chat).to_contain_text("請輸入您的手機號碼")
    check(page.locator("#quick").get_by_role("button", name="略過")).to_be_visible()
    box = page.get_by_placeholder("輸入訊息")
    box.fill("0912345678")
    box.press("Enter")
    check(page.locator(".row.user .bubble").last).to_have_text("0912345678")

    check(chat).to_contain_text("請問您的性別")
    female = page.locator("#quick").get_by_role("button", name="女")
    check(female).to_be_visible()
    screenshot(page, "04-gender-quick-reply")
    female.click()
    check(page.locator("#quick")).to_be_hidden()

    card = page.locator(".fx-bubble").filter(has_text="會員編號").last
    check(card).to_be_visible()
    with db.sessions() as s:
        member = s.scalars(select(Member).where(Member.line_user_id == user_id)).one()
        member_no, birthday, phone, gender = member.member_no, member.birthday_on, member.phone, member.gender
    assert member_no and str(birthday) == "1990-05-20" and phone == "0912345678" and gender == "female"
    check(card).to_contain_text(member_no)
    check(chat).to_contain_text(f"您的會員編號：{member_no}")
    qr = card.locator("img")
    check(qr).to_have_attribute("src", re.compile(rf"^{re.escape(live_url)}/qr/.+\.png$"))
    image_loaded(page, qr)
    assert qr.evaluate("img => img.naturalWidth") > 0
    check(page.locator("[title='好日子咖啡 會員卡']")).to_be_visible()  # Flex altText
    card.scroll_into_view_if_needed()
    screenshot(page, "05-member-card")

    box.fill("說明")
    page.get_by_role("button", name="傳送").click()
    check(chat).to_contain_text("・會員卡：出示會員卡集點")
    check(page.locator("#quick").get_by_role("button", name="會員卡")).to_be_visible()
    check(page.locator("#status")).to_be_hidden()  # every webhook answered 200
    screenshot(page, "06-help")
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshot(page, "07-desktop")


def test_block_and_unblock(page, live_url, screenshot):  # type: ignore[no-untyped-def]
    page.goto(f"{live_url}/simulator")
    check(page.get_by_role("button", name="立即加入會員")).to_be_visible()

    page.get_by_role("button", name="模擬使用者設定").click()
    page.get_by_label("顯示名稱").fill("阿明")
    page.get_by_label("顯示名稱").press("Enter")
    check(page.locator("#userbarName")).to_have_text("阿明")
    page.get_by_role("button", name="封鎖", exact=True).click()
    check(page.locator("#chat")).to_contain_text("您已封鎖 好日子咖啡")
    check(page.get_by_placeholder("已封鎖，解除封鎖後才能傳送訊息")).to_be_disabled()
    screenshot(page, "08-blocked")

    page.get_by_role("button", name="解除封鎖").click()
    check(page.locator("#chat")).to_contain_text("阿明，歡迎回來！")
    check(page.get_by_placeholder("輸入訊息")).to_be_enabled()

    old_user = simulated_user(page)
    page.get_by_role("button", name="換一個新用戶").click()
    check(page.locator("#chat")).not_to_contain_text("您已封鎖")
    check(page.locator("#userbarState")).to_have_text("尚未加入")
    assert simulated_user(page) != old_user
    page.get_by_role("button", name="加入好友").click()
    check(page.locator("#chat")).to_contain_text("阿明您好！謝謝您加入")
    check(page.locator("#userbarState")).to_have_text("好友")

    page.reload()  # the user and the conversation survive a reload
    check(page.locator("#chat")).to_contain_text("阿明您好！謝謝您加入")
    check(page.locator("#chat .row.bot").filter(has_text="阿明您好")).to_have_count(1)


def test_webhook_error_shows_status_line(page, live_url):  # type: ignore[no-untyped-def]
    page.goto(f"{live_url}/simulator")
    check(page.get_by_role("button", name="立即加入會員")).to_be_visible()
    page.route("**/dev/simulator/send", lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps({"status": 500, "webhookEventId": "01TEST"})))
    page.get_by_placeholder("輸入訊息").fill("你好")
    page.get_by_placeholder("輸入訊息").press("Enter")
    check(page.locator("#status")).to_contain_text("webhook 回應了 500")


PHOTO = ("data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' width='300' height='200'>"
         "<rect width='300' height='200' fill='%2390caf9'/><path d='M0 200 L110 80 L190 160 L240 110 L300 170 V200Z' "
         "fill='%23388e3c'/></svg>")

FLEX_SAMPLE = {
    "type": "carousel",
    "contents": [
        {
            "type": "bubble",
            "hero": {"type": "image", "url": "data:image/svg+xml," + (
                "<svg xmlns='http://www.w3.org/2000/svg' width='400' height='260'>"
                "<rect width='400' height='260' fill='%23c89f7a'/><circle cx='200' cy='130' r='70' fill='%236f4e37'/></svg>"),
                "size": "full", "aspectRatio": "20:13", "aspectMode": "cover"},
            "body": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": [
                {"type": "text", "text": "本週特調 拿鐵", "weight": "bold", "size": "xl"},
                {"type": "box", "layout": "baseline", "contents": [
                    {"type": "icon", "url": "data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' "
                     "viewBox='0 0 10 10'><circle cx='5' cy='5' r='5' fill='%23f5a623'/></svg>", "size": "sm"},
                    {"type": "text", "text": "4.8", "size": "sm", "color": "#999999", "margin": "md", "flex": 0},
                ]},
                {"type": "text", "wrap": True, "contents": [
                    {"type": "span", "text": "NT$120 ", "weight": "bold", "color": "#e53935"},
                    {"type": "span", "text": "原價 150", "size": "sm", "decoration": "line-through", "color": "#aaaaaa"},
                ]},
                {"type": "separator", "margin": "md"},
                {"type": "box", "layout": "horizontal", "margin": "md", "paddingAll": "md",
                 "backgroundColor": "#f5efe9", "cornerRadius": "md", "contents": [
                     {"type": "text", "text": "點數", "size": "sm", "color": "#8c8c8c", "flex": 1},
                     {"type": "filler"},
                     {"type": "text", "text": "+12", "size": "sm", "align": "end", "flex": 2},
                 ]},
                {"type": "rating", "stars": 5},
            ]},
            "footer": {"type": "box", "layout": "horizontal", "spacing": "sm", "contents": [
                {"type": "button", "style": "secondary", "height": "sm",
                 "action": {"type": "message", "label": "看菜單", "text": "菜單"}},
                {"type": "button", "style": "primary", "height": "sm", "color": "#6f4e37",
                 "action": {"type": "postback", "label": "我要點", "data": "action=order", "displayText": "我要點拿鐵"}},
            ]},
            "styles": {"footer": {"separator": True}},
        },
        {
            "type": "bubble", "size": "kilo",
            "header": {"type": "box", "layout": "vertical", "backgroundColor": "#06c755", "contents": [
                {"type": "text", "text": "第二張", "color": "#ffffff", "weight": "bold"}]},
            "body": {"type": "box", "layout": "vertical", "contents": [
                {"type": "text", "text": "可以左右滑動的輪播訊息，文字太長時不換行會以刪節號結尾。", "size": "sm"}]},
        },
    ],
}


def test_renders_flex_template_image_and_sticker(page, live_url, screenshot):  # type: ignore[no-untyped-def]
    """Renderer coverage with a crafted delivery (the join flow above covers what the bot sends)."""
    deliveries = [{"seq": 1, "kind": "push", "messages": [
        {"type": "flex", "altText": "本週特調", "contents": FLEX_SAMPLE},
        {"type": "template", "altText": "確認", "template": {
            "type": "confirm", "text": "要使用這張優惠券嗎？", "actions": [
                {"type": "postback", "label": "使用", "data": "action=use", "displayText": "使用"},
                {"type": "message", "label": "先不要", "text": "先不要"}]}},
        {"type": "image", "originalContentUrl": PHOTO, "previewImageUrl": PHOTO},
        {"type": "sticker", "packageId": "446", "stickerId": "1988"},
        {"type": "text", "text": "第一行\n第二行", "quickReply": {"items": [
            {"type": "action", "action": {"type": "datetimepicker", "label": "預約時間", "data": "action=book",
                                          "mode": "datetime", "initial": "2026-11-23T10:00"}},
            {"type": "action", "action": {"type": "uri", "label": "官網", "uri": "https://example.com/"}},
        ]}},
    ]}]

    def messages(route):  # type: ignore[no-untyped-def]
        after = int(re.search(r"after=(\d+)", route.request.url).group(1))
        body = {"messages": [d for d in deliveries if d["seq"] > after]}
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page.route("**/dev/simulator/messages?*", messages)
    page.goto(f"{live_url}/simulator")
    check(page.locator("[title='本週特調'] .fx-bubble")).to_have_count(2)
    check(page.locator(".fx-unsupported")).to_have_text("[不支援的元件]")
    check(page.locator(".row.bot .bubble", has_text="第一行")).to_have_text("第一行\n第二行")
    image_loaded(page, page.locator(".fx-hero img"))
    page.get_by_role("button", name="預約時間").click()
    check(page.locator("#pickerInput")).to_have_attribute("type", "datetime-local")
    check(page.locator("#pickerInput")).to_have_value("2026-11-23T10:00")
    page.get_by_role("button", name="取消").click()
    screenshot(page, "09-renderer")


def test_stamp_card_stamps_stay_round(page, live_url):  # type: ignore[no-untyped-def]
    """A box's width holds in a horizontal box (where flex would stretch it): the stamp card's
    40px round stamps, as the bot builds them, stay 40px and their rows stay centred."""
    bubble = {"type": "bubble", "body": {"type": "box", "layout": "vertical", "spacing": "sm",
                                         "contents": to_wire(stamp_grid(3, 8))}}
    body = json.dumps({"messages": [{"seq": 1, "kind": "push", "messages": [
        {"type": "flex", "altText": "集點卡", "contents": bubble}]}]})
    page.route("**/dev/simulator/messages?*", lambda route: route.fulfill(
        status=200, content_type="application/json", body=body))  # seen once: the page skips known seqs
    page.goto(f"{live_url}/simulator")

    stamps = page.locator("[title='集點卡'] .fx-horizontal > .fx-box")
    check(stamps).to_have_count(8)
    sizes = stamps.evaluate_all("els => els.map((e) => { const r = e.getBoundingClientRect();"
                                " return [Math.round(r.width), Math.round(r.height)]; })")
    assert sizes == [[40, 40]] * 8
    off_centre = page.locator("[title='集點卡'] .fx-horizontal").evaluate_all(
        "rows => rows.map((row) => { const box = row.getBoundingClientRect();"
        " const first = row.firstElementChild.getBoundingClientRect(), last = row.lastElementChild.getBoundingClientRect();"
        " return Math.abs((first.left - box.left) - (box.right - last.right)); })")
    assert len(off_centre) == 2 and max(off_centre) <= 1
