"""More journeys through time: tier expiring and coupon expiring (once per period, once per
coupon, replacing the daily job's built-in reminders), repeated awards for tier up and the
almost-full card, and the report's redeemed coupons and revenue within N days."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.jobs.daily import run_daily
from bot.jobs.journey_runner import run_journeys
from models.coupon import Coupon
from models.member import Member
from tests.conftest import all_text
from tests.test_journeys import enable, report, said

#: Sending runs in shop hours; quiet hours are tested on purpose where they matter.
pytestmark = pytest.mark.usefixtures("business_hours")


def pushes(fake_line, user, words) -> list[str]:  # type: ignore[no-untyped-def]
    """The pushes to the user that mention the words, as text."""
    return [t for t in (all_text(d["messages"]) for d in fake_line.messages_to(user) if d["kind"] == "push") if words in t]


def template(client, counter, name, **fields):  # type: ignore[no-untyped-def]
    body = {"name": name, "kind": "amount_off", "value": 30, "valid_days": 10, **fields}
    resp = client.post("/api/v1/admin/coupon-templates", json=body, headers=counter.admin)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def give(client, counter, template_id, number) -> str:  # type: ignore[no-untyped-def]
    resp = client.post(f"/api/v1/admin/coupon-templates/{template_id}/issue", json={"member_no": number}, headers=counter.admin)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["coupon"]["code"]


def redeem(client, counter, code, amount):  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/coupons/redeem", json={"code": code, "amount": amount}, headers=counter.cashier)
    assert resp.status_code == 200, resp.get_json()


def switch(client, counter, kind, on):  # type: ignore[no-untyped-def]
    assert client.put(f"/api/v1/admin/journeys/{kind}", json={"enabled": on}, headers=counter.admin).status_code == 200


# --- tier expiring -------------------------------------------------------------------------

def test_tier_expiring_once_per_period_with_what_it_takes(app, client, counter, tiers, make_member, fake_line, clock):
    svc = app.extensions["loyalty"]
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    enable(client, counter, "tier_expiring", text="{name}，您的「{tier}」快到期了", days_before=14)
    start = clock.now
    first_end, second_end = (f"{clock.today() + timedelta(days=365 * n):%Y/%m/%d}" for n in (1, 2))  # on 2026-11-23: 2027/11/23, 2028/11/22
    short, short_no = make_member("阿短")
    kept, kept_no = make_member("阿保")
    counter.award(short_no, "S-1", amount=3500)  # silver until start + 365 days
    counter.award(kept_no, "K-1", amount=3500)
    clock.advance(days=100)
    counter.award(kept_no, "K-2", amount=3000)  # already enough for the next period: nothing to say
    clock.now = start + timedelta(days=340)
    run_daily(svc)  # inside the tier's own 30-day reminder window: the journey replaces the built-in reminder
    assert pushes(fake_line, short, "保級") == []
    clock.now = start + timedelta(days=352)  # 13 days before the period ends
    for hours in (0, 3, 20):
        clock.now = start + timedelta(days=352, hours=hours)
        run_journeys(svc)
    run_daily(svc)
    sent = pushes(fake_line, short, "保級")
    assert len(sent) == 1
    assert "阿短，您的「銀卡」快到期了" in sent[0] and first_end in sent[0] and "再消費 NT$3,000 即可保級" in sent[0]
    assert pushes(fake_line, kept, "快到期了") == []
    switch(client, counter, "tier_expiring", False)  # switched off later: the built-in reminder knows it was said
    clock.advance(days=1)
    run_daily(svc)
    assert len(pushes(fake_line, short, "保級")) == 1
    switch(client, counter, "tier_expiring", True)
    counter.award(short_no, "S-2", amount=3000)  # keeps the tier
    clock.now = start + timedelta(days=366)
    run_daily(svc)  # renewed until second_end
    assert len(pushes(fake_line, short, "資格已續約")) == 1
    clock.now = start + timedelta(days=365 + 352)  # the next period: S-2 counted for the last one, not this one
    run_journeys(svc)
    run_journeys(svc)
    sent = pushes(fake_line, short, "保級")
    assert len(sent) == 2 and second_end in sent[1] and "再消費 NT$3,000" in sent[1]
    assert report(client, counter, "tier_expiring")["sent"] == 3  # both members in the second period


def test_tier_expiring_skipped_when_the_member_qualifies_before_it_is_sent(app, client, counter, tiers, make_member, fake_line, clock):
    svc = app.extensions["loyalty"]
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    enable(client, counter, "tier_expiring", delay_minutes=120)
    user, number = make_member()
    counter.award(number, "R-1", amount=3500)
    clock.advance(days=355)
    assert run_journeys(svc)["found"]["tier_expiring"] == 1
    clock.advance(hours=1)
    counter.award(number, "R-2", amount=5000)  # buys enough while the run waits
    clock.advance(hours=2)
    run_journeys(svc)
    assert pushes(fake_line, user, "保級") == []
    assert report(client, counter, "tier_expiring")["skipped"] == {"qualified": 1}


# --- coupon expiring -----------------------------------------------------------------------

def test_coupon_expiring_once_per_coupon_and_replaces_the_daily_reminder(app, client, counter, make_member, fake_line, clock):
    svc = app.extensions["loyalty"]
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    enable(client, counter, "coupon_expiring", days_before=3)
    user, number = make_member()
    give(client, counter, template(client, counter, "拿鐵券"), number)  # expires in 10 days
    give(client, counter, template(client, counter, "鬆餅券", valid_days=12), number)
    redeem(client, counter, give(client, counter, template(client, counter, "蛋糕券"), number), 120)
    voided = give(client, counter, template(client, counter, "司康券"), number)
    assert client.post(f"/api/v1/admin/coupons/{voided}/void", json={"reason": "發錯"}, headers=counter.admin).status_code == 200
    start = clock.now
    clock.advance(days=8)
    for _ in range(3):
        run_journeys(svc)
        clock.advance(hours=2)
    assert len(pushes(fake_line, user, "即將到期")) == 1 and pushes(fake_line, user, "即將到期")[0].count("拿鐵券") == 1
    clock.now = start + timedelta(days=9)
    run_daily(svc)  # the 鬆餅券 is now 3 days from its end; no built-in reminder for either
    run_daily(svc)
    assert [("拿鐵券" in t, "鬆餅券" in t) for t in pushes(fake_line, user, "即將到期")] == [(True, False), (False, True)]
    assert pushes(fake_line, user, "將於") == []
    used = pushes(fake_line, user, "已使用優惠券「蛋糕券」")  # the redemption's own push
    assert len(used) == 1 and [p for p in pushes(fake_line, user, "蛋糕券") if p not in used] == pushes(fake_line, user, "獲得優惠券「蛋糕券」")
    assert pushes(fake_line, user, "司康券") == pushes(fake_line, user, "獲得優惠券「司康券」")
    switch(client, counter, "coupon_expiring", False)  # off again: the built-in reminder skips coupons already reminded
    give(client, counter, template(client, counter, "餅乾券", valid_days=2), number)
    run_daily(svc)
    assert len(pushes(fake_line, user, "將於")) == 1 and "餅乾券" in pushes(fake_line, user, "將於")[0]
    assert report(client, counter, "coupon_expiring")["sent"] == 2


def test_coupon_used_before_its_reminder_is_sent_is_skipped(app, client, counter, make_member, fake_line, clock):
    svc = app.extensions["loyalty"]
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    enable(client, counter, "coupon_expiring", days_before=3, delay_minutes=60)
    user, number = make_member()
    code = give(client, counter, template(client, counter, "拿鐵券"), number)
    clock.advance(days=8)
    assert run_journeys(svc)["found"]["coupon_expiring"] == 1
    redeem(client, counter, code, 90)
    clock.advance(hours=2)
    run_journeys(svc)
    assert pushes(fake_line, user, "即將到期") == []
    assert report(client, counter, "coupon_expiring")["skipped"] == {"used": 1}


def test_reminders_the_daily_job_already_sent_are_not_repeated_by_the_journeys(app, client, counter, tiers, make_member, fake_line, clock):
    svc = app.extensions["loyalty"]
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    user, number = make_member()
    counter.award(number, "R-1", amount=3500)  # silver for 365 days
    clock.advance(days=340)
    give(client, counter, template(client, counter, "拿鐵券", valid_days=2), number)
    run_daily(svc)  # both journeys off: the built-in reminders
    assert len(pushes(fake_line, user, "保級")) == 1 and len(pushes(fake_line, user, "「拿鐵券」將於")) == 1
    enable(client, counter, "tier_expiring", days_before=30)
    enable(client, counter, "coupon_expiring", days_before=3)
    run_journeys(svc)
    clock.advance(days=1)
    run_daily(svc)
    assert len(pushes(fake_line, user, "保級")) == 1 and pushes(fake_line, user, "即將到期") == []
    assert report(client, counter, "tier_expiring")["skipped"] == {"reminded": 1}
    assert report(client, counter, "coupon_expiring")["triggered"] == 0


# --- once per upgrade, once per card -------------------------------------------------------

def test_tier_up_once_per_upgrade(app, client, counter, tiers, make_member, fake_line, clock):
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    enable(client, counter, "tier_up", text="🎉 {tier}禮遇已啟用")
    user, number = make_member()
    counter.award(number, "R-1", amount=3500)
    counter.award(number, "R-2", amount=200)  # still silver: no new upgrade
    assert counter.award(number, "R-1", amount=3500).status_code == 200  # a replay
    assert len(pushes(fake_line, user, "銀卡禮遇")) == 1
    clock.advance(days=2)
    counter.award(number, "R-3", amount=7000)  # 10,700 within the window: gold
    assert len(pushes(fake_line, user, "金卡禮遇")) == 1 and len(pushes(fake_line, user, "銀卡禮遇")) == 1
    clock.advance(days=368)
    run_daily(app.extensions["loyalty"])  # gold's period ended with nothing in the window: back to the basic tier
    assert len(pushes(fake_line, user, "調整為「一般會員」")) == 1
    counter.award(number, "R-4", amount=3500)  # a new upgrade to silver, a new occasion
    counter.award(number, "R-5", amount=100)
    assert len(pushes(fake_line, user, "銀卡禮遇")) == 2
    assert report(client, counter, "tier_up")["sent"] == 3


def test_card_almost_full_once_per_card(client, counter, make_member, fake_line):
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    enable(client, counter, "card_almost_full")
    counter.rule(stamps_per_visit=1, card_size=3, amount_per_point="10")
    user, number = make_member()
    counter.award(number, "R-1", visit=True)
    counter.award(number, "R-2", visit=True)  # 2 of 3
    counter.award(number, "R-3", amount=300)  # points only: still 2 of 3, the same card
    counter.award(number, "R-2", visit=True)  # a replay
    assert said(fake_line, user, "再集 1 章就能兌換") == 1
    counter.award(number, "R-4", visit=True)  # full: the reward, a new card
    counter.award(number, "R-5", visit=True)
    counter.award(number, "R-6", visit=True)  # 2 of 3 on the second card
    counter.award(number, "R-7", amount=100)
    assert said(fake_line, user, "再集 1 章就能兌換") == 2
    assert report(client, counter, "card_almost_full")["sent"] == 2


# --- the report: coupons redeemed and revenue within N days --------------------------------

def test_report_counts_redemptions_and_revenue_within_the_window(app, client, counter, make_member, fake_line, clock, db):
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    gift = template(client, counter, "見面禮", valid_days=30)
    enable(client, counter, "welcome", coupon_template_id=gift)
    _, soon_no = make_member("阿快")
    _, late_no = make_member("阿慢")
    with db.sessions() as s:
        codes = dict(s.execute(select(Member.member_no, Coupon.code).join(Coupon, Coupon.member_id == Member.id)
                               .where(Coupon.occasion.startswith("journey:welcome:"))).all())
    assert set(codes) == {soon_no, late_no}
    clock.advance(days=3)
    redeem(client, counter, codes[soon_no], 150)
    counter.award(soon_no, "R-1", amount=150)
    clock.advance(days=17)  # 20 days after the welcome
    redeem(client, counter, codes[late_no], 200)
    counter.award(late_no, "R-2", amount=200)
    two_weeks = report(client, counter, "welcome")
    assert (two_weeks["sent"], two_weeks["coupons_redeemed"], two_weeks["window_days"]) == (2, 1, 14)
    assert Decimal(two_weeks["coupon_revenue"]) == 150 and Decimal(two_weeks["revenue_within_days"]) == 150
    month = client.get("/api/v1/admin/journeys/welcome/report?days=30", headers=counter.admin).get_json()
    assert month["coupons_redeemed"] == 2
    assert Decimal(month["coupon_revenue"]) == 350 and Decimal(month["revenue_within_days"]) == 350
    listed = {j["kind"]: j["report"] for j in client.get("/api/v1/admin/journeys", headers=counter.admin).get_json()["journeys"]}
    assert listed["welcome"]["coupons_redeemed"] == 1
