"""Coupons: templates, every way of issuing, the member's carousel, counter redemption and its errors."""
from __future__ import annotations

import re
from datetime import timedelta

from tests.conftest import Counter, all_text, next_birthday, taipei_time


def template(client, counter, **overrides):  # type: ignore[no-untyped-def]
    body = {"name": "折 50 元", "kind": "amount_off", "value": 50, "min_spend": 200, "valid_days": 30, **overrides}
    resp = client.post("/api/v1/admin/coupon-templates", json=body, headers=counter.admin)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def issue(client, counter, template_id, number, **extra):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/admin/coupon-templates/{template_id}/issue", json={"member_no": number, **extra}, headers=counter.admin)


def coupon_token(line, user) -> str:  # type: ignore[no-untyped-def]
    line.say(user, "我的優惠券")
    return re.search(r"/qr/coupon/([^\"]+)\.png", all_text(line.last(user))).group(1)


def redeem(client, counter, token, amount=300, headers=None):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/coupons/redeem", json={"token": token, "amount": amount}, headers=headers or counter.cashier)


def test_welcome_coupon_on_joining_shows_in_my_coupons(client, counter, line, make_member):
    template(client, counter, name="入會禮 85 折", kind="percent_off", value=15, min_spend=0, trigger="welcome")
    user, number = make_member()
    assert "入會禮「入會禮 85 折」" in all_text(line.replies(user))
    line.say(user, "我的優惠券")
    carousel = line.last(user)[0]
    assert carousel["contents"]["type"] == "carousel"
    assert "85 折" in all_text([carousel]) and "/qr/coupon/" in all_text([carousel])
    scan = client.post("/api/v1/scan", json={"member_no": number}, headers=counter.cashier).get_json()
    assert [c["name"] for c in scan["coupons"]] == ["入會禮 85 折"]


def test_manual_issue_push_and_redeem_once(client, counter, line, make_member, fake_line):
    tpl = template(client, counter)
    user, number = make_member()
    first = issue(client, counter, tpl["id"], number, occasion="apology-1")
    assert first.status_code == 201
    assert "獲得優惠券「折 50 元」" in all_text(fake_line.messages_to(user)[-1]["messages"])
    assert issue(client, counter, tpl["id"], number, occasion="apology-1").status_code == 200  # same occasion: once
    token = coupon_token(line, user)
    check = client.post("/api/v1/coupons/check", json={"token": token, "amount": 300}, headers=counter.cashier)
    assert check.status_code == 200 and check.get_json()["usable"] is True
    ok = redeem(client, counter, token)
    assert ok.status_code == 200 and ok.get_json()["coupon"]["status"] == "redeemed"
    again = redeem(client, counter, token)
    assert again.status_code == 409 and again.get_json()["code"] == "coupon_already_redeemed"
    line.say(user, "我的優惠券")
    assert "目前沒有可使用的優惠券" in all_text(line.last(user))


def test_each_refusal_has_its_own_code(client, counter, line, make_member, clock):
    other = Counter(client, code="KHH01", name="高雄店")
    only_kaohsiung = template(client, counter, name="高雄限定", store_codes=["KHH01"])
    short = template(client, counter, name="短效", valid_days=1)
    withdrawn = template(client, counter, name="撤回")
    user, number = make_member()
    for tpl in (only_kaohsiung, short, withdrawn):
        issue(client, counter, tpl["id"], number)
    line.say(user, "我的優惠券")
    tokens = dict(zip(["短效", "高雄限定", "撤回"], re.findall(r"/qr/coupon/([^\"]+)\.png", all_text(line.last(user)))))

    assert redeem(client, counter, tokens["高雄限定"]).get_json()["code"] == "coupon_wrong_store"
    assert redeem(client, counter, tokens["高雄限定"], amount=100, headers=other.cashier).get_json()["code"] == "coupon_min_spend"
    code = tokens["撤回"].split(".")[0]
    assert client.post(f"/api/v1/admin/coupons/{code}/void", json={"reason": "發錯"}, headers=counter.admin).status_code == 200
    assert redeem(client, counter, tokens["撤回"]).get_json()["code"] == "coupon_voided"
    tampered = tokens["短效"][:-3] + "abc"
    resp = redeem(client, counter, tampered)
    assert resp.status_code == 409 and resp.get_json()["code"] == "coupon_token_invalid"
    clock.advance(days=2)
    assert redeem(client, counter, tokens["短效"]).get_json()["code"] == "coupon_expired"
    assert redeem(client, counter, tokens["高雄限定"], headers=other.cashier).status_code == 200


def test_void_redemption_is_manager_only_and_recorded(client, counter, line, make_member):
    tpl = template(client, counter)
    user, number = make_member()
    issue(client, counter, tpl["id"], number)
    token = coupon_token(line, user)
    redeem(client, counter, token)
    body = {"token": token, "reason": "結帳取消"}
    denied = client.post("/api/v1/coupons/void-redemption", json=body, headers=counter.cashier)
    assert denied.status_code == 403 and denied.get_json()["code"] == "manager_only"
    ok = client.post("/api/v1/coupons/void-redemption", json=body, headers=counter.manager)
    assert ok.status_code == 200 and ok.get_json()["coupon"]["status"] == "issued"
    from sqlalchemy import select

    from models.coupon import CouponEvent

    with client.application.extensions["loyalty"].db.sessions() as s:
        kinds = list(s.scalars(select(CouponEvent.kind).order_by(CouponEvent.id)))
        notes = list(s.scalars(select(CouponEvent.note).where(CouponEvent.kind == "voided")))
    assert kinds == ["issued", "redeemed", "voided"] and notes == ["結帳取消"]


def test_stock_and_per_member_limit(client, counter, make_member):
    tpl = template(client, counter, total_stock=2, per_member_limit=1)
    _, a = make_member("甲")
    _, b = make_member("乙")
    _, c = make_member("丙")
    assert issue(client, counter, tpl["id"], a).status_code == 201
    limited = issue(client, counter, tpl["id"], a)
    assert limited.status_code == 422 and limited.get_json()["code"] == "coupon_member_limit"
    assert issue(client, counter, tpl["id"], b).status_code == 201
    out = issue(client, counter, tpl["id"], c)
    assert out.status_code == 422 and out.get_json()["code"] == "coupon_out_of_stock"


def test_stamp_card_reward_as_coupon(client, counter, make_member):
    template(client, counter, name="集滿送 100 元", value=100, min_spend=0, trigger="stamp_card")
    _, number = make_member()
    counter.rule(stamps_per_visit=1, card_size=2, reward_kind="coupon", reward_name="集滿送 100 元")
    counter.award(number, "R-1", visit=True)
    resp = counter.award(number, "R-2", visit=True).get_json()
    assert resp["award"]["coupons_issued"] == ["集滿送 100 元"]
    assert resp["member"]["rewards"] == []  # converted to the coupon
    assert [c["name"] for c in resp["member"]["coupons"]] == ["集滿送 100 元"]


def test_tier_upgrade_coupon(client, counter, tiers, make_member):
    gift = template(client, counter, name="升級禮", trigger="tier_upgrade")
    client.put("/api/v1/admin/tiers/silver", json={"upgrade_template_id": gift["id"]}, headers=counter.admin)
    _, number = make_member()
    resp = counter.award(number, "R-1", amount=3000).get_json()
    assert resp["award"]["coupons_issued"] == ["升級禮"]


def test_birthday_coupon_once_a_year_and_expiry_reminder_once(app, client, counter, line, make_member, fake_line, clock):
    template(client, counter, name="生日禮", trigger="birthday", valid_days=10, min_spend=0)
    user, _ = make_member()  # born half a year from today (conftest)
    runner = app.test_cli_runner()
    runner.invoke(args=["loyalty", "daily"])
    assert not any("生日快樂" in all_text(d["messages"]) for d in fake_line.messages_to(user))
    clock.now = taipei_time(next_birthday(clock.today(), line.birthday).replace(day=1), 10)  # the birthday month begins
    for _ in range(2):
        out = runner.invoke(args=["loyalty", "daily"])
        assert out.exit_code == 0, out.output
    births = [d for d in fake_line.messages_to(user) if "生日快樂" in all_text(d["messages"])]
    assert len(births) == 1
    clock.advance(days=8)  # two days left: the reminder window (3 days)
    runner.invoke(args=["loyalty", "daily"])
    runner.invoke(args=["loyalty", "daily"])
    assert len([d for d in fake_line.messages_to(user) if "即將到期" in all_text(d["messages"]) or "將於" in all_text(d["messages"])]) == 1
    clock.advance(days=3)
    out = runner.invoke(args=["loyalty", "daily"])
    assert "coupons_expired: 1" in out.output
    clock.now = clock.now + timedelta(days=365)
    runner.invoke(args=["loyalty", "daily"])  # a new year: a new birthday coupon
    assert len([d for d in fake_line.messages_to(user) if "生日快樂" in all_text(d["messages"])]) == 2


def test_template_validation_points_at_the_field(client, counter):
    cases = [
        ({"name": "x", "kind": "cash", "valid_days": 3}, "kind"),
        ({"name": "x", "kind": "percent_off", "value": 120, "valid_days": 3}, "value"),
        ({"name": "x", "kind": "amount_off", "value": 10}, "valid_days"),
        ({"name": "x", "kind": "amount_off", "value": 10, "valid_until": "2027-01-01T00:00:00"}, "valid_until"),
        ({"name": "x", "kind": "amount_off", "value": 10, "valid_days": 3, "store_codes": ["NOPE"]}, "store_codes"),
    ]
    for body, field in cases:
        resp = client.post("/api/v1/admin/coupon-templates", json=body, headers=counter.admin)
        assert resp.status_code == 422 and resp.get_json()["details"]["field"] == field, (body, resp.get_json())


def test_lookup_shows_a_coupon_in_every_state(client, counter, line, make_member, clock):
    """POST /api/v1/coupons/lookup: what the cashier page shows of a scanned or typed coupon."""
    tpl = template(client, counter, name="滿 200 折 50", min_spend=200, store_codes=["TPE01"])
    user, number = make_member("王小美")
    issue(client, counter, tpl["id"], number, occasion="o-1")
    token = coupon_token(line, user)
    seen = client.post("/api/v1/coupons/lookup", json={"token": token}, headers=counter.cashier)
    assert seen.status_code == 200, seen.get_json()
    body = seen.get_json()
    assert body["usable"] is True and body["problem"] is None and body["needs_amount"] is True and body["can_void"] is False
    assert body["redeemed_here"] is False
    assert body["member"] == {"member_no": number, "name": "王小美"}
    assert body["coupon"]["description"] == "折抵 NT$50" and body["coupon"]["min_spend"] == "200" and body["coupon"]["stores"] == ["TPE01"]
    code = body["coupon"]["code"]
    by_code = client.post("/api/v1/coupons/lookup", json={"code": code.lower()}, headers=counter.cashier).get_json()
    assert by_code["coupon"]["code"] == code  # typed by hand, in any case

    assert redeem(client, counter, token, amount=250).status_code == 200
    used = client.post("/api/v1/coupons/lookup", json={"code": code}, headers=counter.cashier).get_json()
    assert used["usable"] is False and used["problem"] == "coupon_already_redeemed" and used["can_void"] is True
    assert used["coupon"]["redeemed_amount"] == "250" and used["redeemed_here"] is True
    void = client.post("/api/v1/coupons/void-redemption", json={"code": code, "reason": "取消交易"}, headers=counter.manager)
    assert void.status_code == 200
    again = client.post("/api/v1/coupons/lookup", json={"code": code}, headers=counter.cashier).get_json()
    assert again["usable"] is True and again["can_void"] is False
    assert redeem(client, counter, token, amount=250).status_code == 200
    final = client.post("/api/v1/coupons/lookup", json={"code": code}, headers=counter.cashier).get_json()
    assert final["problem"] == "coupon_already_redeemed" and final["can_void"] is False  # voided once already

    other = Counter(client, code="KHH01", name="高雄店")
    elsewhere = client.post("/api/v1/coupons/lookup", json={"code": code}, headers=other.cashier).get_json()
    assert elsewhere["can_void"] is False and elsewhere["redeemed_here"] is False
    fresh = issue(client, counter, tpl["id"], number, occasion="o-2").get_json()["coupon"]["code"]
    wrong = client.post("/api/v1/coupons/lookup", json={"code": fresh}, headers=other.cashier).get_json()
    assert wrong["usable"] is False and wrong["problem"] == "coupon_wrong_store"
    clock.advance(days=31)
    assert client.post("/api/v1/coupons/lookup", json={"code": fresh}, headers=counter.cashier).get_json()["problem"] == "coupon_expired"
    missing = client.post("/api/v1/coupons/lookup", json={"code": "ZZZZZZZZZZ"}, headers=counter.cashier)
    assert missing.status_code == 404 and missing.get_json()["code"] == "coupon_not_found"
    bad = client.post("/api/v1/coupons/lookup", json={"token": token[:-2] + "xx"}, headers=counter.cashier)
    assert bad.get_json()["code"] == "coupon_token_invalid"
    assert client.post("/api/v1/coupons/lookup", json={"code": code}).status_code == 401
