"""Reminders a marketer can trust (issue 16, items 3–6): service messages are not capped and wait
out quiet hours in the outbox, checked against what they are about when finally sent; every coupon
is announced; a delayed congratulation speaks of its occasion and is skipped once untrue; the
win-back reaches the NES stages the marketer picks, against a purchase cycle taken from the data."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.jobs.daily import run_daily
from bot.cli.jobs import run_outbox
from bot.jobs.journey_runner import run_journeys
from models.campaign import MarketingSend
from models.member import Member
from models.outbox import OutboxMessage
from tests.conftest import taipei_time
from tests.test_journeys import enable, report
from tests.test_journeys_more import give, pushes, redeem, template


def already_marketed(db, number: str, clock) -> None:  # type: ignore[no-untyped-def]
    """The member had a marketing message this week (a campaign), as the cap counts them."""
    with db.transaction() as s:
        member_id = s.scalar(select(Member.id).where(Member.member_no == number))
        s.add(MarketingSend(member_id=member_id, source="campaign:1", sent_at=clock.now))


def marketing_sends(db) -> int:  # type: ignore[no-untyped-def]
    with db.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(MarketingSend)) or 0)


# --- 3. service reminders are not marketing; quiet hours hold them, nothing is lost ------------

@pytest.mark.usefixtures("business_hours")
def test_coupon_expiring_reminder_over_the_marketing_cap_is_sent_and_not_counted(app, client, counter, make_member, fake_line, clock, db):
    svc = app.extensions["loyalty"]
    svc.settings = svc.settings.with_overrides(marketing_per_week=1)
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    enable(client, counter, "coupon_expiring", days_before=3)
    user, number = make_member()
    give(client, counter, template(client, counter, "拿鐵券"), number)  # expires in 10 days
    clock.advance(days=8)
    already_marketed(db, number, clock)
    run_journeys(svc)
    assert len(pushes(fake_line, user, "即將到期")) == 1
    assert report(client, counter, "coupon_expiring")["skipped"] == {}
    assert marketing_sends(db) == 1  # the reminder did not use up the member's marketing week


@pytest.mark.usefixtures("business_hours")
def test_tier_expiring_reminder_over_the_marketing_cap_is_sent(app, client, counter, tiers, make_member, fake_line, clock, db):
    svc = app.extensions["loyalty"]
    svc.settings = svc.settings.with_overrides(marketing_per_week=1)
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    enable(client, counter, "tier_expiring", days_before=14)
    user, number = make_member()
    counter.award(number, "R-1", amount=3500)  # silver for 365 days
    clock.advance(days=355)
    already_marketed(db, number, clock)
    run_journeys(svc)
    assert len(pushes(fake_line, user, "保級")) == 1
    assert report(client, counter, "tier_expiring")["skipped"] == {} and report(client, counter, "tier_expiring")["sent"] == 1
    assert marketing_sends(db) == 1


def test_a_marketing_journey_is_still_capped_with_its_reason(app, client, counter, make_member, fake_line, clock, db):
    svc = app.extensions["loyalty"]
    svc.settings = svc.settings.with_overrides(marketing_per_week=1)
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    enable(client, counter, "winback")
    user, number = make_member()
    counter.award(number, "R-1", amount=100)
    clock.set_taipei(10, days=40)
    already_marketed(db, number, clock)
    run_journeys(svc)
    assert pushes(fake_line, user, "好久不見") == []
    assert report(client, counter, "winback")["skipped"] == {"capped": 1}


def test_daily_reminders_in_quiet_hours_wait_for_the_morning_and_are_sent_once(app, client, counter, tiers, make_member, fake_line, clock):
    svc = app.extensions["loyalty"]
    clock.set_taipei(10)
    user, number = make_member()
    counter.award(number, "R-1", amount=3500)  # silver until a year from now
    clock.set_taipei(10, days=339)
    give(client, counter, template(client, counter, "拿鐵券", valid_days=2), number)
    clock.set_taipei(6, days=1)  # the scheduler's 06:00 run: inside the quiet hours (21–9)
    run_daily(svc)
    run_daily(svc)
    assert pushes(fake_line, user, "保級") == [] and pushes(fake_line, user, "將於") == []
    with svc.db.sessions() as s:
        held = s.scalars(select(OutboxMessage).where(OutboxMessage.purpose.in_(("tier_reminder", "coupon_reminder")))).all()
        assert sorted(r.purpose for r in held) == ["coupon_reminder", "tier_reminder"]
        assert {r.status for r in held} == {"pending"}
        assert {r.next_attempt_at for r in held} == {taipei_time(clock.today(), 9)}
    clock.set_taipei(8, 59)
    run_outbox(svc)
    assert pushes(fake_line, user, "保級") == []
    clock.set_taipei(9, 5)
    assert run_outbox(svc)["sent"] == 2
    run_outbox(svc)
    run_daily(svc)
    assert len(pushes(fake_line, user, "保級")) == 1 and len(pushes(fake_line, user, "「拿鐵券」將於")) == 1


def test_a_held_reminder_is_skipped_with_its_reason_when_it_is_no_longer_true(app, client, counter, tiers, make_member, fake_line, clock):
    svc = app.extensions["loyalty"]
    clock.set_taipei(10)
    user, number = make_member()
    counter.award(number, "R-1", amount=3500)
    clock.set_taipei(10, days=339)
    code = give(client, counter, template(client, counter, "拿鐵券", valid_days=2), number)
    clock.set_taipei(6, days=1)
    run_daily(svc)  # both reminders held until 09:00
    clock.set_taipei(7)
    redeem(client, counter, code, 90)  # an early customer uses the coupon …
    counter.award(number, "R-2", amount=3000)  # … and buys enough to keep the tier
    clock.set_taipei(9)
    result = run_outbox(svc)
    assert result["why"] == {"used": 1, "qualified": 1} and result["skipped"] == 2
    assert pushes(fake_line, user, "保級") == [] and pushes(fake_line, user, "將於") == []
    with svc.db.sessions() as s:
        assert sorted(s.scalars(select(OutboxMessage.last_error).where(OutboxMessage.status == "skipped"))) == ["qualified", "used"]


def test_a_service_journey_due_in_quiet_hours_waits_then_is_sent_once(app, client, counter, make_member, fake_line, clock, db):
    svc = app.extensions["loyalty"]
    svc.settings = svc.settings.with_overrides(marketing_per_week=1)
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    enable(client, counter, "coupon_expiring", days_before=3)
    clock.set_taipei(10)
    user, number = make_member()
    give(client, counter, template(client, counter, "拿鐵券"), number)
    clock.set_taipei(22, days=8)
    already_marketed(db, number, clock)
    run_journeys(svc)
    assert pushes(fake_line, user, "即將到期") == []
    clock.set_taipei(9, days=1)
    run_journeys(svc)
    run_journeys(svc)
    assert len(pushes(fake_line, user, "即將到期")) == 1
    assert report(client, counter, "coupon_expiring")["sent"] == 1


# --- 4. every coupon is announced once ---------------------------------------------------------

@pytest.mark.usefixtures("business_hours")
def test_birthday_month_coupon_is_announced_with_the_birthday_journey_on(app, client, counter, line, make_member, fake_line, clock):
    svc = app.extensions["loyalty"]
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    enable(client, counter, "birthday")  # speaks on the day only
    template(client, counter, "生日禮", trigger="birthday", valid_days=30)
    today = clock.today()
    born = today.replace(year=1990, day=1 if today.day != 1 else 2)  # this month, but not today: the journey stays silent
    user = line.user("壽星")
    line.join(user, birthday=born.isoformat())  # joined after (or before) the day itself
    run_daily(svc)
    run_daily(svc)
    announced = pushes(fake_line, user, "生日禮")
    assert len(announced) == 1 and "生日快樂" in announced[0]


@pytest.mark.usefixtures("business_hours")
def test_the_birthday_journey_announces_its_own_coupon_once(app, client, counter, line, make_member, fake_line, clock):
    svc = app.extensions["loyalty"]
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    gift = template(client, counter, "壽星蛋糕", valid_days=30)
    enable(client, counter, "birthday", coupon_template_id=gift)
    today = clock.today()
    user = line.user("壽星")
    line.join(user, birthday=today.replace(year=1990).isoformat() if (today.month, today.day) != (2, 29) else "1992-02-29")
    run_journeys(svc)
    run_daily(svc)
    assert len(pushes(fake_line, user, "壽星蛋糕")) == 1


# --- 5. a delayed message is checked against its occasion ----------------------------------

def short_tiers(client, counter) -> None:  # type: ignore[no-untyped-def]
    """一般 → 銀卡 (NT$3,000 in 1 day, kept for 1 day): a member can move up and down within days."""
    for body in ({"code": "basic", "name": "一般會員", "rank": 0, "threshold": 0},
                 {"code": "silver", "name": "銀卡", "rank": 1, "threshold": 3000, "window_days": 1, "period_days": 1}):
        assert client.post("/api/v1/admin/tiers", json=body, headers=counter.admin).status_code == 201


def test_a_delayed_tier_up_is_skipped_when_the_member_was_downgraded_in_between(app, client, counter, make_member, fake_line, clock):
    svc = app.extensions["loyalty"]
    short_tiers(client, counter)
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    enable(client, counter, "tier_up", text="👑 恭喜升級為「{tier}」！", delay_minutes=2 * 24 * 60)
    clock.set_taipei(10)
    user, number = make_member()
    counter.award(number, "R-1", amount=3500)  # silver for one day; the congratulation waits two
    clock.set_taipei(11, days=1)
    run_daily(svc)  # the period ended with nothing in the window: back to 一般會員
    assert len(pushes(fake_line, user, "調整為「一般會員」")) == 1
    clock.set_taipei(11, days=1)
    run_journeys(svc)
    assert pushes(fake_line, user, "恭喜升級") == []
    assert report(client, counter, "tier_up")["skipped"] == {"tier_changed": 1}


def test_tier_placeholders_describe_the_occasion(app, client, counter, tiers, make_member, fake_line, clock):
    svc = app.extensions["loyalty"]
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    enable(client, counter, "tier_up", text="👑 恭喜升級為「{tier}」！", delay_minutes=60)
    clock.set_taipei(10)
    user, number = make_member()
    counter.award(number, "R-1", amount=3500)  # silver
    clock.advance(minutes=61)
    with svc.db.transaction() as s:  # the brand renames the tier after the upgrade: the occasion was 銀卡
        from models.tier import Tier

        s.scalars(select(Tier).where(Tier.code == "silver")).one().name = "銀卡會員"
    run_journeys(svc)
    assert len(pushes(fake_line, user, "恭喜升級為「銀卡」")) == 1
    counter.award(number, "R-2", amount=7000)  # gold at once; silver's run, if still pending, would be untrue
    clock.advance(minutes=61)
    run_journeys(svc)
    assert len(pushes(fake_line, user, "恭喜升級為「金卡」")) == 1 and pushes(fake_line, user, "銀卡會員") == []


def test_a_silver_congratulation_still_waiting_when_the_member_reaches_gold_is_skipped(app, client, counter, tiers, make_member, fake_line, clock):
    svc = app.extensions["loyalty"]
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    enable(client, counter, "tier_up", text="👑 恭喜升級為「{tier}」！", delay_minutes=60)
    clock.set_taipei(10)
    user, number = make_member()
    counter.award(number, "R-1", amount=3500)  # silver
    clock.advance(minutes=10)
    counter.award(number, "R-2", amount=7000)  # gold before silver's message is due
    clock.advance(minutes=70)
    run_journeys(svc)
    assert pushes(fake_line, user, "恭喜升級為「銀卡」") == []
    assert len(pushes(fake_line, user, "恭喜升級為「金卡」")) == 1
    assert report(client, counter, "tier_up")["skipped"] == {"tier_changed": 1}


# --- 6. win-back reaches the stages the marketer picks; the cycle comes from the data -------

def test_winback_targets_are_validated_and_listed(client, counter):
    listed = {j["kind"]: j for j in client.get("/api/v1/admin/journeys", headers=counter.admin).get_json()["journeys"]}
    assert listed["winback"]["target_nes"] == ["S1", "S2"] and "target_nes" not in listed["welcome"]
    for bad in (["S4"], [], "S3", ["S1", "S1"]):
        resp = client.put("/api/v1/admin/journeys/winback", json={"target_nes": bad}, headers=counter.admin)
        assert resp.status_code == 422 and resp.get_json()["details"]["field"] == "target_nes", bad
    assert client.put("/api/v1/admin/journeys/welcome", json={"target_nes": ["S1"]}, headers=counter.admin).status_code == 422
    assert enable(client, counter, "winback", target_nes=["S3", "S1"])["target_nes"] == ["S1", "S3"]


@pytest.mark.usefixtures("business_hours")
def test_winback_reaches_s3_when_the_marketer_picks_it(app, client, counter, make_member, fake_line, clock):
    svc = app.extensions["loyalty"]
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    enable(client, counter, "winback")
    big, big_no = make_member("大戶")
    counter.award(big_no, "B-1", amount=9000)
    clock.advance(days=100)  # S3: over three 30-day cycles
    assert run_journeys(svc)["found"]["winback"] == 0  # the default targets S1 and S2, as before
    enable(client, counter, "winback", target_nes=["S1", "S2", "S3"])
    assert run_journeys(svc)["found"]["winback"] == 1
    assert len(pushes(fake_line, big, "好久不見")) == 1


def test_purchase_cycle_is_the_median_gap_with_an_override(app, client, counter, make_member, clock):
    svc = app.extensions["loyalty"]
    clock.set_taipei(10)
    _, regular = make_member("常客")
    _, other = make_member("偶爾")
    cycle = lambda: client.get("/api/v1/admin/journeys", headers=counter.admin).get_json()["purchase_cycle"]  # noqa: E731
    for i in range(20):
        counter.award(regular, f"A-{i}", amount=100)
        if i < 11:
            counter.award(other, f"B-{i}", amount=100)
        clock.advance(days=10)
    assert cycle() == {"days": 30, "source": "default", "gaps": 29, "median_days": 10.0, "min_gaps": 30, "sampled": False}
    counter.award(other, "B-last", amount=100)  # the 30th gap (100 days): the median of the gaps is 10 days
    assert cycle() == {"days": 10, "source": "data", "gaps": 30, "median_days": 10.0, "min_gaps": 30, "sampled": False}
    clock.advance(days=15)  # last purchases 25 days (2.5 cycles: S2) and 15 days (S1) ago
    body = client.post("/api/v1/admin/segments/recompute", headers=counter.admin).get_json()
    assert body["nes"] == {"N": 0, "E0": 0, "S1": 1, "S2": 1, "S3": 0}
    svc.settings = svc.settings.with_overrides(purchase_cycle_days=45)
    assert cycle()["source"] == "override" and cycle()["days"] == 45
    body = client.post("/api/v1/admin/segments/recompute", headers=counter.admin).get_json()
    assert body["nes"]["E0"] == 2


def test_purchase_cycle_defaults_to_30_days_with_few_gaps(client, counter, make_member, clock):
    _, number = make_member()
    for i in range(3):
        counter.award(number, f"R-{i}", amount=100)
        clock.advance(days=3)
    got = client.get("/api/v1/admin/journeys", headers=counter.admin).get_json()["purchase_cycle"]
    assert got["days"] == 30 and got["source"] == "default" and got["gaps"] == 2 and got["median_days"] == 3.0


def test_a_large_ledger_takes_the_cycle_from_a_stable_sample_of_members(app, client, counter, make_member, clock, db, is_postgres, monkeypatch):
    if not is_postgres:
        pytest.skip("sampling uses PostgreSQL's row estimate; the embedded SQLite default is small")
    import models.segment as segment

    clock.set_taipei(10)
    numbers = [make_member(f"客{i}")[1] for i in range(6)]
    for i in range(8):
        for n in numbers:
            counter.award(n, f"{n}-{i}", amount=100)
        clock.advance(days=7)
    with db.transaction() as s:
        s.execute(segment.text("ANALYZE award"))
        whole = segment.purchase_cycle(s)
    monkeypatch.setattr(segment, "SAMPLE_AWARDS", 10)  # 48 awards: every 5th member
    with db.transaction() as s:
        sampled = segment.purchase_cycle(s)
    assert (whole.sampled, whole.gaps, whole.days) == (False, 42, 7)
    assert sampled.sampled and 0 < sampled.gaps < whole.gaps and sampled.gaps % 7 == 0 and sampled.median_days == 7.0
