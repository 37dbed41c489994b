"""Spending by a typed member number needs the card's QR or the member's 確認 in LINE; every
ledger entry records how the member was identified (issue 21, item 6)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.dev import lineevents as ev
from models.confirmation import SpendConfirmation
from models.coupon import CouponEvent
from models.ledger import LedgerEntry
from models.outbox import OutboxMessage
from models.reward import RewardGrant
from tests.conftest import Counter, all_text, card_token


@pytest.fixture
def shop(client, counter, make_member):  # type: ignore[no-untyped-def]
    """A member with 100 points and a 30-point cookie in the catalogue."""
    user, number = make_member("林小姐")
    counter.rule(amount_per_point="10", stamps_per_visit=0)
    assert counter.award(number, "R-100", amount=1000).status_code == 201
    item = client.post("/api/v1/admin/rewards", json={"name": "手工餅乾", "points_cost": 30}, headers=counter.admin).get_json()
    return user, number, item


def redeem(client, counter, number, item, request_id="Q-1", **ident):  # type: ignore[no-untyped-def]
    body = {**(ident or {"member_no": number}), "reward_id": item["id"], "request_id": request_id}
    return client.post("/api/v1/redemptions", json=body, headers=counter.cashier)


def points(client, counter, number) -> int:  # type: ignore[no-untyped-def]
    return client.post("/api/v1/scan", json={"member_no": number}, headers=counter.cashier).get_json()["balances"]["points"]


def asked(fake_line, user: str) -> tuple[list[dict], str, str]:
    """The last push to the member, and its 確認 and 取消 postback data."""
    push = fake_line.messages_to(user)[-1]
    assert push["kind"] == "push" and push["retry_key"]
    text = all_text(push["messages"])
    yes = re.search(r"action=spend_confirm&c=\d+", text).group(0)
    no = re.search(r"action=spend_cancel&c=\d+", text).group(0)
    return push["messages"], yes, no


def spent(db, reason: str = "redeem") -> list[tuple[int, str | None]]:  # type: ignore[no-untyped-def]
    with db.sessions() as s:
        return [tuple(r) for r in s.execute(select(LedgerEntry.amount, LedgerEntry.identified_by).where(LedgerEntry.reason == reason))]


def test_a_typed_number_earns_and_every_entry_records_how_the_member_was_identified(client, counter, make_member, clock, line, db):
    user, number = make_member()
    counter.rule(amount_per_point="10", stamps_per_visit=0)
    assert counter.award(number, "R-typed", amount=100).status_code == 201  # earning by a typed number stays allowed
    by_qr = client.post("/api/v1/awards", json={"token": card_token(number, clock), "receipt_id": "R-qr", "amount": 200}, headers=counter.cashier)
    assert by_qr.status_code == 201
    code = client.post("/api/v1/claims", json={"receipt_id": "R-claim", "amount": 300}, headers=counter.cashier).get_json()["code"]
    line.say(user, f"領取 {code}")
    assert "收據集點完成" in all_text(line.last(user))
    detail = client.get(f"/api/v1/admin/members/{number}", headers=counter.admin).get_json()
    assert [(e["receipt_id"], e["identified_by"]) for e in detail["ledger"]] == [
        ("R-claim", "claim_code"), ("R-qr", "qr"), ("R-typed", "number")]
    counter_view = client.get(f"/api/v1/members/{number}/ledger", headers=counter.cashier).get_json()["entries"]
    assert counter_view[0]["identified_by"] == "claim_code"


def test_a_typed_number_cannot_redeem_until_the_member_confirms_in_line(client, counter, shop, line, fake_line, db):
    user, number, item = shop
    refused = redeem(client, counter, number, item)
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["code"] == "confirmation_required" and body["details"]["reachable"] is True
    confirmation = body["details"]["confirmation"]
    assert confirmation["status"] == "pending" and confirmation["what"] == "手工餅乾" and confirmation["points"] == 30
    assert points(client, counter, number) == 100 and spent(db) == []
    messages, yes, no = asked(fake_line, user)
    assert "台北信義店" in all_text(messages) and "手工餅乾" in all_text(messages) and "30 點" in all_text(messages)
    assert '"label": "確認"' in all_text(messages) and '"label": "取消"' in all_text(messages)
    # the cashier's retry of the same request asks nothing new
    again = redeem(client, counter, number, item)
    assert again.status_code == 409 and again.get_json()["details"]["confirmation"]["id"] == confirmation["id"]
    assert len([m for m in fake_line.messages_to(user) if "spend_confirm" in all_text(m["messages"])]) == 1
    poll = client.get(confirmation["poll"], headers=counter.cashier).get_json()
    assert poll["confirmation"]["status"] == "pending" and "redemption" not in poll

    line.tap(user, yes)
    assert "已兌換「手工餅乾」，扣除 30 點，剩餘 70 點" in all_text(line.last(user))
    assert spent(db) == [(-30, "confirmed")]
    with db.sessions() as s:
        entry = s.scalars(select(LedgerEntry).where(LedgerEntry.reason == "redeem")).one()
        assert entry.actor_kind == "staff" and entry.staff_id is not None and entry.store_id is not None  # the cashier who asked
    poll = client.get(confirmation["poll"], headers=counter.cashier).get_json()
    assert poll["confirmation"]["status"] == "confirmed"
    assert poll["redemption"]["reward"] == "手工餅乾" and poll["member"]["balances"]["points"] == 70
    retry = redeem(client, counter, number, item)  # the request itself, sent again: its result, not a new spend
    assert retry.status_code == 200 and retry.get_json()["redemption"]["replayed"] is True
    assert points(client, counter, number) == 70


def test_the_card_qr_spends_at_once_and_records_qr(client, counter, shop, clock, db, fake_line):
    user, number, item = shop
    pushes = len(fake_line.messages_to(user))
    ok = redeem(client, counter, number, item, token=card_token(number, clock))
    assert ok.status_code == 201 and ok.get_json()["member"]["balances"]["points"] == 70
    assert spent(db) == [(-30, "qr")]
    delivered = fake_line.messages_to(user)[pushes:]  # nobody was asked to confirm: the one push says what was redeemed
    assert len(delivered) == 1 and "兌換成功" in all_text(delivered[0]["messages"]) and "確認" not in all_text(delivered[0]["messages"])


def test_a_replayed_or_repeated_confirmation_spends_once(client, counter, shop, line, fake_line, db):
    user, number, item = shop
    redeem(client, counter, number, item)
    _, yes, _ = asked(fake_line, user)
    event = ev.postback_event(user, yes)
    line.post(event)
    line.post({**event, "deliveryContext": {"isRedelivery": True}})  # LINE redelivers the same event
    line.tap(user, yes)  # the member taps 確認 again: a new event
    assert "已經處理過了" in all_text(line.last(user))
    assert spent(db) == [(-30, "confirmed")]
    assert points(client, counter, number) == 70


def test_a_cancelled_confirmation_spends_nothing_even_when_confirmed_later(client, counter, shop, line, fake_line, db):
    user, number, item = shop
    confirmation = redeem(client, counter, number, item).get_json()["details"]["confirmation"]
    _, yes, no = asked(fake_line, user)
    line.tap(user, no)
    assert "已取消" in all_text(line.last(user))
    line.tap(user, yes)
    assert "已經處理過了" in all_text(line.last(user))
    assert spent(db) == [] and points(client, counter, number) == 100
    assert client.get(confirmation["poll"], headers=counter.cashier).get_json()["confirmation"]["status"] == "cancelled"
    # a new attempt (a new request) asks again
    fresh = redeem(client, counter, number, item, request_id="Q-2")
    assert fresh.get_json()["details"]["confirmation"]["id"] != confirmation["id"]


def test_an_expired_confirmation_spends_nothing(client, counter, shop, line, fake_line, clock, db):
    user, number, item = shop
    confirmation = redeem(client, counter, number, item).get_json()["details"]["confirmation"]
    _, yes, _ = asked(fake_line, user)
    clock.advance(minutes=3, seconds=1)
    assert client.get(confirmation["poll"], headers=counter.cashier).get_json()["confirmation"]["status"] == "expired"
    line.tap(user, yes)
    assert "已逾時" in all_text(line.last(user))
    assert spent(db) == [] and points(client, counter, number) == 100
    with db.sessions() as s:
        assert s.scalars(select(SpendConfirmation.status)).all() == ["expired"]


def test_points_spent_meanwhile_fail_the_confirmation_without_spending(client, counter, shop, line, fake_line, clock, db):
    user, number, item = shop
    big = client.post("/api/v1/admin/rewards", json={"name": "咖啡豆", "points_cost": 80}, headers=counter.admin).get_json()
    confirmation = redeem(client, counter, number, item).get_json()["details"]["confirmation"]
    _, yes, _ = asked(fake_line, user)
    assert redeem(client, counter, number, big, request_id="Q-big", token=card_token(number, clock)).status_code == 201  # 20 left
    line.tap(user, yes)
    assert "點數不足" in all_text(line.last(user))
    poll = client.get(confirmation["poll"], headers=counter.cashier).get_json()
    assert poll["confirmation"]["status"] == "failed" and poll["confirmation"]["outcome_code"] == "insufficient_balance"
    assert spent(db) == [(-80, "qr")]


def test_nobody_is_asked_to_confirm_what_cannot_happen(client, counter, shop, fake_line, db):
    user, number, item = shop
    pricey = client.post("/api/v1/admin/rewards", json={"name": "保溫杯", "points_cost": 500}, headers=counter.admin).get_json()
    pushes = len(fake_line.messages_to(user))
    short = redeem(client, counter, number, pricey)
    assert short.status_code == 409 and short.get_json()["code"] == "insufficient_balance"
    gone = redeem(client, counter, number, {"id": item["id"] + 99})
    assert gone.status_code == 404 and gone.get_json()["code"] == "reward_not_found"
    assert len(fake_line.messages_to(user)) == pushes
    with db.sessions() as s:
        assert s.scalars(select(SpendConfirmation)).all() == []


def test_only_the_member_can_confirm_and_only_the_store_can_poll(client, counter, shop, line, make_member, fake_line, db):
    user, number, item = shop
    stranger, _ = make_member("路人")
    confirmation = redeem(client, counter, number, item).get_json()["details"]["confirmation"]
    _, yes, _ = asked(fake_line, user)
    line.tap(stranger, yes)
    assert "找不到這個確認" in all_text(line.last(stranger))
    line.tap(user, "action=spend_confirm&c=not-a-number")
    assert "找不到這個確認" in all_text(line.last(user))
    assert spent(db) == []
    other = Counter(client, code="KHH01", name="高雄店")
    resp = client.get(confirmation["poll"], headers=other.cashier)
    assert resp.status_code == 404 and resp.get_json()["code"] == "confirmation_unknown"


def test_a_full_cards_reward_by_a_typed_number_is_handed_over_once_confirmed(client, counter, make_member, line, fake_line, db):
    user, number = make_member()
    counter.rule(amount_per_stamp="100", stamps_per_visit=0, card_size=5, reward_name="免費拿鐵")
    grant = counter.award(number, "R-big", amount=500).get_json()["member"]["rewards"][0]["id"]
    refused = client.post(f"/api/v1/grants/{grant}/use", json={"member_no": number}, headers=counter.cashier)
    assert refused.status_code == 409 and refused.get_json()["code"] == "confirmation_required"
    poll_url = refused.get_json()["details"]["confirmation"]["poll"]
    messages, yes, _ = asked(fake_line, user)
    assert "免費拿鐵" in all_text(messages)
    with db.sessions() as s:
        assert s.get(RewardGrant, grant).used_at is None
    line.tap(user, yes)
    assert "已兌換「免費拿鐵」" in all_text(line.last(user))
    poll = client.get(poll_url, headers=counter.cashier).get_json()
    assert poll["confirmation"]["status"] == "confirmed" and poll["grant"]["id"] == grant and poll["member"]["rewards"] == []
    with db.sessions() as s:
        row = s.get(RewardGrant, grant)
        assert row.used_at is not None and row.used_identified_by == "confirmed"
    used = client.post(f"/api/v1/grants/{grant}/use", json={"member_no": number}, headers=counter.cashier)
    assert used.status_code == 409 and used.get_json()["code"] == "grant_used"


def test_coupon_events_record_the_coupons_qr_or_its_typed_code(client, counter, make_member, db):
    from models.coupon import coupon_token
    from tests.conftest import SECRET_KEY

    _, number = make_member()
    template = client.post("/api/v1/admin/coupon-templates", json={"name": "折 50", "kind": "amount_off", "value": 50, "valid_days": 30},
                           headers=counter.admin).get_json()
    codes = [client.post(f"/api/v1/admin/coupon-templates/{template['id']}/issue", json={"member_no": number, "occasion": f"o{i}"},
                         headers=counter.admin).get_json()["coupon"]["code"] for i in range(2)]
    assert client.post("/api/v1/coupons/redeem", json={"code": codes[0]}, headers=counter.cashier).status_code == 200
    assert client.post("/api/v1/coupons/redeem", json={"token": coupon_token(SECRET_KEY, codes[1])}, headers=counter.cashier).status_code == 200
    with db.sessions() as s:
        kinds = s.execute(select(CouponEvent.kind, CouponEvent.identified_by).order_by(CouponEvent.id)).all()
    assert [tuple(k) for k in kinds] == [("issued", "system"), ("issued", "system"), ("redeemed", "coupon_code"), ("redeemed", "coupon_qr")]


def test_a_blocked_member_is_not_pushed_and_the_counter_is_told(client, counter, shop, line, fake_line, db):
    user, number, item = shop
    line.post(ev.unfollow_event(user))
    refused = redeem(client, counter, number, item)
    assert refused.status_code == 409 and refused.get_json()["details"]["reachable"] is False
    with db.sessions() as s:
        assert s.scalars(select(OutboxMessage).where(OutboxMessage.purpose == "confirmation")).all() == []


def test_the_counter_stops_waiting_and_a_later_confirm_spends_nothing(client, counter, shop, line, fake_line, db):
    user, number, item = shop
    confirmation = redeem(client, counter, number, item).get_json()["details"]["confirmation"]
    _, yes, _ = asked(fake_line, user)
    other = Counter(client, code="KHH01", name="高雄店")
    assert client.post(f"{confirmation['poll']}/cancel", headers=other.cashier).status_code == 404  # not theirs
    stopped = client.post(f"{confirmation['poll']}/cancel", headers=counter.cashier)
    assert stopped.status_code == 200 and stopped.get_json()["confirmation"]["status"] == "cancelled"
    line.tap(user, yes)
    assert "已經處理過了" in all_text(line.last(user))
    assert spent(db) == [] and points(client, counter, number) == 100


def test_stopping_after_the_member_confirmed_answers_the_spend(client, counter, shop, line, fake_line, db):
    user, number, item = shop
    confirmation = redeem(client, counter, number, item).get_json()["details"]["confirmation"]
    _, yes, _ = asked(fake_line, user)
    line.tap(user, yes)
    late = client.post(f"{confirmation['poll']}/cancel", headers=counter.cashier).get_json()
    assert late["confirmation"]["status"] == "confirmed" and late["redemption"]["reward"] == "手工餅乾"
    assert spent(db) == [(-30, "confirmed")]


def test_a_typed_number_does_not_reveal_the_members_coupon_codes(client, counter, make_member, clock):
    _, number = make_member()
    template = client.post("/api/v1/admin/coupon-templates", json={"name": "折 50", "kind": "amount_off", "value": 50, "valid_days": 30},
                           headers=counter.admin).get_json()
    code = client.post(f"/api/v1/admin/coupon-templates/{template['id']}/issue", json={"member_no": number},
                       headers=counter.admin).get_json()["coupon"]["code"]
    typed = client.post("/api/v1/scan", json={"member_no": number}, headers=counter.cashier).get_json()
    assert [(c["name"], c["code"]) for c in typed["coupons"]] == [("折 50", None)]
    ledger = client.get(f"/api/v1/members/{number}/ledger", headers=counter.cashier).get_json()
    assert [c["code"] for c in ledger["member"]["coupons"]] == [None]
    scanned = client.post("/api/v1/scan", json={"token": card_token(number, clock)}, headers=counter.cashier).get_json()
    assert [c["code"] for c in scanned["coupons"]] == [code]
