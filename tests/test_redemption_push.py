"""Issue 23 (2, 3): stamps are 章 (or the brand's word), points 點; every redemption at the counter
is pushed to the member with what was redeemed and the new balances; the push of the award that
fills a card shows the completed card with its reward ready. Members join through signed webhooks,
the pushes are read back from the fake LINE server (which checks them against the spec)."""
from __future__ import annotations

import json

from tests.conftest import all_text, card_token

FILLED = "☕"  # a filled stamp in the Flex grid (handlers/stamps.py _stamp)


def pushes(fake_line, user: str) -> list[list[dict]]:
    return [d["messages"] for d in fake_line.messages_to(user) if d["kind"] == "push"]


def filled_stamps(messages: list[dict]) -> int:
    return all_text(messages).count(FILLED)


def test_stamp_card_says_zhang_for_stamps_and_dian_for_points(client, counter, line, make_member, fake_line):
    counter.rule(amount_per_point="10", stamps_per_visit=1, card_size=8, reward_name="免費拿鐵")
    user, number = make_member()
    line.say(user, "集點卡")
    card = all_text(line.last(user))
    assert "再集 8 章，即可兌換「免費拿鐵」" in card and "目前點數 0 點" in card
    assert "再集 8 點" not in card
    assert counter.award(number, "R-1", amount=350, visit=True).status_code == 201
    push = all_text(pushes(fake_line, user)[-1])
    assert "+1 章、+35 點" in push and "點集點" not in push and "點數、" not in push
    line.say(user, "會員卡")
    rows = all_text(line.last(user))
    assert '"集章"' in rows and '"點數"' in rows


def test_invite_card_gives_stamps_in_zhang(client, counter, line, make_member):
    user, _ = make_member()
    line.say(user, "邀請好友")
    card = all_text(line.last(user))
    assert "2 章" in card and "2 點集點" not in card


def test_a_brand_names_its_own_stamp(tmp_path, settings, clock):  # type: ignore[no-untyped-def]
    from handlers.texts import Texts

    path = tmp_path / "texts.json"
    path.write_text(json.dumps({"stamp_unit": "杯"}), encoding="utf-8")
    t = Texts.load(str(path), brand="好日子咖啡")
    assert t("stamps_progress", left=3, reward="免費拿鐵") == "再集 3 杯，即可兌換「免費拿鐵」"
    assert t("stamps_award_stamps", n=2) == "+2 杯" and t("card_stamps") == "集杯"
    assert t("gift_stamps", n=1) == "1 杯" and t("stamps_points", points=1200) == "目前點數 1,200 點"


def test_the_cashier_page_gets_the_same_words(client, counter):
    me = client.get("/api/v1/me", headers=counter.cashier).get_json()
    assert me["units"] == {"stamp": "章", "point": "點"}
    login = client.post("/api/v1/auth/login", json={"username": "cashier-tpe01", "password": "correct horse"}).get_json()
    assert login["units"] == {"stamp": "章", "point": "點"}


def test_the_award_that_fills_the_card_pushes_the_full_card(client, counter, make_member, fake_line):
    counter.rule(amount_per_point="10", amount_per_stamp="100", stamps_per_visit=0, card_size=8, reward_name="免費拿鐵")
    user, number = make_member()
    assert counter.award(number, "R-1", amount=700).status_code == 201  # 7 of 8
    seven = pushes(fake_line, user)[-1]
    assert filled_stamps(seven) == 7 and "再集 1 章" in all_text(seven)
    resp = counter.award(number, "R-2", amount=300)  # 3 more: one card full, 2 carried over
    assert resp.get_json()["award"]["rewards_issued"] == 1 and resp.get_json()["member"]["balances"]["stamps"] == 2
    full = pushes(fake_line, user)[-1]
    text = all_text(full)
    assert filled_stamps(full) == 8, "the card that filled is shown full, not the empty next one"
    assert full[0]["altText"].endswith("8/8 章")
    assert "集滿 8 章！「免費拿鐵」已可兌換" in text and "新的一張已開始：目前 2 章" in text
    assert "您有 1 個獎勵可兌換：免費拿鐵" in text and "再集" not in text


def test_handing_over_a_card_reward_is_pushed(client, counter, make_member, fake_line, clock):
    counter.rule(amount_per_point="10", amount_per_stamp="100", stamps_per_visit=0, card_size=5, reward_name="免費拿鐵")
    user, number = make_member()
    summary = counter.award(number, "R-1", amount=500).get_json()["member"]  # 5 stamps, 50 points: a full card
    before = len(pushes(fake_line, user))
    grant = summary["rewards"][0]
    used = client.post(f"/api/v1/grants/{grant['id']}/use", json={"token": card_token(number, clock)}, headers=counter.cashier)
    assert used.status_code == 200, used.get_json()
    assert len(pushes(fake_line, user)) == before + 1
    push = pushes(fake_line, user)[-1]
    text = all_text(push)
    assert "兌換成功" in text and "台北信義店：已兌換「免費拿鐵」" in text
    assert "再集 5 章" in text and "目前點數 50 點" in text and "個獎勵可兌換" not in text
    again = client.post(f"/api/v1/grants/{grant['id']}/use", json={"token": card_token(number, clock)}, headers=counter.cashier)
    assert again.status_code == 409 and len(pushes(fake_line, user)) == before + 1


def test_a_points_redemption_is_pushed_once(client, counter, make_member, fake_line, clock):
    counter.rule(amount_per_point="10", stamps_per_visit=1, card_size=8)
    reward = client.post("/api/v1/admin/rewards", json={"name": "手工餅乾", "points_cost": 30}, headers=counter.admin).get_json()
    user, number = make_member()
    counter.award(number, "R-1", amount=500, visit=True)  # 50 points, 1 stamp
    before = len(pushes(fake_line, user))
    body = {"token": card_token(number, clock), "reward_id": reward["id"], "request_id": "red-1"}
    first = client.post("/api/v1/redemptions", json=body, headers=counter.cashier)
    assert first.status_code == 201, first.get_json()
    push = pushes(fake_line, user)[-1]
    text = all_text(push)
    assert "已兌換「手工餅乾」" in text and "使用 30 點" in text and "目前點數 20 點" in text and "再集 7 章" in text
    assert filled_stamps(push) == 1
    replay = client.post("/api/v1/redemptions", json=body, headers=counter.cashier)
    assert replay.status_code == 200 and replay.get_json()["redemption"]["replayed"] is True
    assert len(pushes(fake_line, user)) == before + 1  # a retried request is not pushed again
    delivered = fake_line.messages_to(user)[-1]
    assert delivered["retry_key"]


def test_a_coupon_redemption_is_pushed(client, counter, line, make_member, fake_line):
    import re

    tpl = client.post("/api/v1/admin/coupon-templates", json={"name": "折 50 元", "kind": "amount_off", "value": 50, "min_spend": 200,
                                                             "valid_days": 30}, headers=counter.admin).get_json()
    user, number = make_member()
    client.post(f"/api/v1/admin/coupon-templates/{tpl['id']}/issue", json={"member_no": number}, headers=counter.admin)
    line.say(user, "我的優惠券")
    token = re.search(r"/qr/coupon/([^\"]+)\.png", all_text(line.last(user))).group(1)
    before = len(pushes(fake_line, user))
    assert client.post("/api/v1/coupons/redeem", json={"token": token, "amount": 300}, headers=counter.cashier).status_code == 200
    assert len(pushes(fake_line, user)) == before + 1
    assert "已使用優惠券「折 50 元」（折抵 NT$50）" in all_text(pushes(fake_line, user)[-1])
    assert client.post("/api/v1/coupons/redeem", json={"token": token, "amount": 300}, headers=counter.cashier).status_code == 409
    assert len(pushes(fake_line, user)) == before + 1
