"""The counter: sign-in, scan, award, stamp card rewards, points rewards, claims, corrections."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from models.ledger import LedgerEntry
from tests.conftest import Counter, all_text, card_token


def test_staff_sign_in_and_wrong_password(client, counter):
    me = client.get("/api/v1/me", headers=counter.cashier).get_json()
    assert me["store"]["code"] == "TPE01" and me["role"] == "cashier"
    bad = client.post("/api/v1/auth/login", json={"username": "cashier-tpe01", "password": "nope"})
    assert bad.status_code == 401 and bad.get_json()["code"] == "invalid_credentials"


def test_api_requires_credentials(client, counter):
    resp = client.post("/api/v1/scan", json={"member_no": "100000018"})
    assert resp.status_code == 401 and resp.get_json()["code"] == "unauthorized"
    forged = client.post("/api/v1/scan", json={"member_no": "1"}, headers={"Authorization": "Bearer pos_abc_def"})
    assert forged.status_code == 401 and forged.get_json()["code"] == "invalid_api_key"


def test_admin_api_requires_admin_token(client):
    assert client.get("/api/v1/admin/stores").status_code == 401
    assert client.get("/api/v1/admin/stores", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_scan_by_qr_token_and_by_number(client, counter, line, make_member):
    user, number = make_member("陳小姐")
    line.say(user, "會員卡")
    token = re.search(r"/qr/([^\"]+)\.png", all_text(line.last(user))).group(1)
    by_token = client.post("/api/v1/scan", json={"token": token}, headers=counter.cashier)
    assert by_token.status_code == 200
    summary = by_token.get_json()
    assert summary["member_no"] == number and summary["name"] == "陳小姐"
    assert summary["balances"] == {"stamps": 0, "points": 0}
    by_number = client.post("/api/v1/scan", json={"member_no": number}, headers=counter.cashier)
    assert by_number.get_json() == summary


def test_scan_errors_are_clear(client, counter, clock, line, make_member):
    user, number = make_member()
    line.say(user, "會員卡")
    token = re.search(r"/qr/([^\"]+)\.png", all_text(line.last(user))).group(1)
    clock.advance(minutes=6)
    expired = client.post("/api/v1/scan", json={"token": token}, headers=counter.cashier)
    assert expired.status_code == 400 and expired.get_json()["code"] == "token_expired"
    tampered = client.post("/api/v1/scan", json={"token": token[:-2] + "xx"}, headers=counter.cashier)
    assert tampered.get_json()["code"] == "token_invalid"
    typo = number[:-1] + str((int(number[-1]) + 1) % 10)
    unknown = client.post("/api/v1/scan", json={"member_no": typo}, headers=counter.cashier)
    assert unknown.status_code == 404 and unknown.get_json()["code"] == "member_not_found"
    empty = client.post("/api/v1/scan", json={}, headers=counter.cashier)
    assert empty.status_code == 422 and empty.get_json()["code"] == "member_required"


def test_award_points_and_visit_stamp_then_push(client, counter, line, make_member, fake_line):
    user, number = make_member()
    counter.rule(amount_per_point="10", stamps_per_visit=1, card_size=10)
    resp = counter.award(number, "R-1001", amount=250, visit=True)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["award"]["stamps"] == 1 and body["award"]["points"] == 25
    assert body["member"]["balances"] == {"stamps": 1, "points": 25}
    push = fake_line.messages_to(user)[-1]
    assert push["kind"] == "push" and push["retry_key"]
    assert "集點成功" in all_text(push["messages"]) and "+25 點" in all_text(push["messages"])


def test_retried_award_answers_with_the_original_result(client, counter, make_member, fake_line, db):
    user, number = make_member()
    first = counter.award(number, "R-1", amount=100)
    again = counter.award(number, "R-1", amount=100)
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["award"]["replayed"] is True
    assert again.get_json()["award"]["id"] == first.get_json()["award"]["id"]
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(LedgerEntry)) == 1
    assert len([m for m in fake_line.messages_to(user) if m["kind"] == "push"]) == 1


def test_same_receipt_for_another_member_is_refused(counter, make_member):
    _, a = make_member("甲")
    _, b = make_member("乙")
    assert counter.award(a, "R-9", amount=100).status_code == 201
    resp = counter.award(b, "R-9", amount=100)
    assert resp.status_code == 409 and resp.get_json()["code"] == "receipt_already_awarded"


def test_same_receipt_with_another_amount_or_visit_is_refused(counter, make_member, db):
    """A receipt id is a retry only when it repeats the purchase; anything else is not answered as it."""
    _, number = make_member()
    counter.rule(amount_per_point="10", stamps_per_visit=1)
    assert counter.award(number, "R-7", amount=100).status_code == 201
    for changed in ({"amount": 120}, {"amount": 100, "visit": True}, {"visit": True}):
        resp = counter.award(number, "R-7", **changed)
        assert resp.status_code == 409, (changed, resp.get_json())
        body = resp.get_json()
        assert body["code"] == "receipt_already_awarded"
        assert body["details"] == {"amount": "100.00", "visit": False}  # what the receipt was awarded for
    same = counter.award(number, "R-7", amount="100.00")  # the same amount, written differently: a retry
    assert same.status_code == 200 and same.get_json()["award"]["replayed"] is True
    with db.sessions() as s:
        assert s.scalars(select(LedgerEntry.amount)).all() == [10]


def test_receipt_ids_are_per_store(client, counter, make_member):
    other = Counter(client, code="KHH01", name="高雄店")
    _, number = make_member()
    assert counter.award(number, "R-1", amount=100).status_code == 201
    assert other.award(number, "R-1", amount=100).status_code == 201


def test_full_card_issues_reward_and_carries_over(client, counter, make_member, fake_line, clock):
    user, number = make_member()
    counter.rule(amount_per_stamp="100", stamps_per_visit=0, card_size=5, reward_name="免費拿鐵")
    resp = counter.award(number, "R-big", amount=730)  # 7 stamps: one full card, 2 carried over
    body = resp.get_json()
    assert body["award"]["stamps"] == 7 and body["award"]["rewards_issued"] == 1
    assert body["member"]["balances"]["stamps"] == 2
    assert [r["name"] for r in body["member"]["rewards"]] == ["免費拿鐵"]
    assert "集滿一張卡" in all_text(fake_line.messages_to(user)[-1]["messages"])
    grant = body["member"]["rewards"][0]["id"]
    used = client.post(f"/api/v1/grants/{grant}/use", json={"token": card_token(number, clock)}, headers=counter.cashier)
    assert used.status_code == 200 and used.get_json()["member"]["rewards"] == []
    twice = client.post(f"/api/v1/grants/{grant}/use", json={"token": card_token(number, clock)}, headers=counter.cashier)
    assert twice.status_code == 409 and twice.get_json()["code"] == "grant_used"


def test_min_spend_and_daily_cap(counter, make_member, clock):
    _, number = make_member()
    counter.rule(amount_per_point="10", min_spend="100", daily_cap_points=30, stamps_per_visit=0)
    assert counter.award(number, "R-small", amount=90).get_json()["award"]["points"] == 0
    assert counter.award(number, "R-a", amount=200).get_json()["award"]["points"] == 20
    capped = counter.award(number, "R-b", amount=200).get_json()["award"]
    assert capped["points"] == 10 and capped["capped"] is True
    clock.advance(days=1)
    assert counter.award(number, "R-c", amount=200).get_json()["award"]["points"] == 20


def test_bad_award_input_gets_clear_errors(client, counter, make_member):
    _, number = make_member()
    cases = [
        ({"member_no": number, "amount": 100}, "invalid_receipt_id"),
        ({"member_no": number, "receipt_id": "R", "amount": -5}, "invalid_amount"),
        ({"member_no": number, "receipt_id": "R", "amount": 10.5}, "invalid_amount"),
        ({"member_no": number, "receipt_id": "R", "amount": "abc"}, "invalid_amount"),
        ({"member_no": number, "receipt_id": "R"}, "nothing_to_award"),
        ({"member_no": number, "receipt_id": "R", "visit": "yes"}, "invalid_visit"),
    ]
    for body, code in cases:
        resp = client.post("/api/v1/awards", json=body, headers=counter.cashier)
        assert resp.status_code == 422 and resp.get_json()["code"] == code, (body, resp.get_json())
    raw = client.post("/api/v1/awards", data="not json", headers={**counter.cashier, "Content-Type": "application/json"})
    assert raw.status_code == 422 and raw.get_json()["code"] == "invalid_json"


def test_points_rewards_catalogue_and_redemption(client, counter, make_member, clock):
    _, number = make_member()
    counter.rule(amount_per_point="10", stamps_per_visit=0)
    item = client.post("/api/v1/admin/rewards", json={"name": "手工餅乾", "points_cost": 30}, headers=counter.admin).get_json()
    counter.award(number, "R-1", amount=500)  # 50 points
    catalogue = client.get("/api/v1/rewards", headers=counter.cashier).get_json()["rewards"]
    assert catalogue == [{"id": item["id"], "name": "手工餅乾", "points_cost": 30}]
    body = {"token": card_token(number, clock), "reward_id": item["id"], "request_id": "redeem-1"}
    ok = client.post("/api/v1/redemptions", json=body, headers=counter.cashier)
    assert ok.status_code == 201 and ok.get_json()["member"]["balances"]["points"] == 20
    retry = client.post("/api/v1/redemptions", json=body, headers=counter.cashier)
    assert retry.status_code == 200 and retry.get_json()["redemption"]["replayed"] is True
    short = client.post("/api/v1/redemptions", json={**body, "request_id": "redeem-2"}, headers=counter.cashier)
    assert short.status_code == 409 and short.get_json()["code"] == "insufficient_balance"
    assert short.get_json()["details"] == {"balance": 20, "needed": 30, "currency": "point"}


def test_request_id_of_another_member_or_reward_is_refused_not_replayed(client, counter, make_member, db, clock):
    _, a = make_member("甲")
    _, b = make_member("乙")
    counter.rule(amount_per_point="10", stamps_per_visit=0)
    cookie = client.post("/api/v1/admin/rewards", json={"name": "手工餅乾", "points_cost": 30}, headers=counter.admin).get_json()
    latte = client.post("/api/v1/admin/rewards", json={"name": "拿鐵", "points_cost": 20}, headers=counter.admin).get_json()
    counter.award(a, "R-a", amount=500)  # 50 points each
    counter.award(b, "R-b", amount=500)
    first = client.post("/api/v1/redemptions", json={"token": card_token(a, clock), "reward_id": cookie["id"], "request_id": "Q-1"}, headers=counter.cashier)
    assert first.status_code == 201
    for body in ({"token": card_token(b, clock), "reward_id": cookie["id"]}, {"token": card_token(a, clock), "reward_id": latte["id"]},
                 {"token": card_token(b, clock), "reward_id": latte["id"]}):
        resp = client.post("/api/v1/redemptions", json={**body, "request_id": "Q-1"}, headers=counter.cashier)
        assert resp.status_code == 409, (body, resp.get_json())
        assert resp.get_json()["code"] == "request_id_reused"
    scan = client.post("/api/v1/scan", json={"member_no": b}, headers=counter.cashier).get_json()
    assert scan["balances"]["points"] == 50  # nothing was taken from the other member
    retry = client.post("/api/v1/redemptions", json={"token": card_token(a, clock), "reward_id": cookie["id"], "request_id": "Q-1"}, headers=counter.cashier)
    assert retry.status_code == 200 and retry.get_json()["redemption"]["replayed"] is True
    assert retry.get_json()["redemption"]["id"] == first.get_json()["redemption"]["id"]
    assert retry.get_json()["member"]["balances"]["points"] == 20
    with db.sessions() as s:
        assert s.scalars(select(LedgerEntry.amount).where(LedgerEntry.reason == "redeem")).all() == [-30]
    paths = client.get("/openapi.json").get_json()["paths"]
    conflicts = {p: paths[p]["post"]["responses"]["409"]["description"] for p in ("/api/v1/redemptions", "/api/v1/awards")}
    assert all(code in conflicts["/api/v1/redemptions"] for code in ("request_id_reused", "request_in_progress", "insufficient_balance"))
    assert "receipt_already_awarded" in conflicts["/api/v1/awards"]


def test_retried_redemption_replays_after_the_reward_is_withdrawn(client, counter, make_member, db, clock):
    from models.reward import RewardItem

    _, number = make_member()
    counter.rule(amount_per_point="10", stamps_per_visit=0)
    item = client.post("/api/v1/admin/rewards", json={"name": "限定杯", "points_cost": 30}, headers=counter.admin).get_json()
    counter.award(number, "R-1", amount=500)
    body = {"token": card_token(number, clock), "reward_id": item["id"], "request_id": "Q-last"}
    assert client.post("/api/v1/redemptions", json=body, headers=counter.cashier).status_code == 201
    with db.transaction() as s:
        s.get(RewardItem, item["id"]).is_active = False
    retry = client.post("/api/v1/redemptions", json=body, headers=counter.cashier)
    assert retry.status_code == 200, retry.get_json()
    assert retry.get_json()["redemption"] == {**retry.get_json()["redemption"], "reward": "限定杯", "points": 30, "replayed": True}
    other = client.post("/api/v1/redemptions", json={**body, "request_id": "Q-new"}, headers=counter.cashier)
    assert other.status_code == 404 and other.get_json()["code"] == "reward_not_found"


def test_corrections_are_manager_only_compensating_entries(client, counter, make_member):
    _, number = make_member()
    counter.award(number, "R-1", amount=100)
    body = {"member_no": number, "currency": "point", "amount": -5, "reason": "輸入錯誤"}
    denied = client.post("/api/v1/corrections", json=body, headers=counter.cashier)
    assert denied.status_code == 403 and denied.get_json()["code"] == "manager_only"
    ok = client.post("/api/v1/corrections", json=body, headers=counter.manager)
    assert ok.status_code == 201 and ok.get_json()["member"]["balances"]["points"] == 5
    too_much = client.post("/api/v1/corrections", json={**body, "amount": -6}, headers=counter.manager)
    assert too_much.status_code == 409
    ledger = client.get(f"/api/v1/members/{number}/ledger", headers=counter.cashier).get_json()["entries"]
    assert [(e["reason"], e["amount"]) for e in ledger] == [("correction", -5), ("award", 10)]


def test_pos_api_key_acts_for_its_store_only(client, counter, make_member):
    other = Counter(client, code="KHH01", name="高雄店")
    key = other.api_key()
    _, number = make_member()
    resp = counter.award(number, "POS-1", amount=100, as_=key)
    assert resp.status_code == 201
    ledger = client.get(f"/api/v1/members/{number}/ledger", headers=counter.cashier).get_json()["entries"]
    from models.store import Store

    assert ledger[0]["actor_kind"] == "api_key"
    # the body cannot move the award to another store: store comes from the credential, and a body
    # naming one is refused by that name rather than ignored
    again = client.post("/api/v1/awards", json={"member_no": number, "receipt_id": "POS-1", "amount": 100, "store": "TPE01"}, headers=key)
    assert again.status_code == 422 and again.get_json()["details"]["fields"] == ["store"]
    assert len(client.get(f"/api/v1/members/{number}/ledger", headers=counter.cashier).get_json()["entries"]) == len(ledger)
    assert Store.__tablename__ == "store"


def test_stamp_card_in_chat_shows_last_entries(line, counter, make_member):
    user, number = make_member()
    counter.rule(amount_per_point="10", stamps_per_visit=1, card_size=8)
    for i in range(12):
        counter.award(number, f"R-{i}", amount=100, visit=True)
    line.say(user, "集點卡")
    card = line.last(user)
    text = all_text(card)
    assert card[0]["type"] == "flex" and "最近紀錄" in text
    # the last ten entries: awards, and the card_reward entry of the card that filled
    assert text.count("消費集點") + text.count("集滿兌換") == 10 and "集滿兌換 招牌飲品一杯" in text
    line.say(user, "我的點數")
    assert line.last(user)[0]["type"] == "flex"


def test_receipt_claim_code_awards_once(client, counter, line, make_member, fake_line):
    user, _ = make_member()
    counter.rule(amount_per_point="10", stamps_per_visit=1)
    resp = client.post("/api/v1/claims", json={"receipt_id": "R-claim", "amount": 300, "visit": True}, headers=counter.cashier)
    assert resp.status_code == 201
    claim = resp.get_json()
    assert claim["line_url"].startswith("https://line.me/R/oaMessage/%40fakebot/?")
    assert client.get(claim["qr_url"].replace("https://loyalty.example.com", "")).mimetype == "image/png"
    line.say(user, f"領取 {claim['code']}")
    assert "收據集點完成" in all_text(line.last(user))
    line.say(user, f"領取 {claim['code']}")
    assert "已經領取過" in all_text(line.last(user))
    other, _ = make_member("別人")
    line.say(other, f"領取 {claim['code']}")
    assert "已經被使用過" in all_text(line.last(other))
    line.say(other, "領取 ZZZZ-ZZZZ")
    assert "找不到" in all_text(line.last(other))
    scan = client.post("/api/v1/scan", json={"member_no": _}, headers=counter.cashier).get_json()
    assert scan["balances"]["points"] == 0  # the other member got nothing


def test_expired_claim_code_is_refused(client, counter, line, make_member, clock):
    user, _ = make_member()
    claim = client.post("/api/v1/claims", json={"receipt_id": "R-old", "amount": 100}, headers=counter.cashier).get_json()
    clock.advance(days=4)
    line.say(user, f"領取 {claim['code']}")
    assert "過期" in all_text(line.last(user))


def test_openapi_documents_every_api_route(client, app):
    from openapi_spec_validator import validate

    doc = client.get("/openapi.json").get_json()
    validate(doc)
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, f"{method} {path} is not in /openapi.json"
