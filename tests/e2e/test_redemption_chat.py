"""Issue 23 (2, 3) in the chat simulator: what the member sees in LINE after the counter fills the
card, hands over its reward and redeems points. The pushes go through the fake LINE server (checked
against the spec) and the simulator draws them. Screenshots: artifacts/screenshots/simulator-2x-*.png."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from models.member import Member
from tests.conftest import card_token

try:
    from playwright.sync_api import expect as check
except ImportError:  # the ``browser`` fixture skips (or fails under REQUIRE_SERVICES=1) with the reason
    check = None  # type: ignore[assignment]

pytestmark = pytest.mark.timeout(120)


def test_the_member_sees_the_full_card_and_every_redemption(page, live_url, client, counter, line, db, screenshot, clock):  # type: ignore[no-untyped-def]
    counter.rule(amount_per_point="10", amount_per_stamp="100", stamps_per_visit=0, card_size=8, reward_name="免費拿鐵")
    cookie = client.post("/api/v1/admin/rewards", json={"name": "手工餅乾", "points_cost": 30}, headers=counter.admin).get_json()
    page.goto(f"{live_url}/simulator")
    chat = page.locator("#chat")
    check(page.get_by_role("button", name="立即加入會員")).to_be_visible()
    user = page.evaluate("JSON.parse(localStorage.getItem('lineSimulator.user')).userId")
    line.tap(user, "action=join")  # the join flow through signed webhooks, as LINE would send it
    line.tap(user, "action=join_step&v=yes")
    line.tap(user, "action=join_step", {"date": line.birthday.isoformat()})
    line.say(user, "0912345678")
    line.tap(user, "action=join_step&v=female")
    with db.sessions() as s:
        number = s.scalar(select(Member.member_no).where(Member.line_user_id == user))
    assert number
    check(chat).to_contain_text(f"您的會員編號：{number}")

    assert counter.award(number, "R-1", amount=700).status_code == 201  # 7 of 8 stamps, 70 points
    seven = page.locator(".fx-bubble").filter(has_text="再集 1 章，即可兌換「免費拿鐵」")
    check(seven).to_be_visible()
    check(seven).to_contain_text("+7 章、+70 點")

    assert counter.award(number, "R-2", amount=300).status_code == 201  # the card fills, 2 stamps carried over
    full = page.locator(".fx-bubble").filter(has_text="集滿 8 章！「免費拿鐵」已可兌換")
    check(full).to_be_visible()
    check(full).to_contain_text("新的一張已開始：目前 2 章")
    check(full).to_contain_text("您有 1 個獎勵可兌換：免費拿鐵")
    assert full.inner_text().count("☕") == 8, "the card that filled is drawn full"
    check(page.locator("[title='好日子咖啡 集點卡：8/8 章']")).to_be_visible()  # the push's altText
    full.scroll_into_view_if_needed()
    screenshot(page, "2x-01-card-full")

    grant = client.post("/api/v1/scan", json={"member_no": number}, headers=counter.cashier).get_json()["rewards"][0]
    scanned = {"token": card_token(number, clock)}  # spending needs the card's QR (a typed number asks the member in LINE)
    assert client.post(f"/api/v1/grants/{grant['id']}/use", json=scanned, headers=counter.cashier).status_code == 200
    handed = page.locator(".fx-bubble").filter(has_text="已兌換「免費拿鐵」")
    check(handed).to_contain_text("兌換成功！")
    check(handed).to_contain_text("台北信義店：已兌換「免費拿鐵」")
    check(handed).to_contain_text("再集 6 章，即可兌換「免費拿鐵」")
    check(handed).to_contain_text("目前點數 100 點")
    handed.scroll_into_view_if_needed()
    screenshot(page, "2x-02-card-reward-handed-over")

    body = {**scanned, "reward_id": cookie["id"], "request_id": "red-1"}
    assert client.post("/api/v1/redemptions", json=body, headers=counter.cashier).status_code == 201
    assert client.post("/api/v1/redemptions", json=body, headers=counter.cashier).status_code == 200  # a retry
    spent = page.locator(".fx-bubble").filter(has_text="已兌換「手工餅乾」")
    check(spent).to_contain_text("使用 30 點")
    check(spent).to_contain_text("目前點數 70 點")
    check(spent).to_have_count(1)  # the retried request was not pushed again
    spent.scroll_into_view_if_needed()
    check(page.locator("#status")).to_be_hidden()
    screenshot(page, "2x-03-points-redeemed")

    line.say(user, "邀請好友")  # the invitation card speaks of stamps as 章 too
    invite = page.locator(".fx-bubble").filter(has_text="我的邀請碼")
    check(invite).to_contain_text("您可獲得：2 章")
    check(invite).to_contain_text("好友可獲得：1 章")
    check(invite).not_to_contain_text("點集點")
    invite.scroll_into_view_if_needed()
    screenshot(page, "2x-04-invite-card")
