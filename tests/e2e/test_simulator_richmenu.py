"""The rich menu in the chat simulator: a guest sees the guest menu, joins from it, gets the
member menu, opens the member card from it and switches tabs, as on a phone."""
from __future__ import annotations

import pytest

from bot.cli.richmenu_deploy import deploy
from tests.e2e.conftest import SCREENSHOTS

try:
    from playwright.sync_api import expect as check
except ImportError:  # the ``browser`` fixture skips (or fails under REQUIRE_SERVICES=1) with the reason
    check = None  # type: ignore[assignment]

pytestmark = pytest.mark.timeout(120)


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"richmenu-{name}.png"))


def tap(page, x: float, y: float) -> None:  # type: ignore[no-untyped-def]
    """Tap the menu image at a point given as fractions of its width and height."""
    image = page.locator("#richmenuImage")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    box = image.bounding_box()
    image.click(position={"x": box["width"] * x, "y": box["height"] * y})


def test_guest_joins_from_the_menu_and_opens_the_member_card(page, live_url, app):  # type: ignore[no-untyped-def]
    svc = app.extensions["loyalty"]
    deploy(svc.line, svc.db, now=svc.now, echo=lambda _: None)
    page.goto(f"{live_url}/simulator")
    chat, menu, user_bubbles = page.locator("#chat"), page.locator("#richmenu"), page.locator(".row.user .bubble")

    check(chat).to_contain_text("謝謝您加入好日子咖啡的 LINE 好友")
    check(menu).to_have_attribute("data-alias", "guest")  # nobody linked yet: the default menu
    check(page.locator("#richmenuBarText")).to_have_text("選單・加入會員")
    tap(page, 0.5, 0.25)  # the 加入會員 banner
    check(user_bubbles.last).to_have_text("加入會員")  # the postback's displayText
    shot(page, "01-guest")

    page.get_by_role("button", name="同意並繼續").click()
    page.get_by_role("button", name="選擇生日").click()
    page.locator("#pickerInput").fill("1990-05-20")
    page.get_by_role("button", name="確定").click()
    check(chat).to_contain_text("請輸入您的手機號碼")
    page.get_by_placeholder("輸入訊息").fill("0912345678")
    page.get_by_placeholder("輸入訊息").press("Enter")
    page.locator("#quick").get_by_role("button", name="略過").click()
    check(chat).to_contain_text("歡迎成為 好日子咖啡 會員")
    check(menu).to_have_attribute("data-alias", "member-card")  # linked when the join completed
    check(page.locator("#richmenuBarText")).to_have_text("會員選單")

    tap(page, 0.25, 0.6)  # the big 會員卡 tile
    check(user_bubbles.last).to_have_text("會員卡")
    card = page.locator(".fx-bubble").filter(has_text="會員編號").last
    check(card).to_be_visible()
    shot(page, "02-member-card")

    bubbles = user_bubbles.count()
    tap(page, 0.75, 0.06)  # the 更多功能 tab: LINE switches the menu and says nothing in the chat
    check(menu).to_have_attribute("data-alias", "member-more")
    tap(page, 0.25, 0.75)  # 會員資料
    check(chat).to_contain_text("入會日期")
    assert user_bubbles.count() == bubbles + 1  # only the 會員資料 tap echoed
    check(page.locator("#status")).to_be_hidden()  # every webhook answered 200
    shot(page, "03-more-tab")

    page.locator("#richmenuBar").click()  # the chat bar folds the menu away
    check(page.locator("#richmenuPanel")).to_be_hidden()
    check(page.locator("#richmenuBar")).to_have_attribute("aria-expanded", "false")
    shot(page, "04-folded")
