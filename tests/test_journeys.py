"""Automations through time with a controllable clock: each journey once per occasion,
blocked members skipped, the frequency cap shared with campaigns, two workers send once."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.dev import lineevents as ev
from bot.jobs.journey_runner import process_due, run_journeys, send_run
from models.journey import JourneyRun
from tests.conftest import all_text, next_birthday, taipei_time

#: Sending runs in shop hours; quiet hours are tested on purpose where they matter.
pytestmark = pytest.mark.usefixtures("business_hours")


def birthday_of(line, clock):  # type: ignore[no-untyped-def]
    """The next birthday of the members ``make_member`` makes (half a year from the clock's day)."""
    return next_birthday(clock.today(), line.birthday)


def enable(client, counter, kind, **changes):  # type: ignore[no-untyped-def]
    resp = client.put(f"/api/v1/admin/journeys/{kind}", json={"enabled": True, **changes}, headers=counter.admin)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def said(fake_line, user, words) -> int:  # type: ignore[no-untyped-def]
    return len([d for d in fake_line.messages_to(user) if d["kind"] == "push" and words in all_text(d["messages"])])


def report(client, counter, kind):  # type: ignore[no-untyped-def]
    return client.get(f"/api/v1/admin/journeys/{kind}/report", headers=counter.admin).get_json()


def test_journeys_are_listed_off_by_default_and_validated(client, counter):
    listed = client.get("/api/v1/admin/journeys", headers=counter.admin).get_json()["journeys"]
    assert [j["kind"] for j in listed] == ["welcome", "birthday", "winback", "tier_up", "tier_expiring", "card_almost_full", "coupon_expiring"]
    assert not any(j["enabled"] for j in listed)
    bad = client.put("/api/v1/admin/journeys/welcome", json={"text": "嗨 {nickname}"}, headers=counter.admin)
    assert bad.status_code == 422 and bad.get_json()["details"]["field"] == "text"
    assert client.put("/api/v1/admin/journeys/nope", json={}, headers=counter.admin).status_code == 404


def test_welcome_journey_with_coupon_once(client, counter, line, make_member, fake_line):
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    tpl = client.post("/api/v1/admin/coupon-templates", json={"name": "見面禮", "kind": "amount_off", "value": 30, "valid_days": 30},
                      headers=counter.admin).get_json()
    enable(client, counter, "welcome", text="歡迎 {name} 加入 {brand}！", coupon_template_id=tpl["id"])
    user, _ = make_member("阿明")
    assert said(fake_line, user, "歡迎 阿明 加入 好日子咖啡") == 1
    assert "見面禮" in all_text([d["messages"] for d in fake_line.messages_to(user) if d["kind"] == "push"])
    line.post(ev.unfollow_event(user))
    line.follow(user, unblocked=True)  # following again is not joining again
    assert said(fake_line, user, "歡迎 阿明") == 1
    assert report(client, counter, "welcome")["sent"] == 1


def test_birthday_journey_once_a_year(app, client, counter, line, make_member, fake_line, clock):
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    enable(client, counter, "birthday", days_before=3)
    user, _ = make_member()
    svc = app.extensions["loyalty"]
    birthday = birthday_of(line, clock)
    clock.now = taipei_time(birthday - timedelta(days=3), 10)
    for _ in range(3):
        run_journeys(svc)
    assert said(fake_line, user, "生日快樂") == 1
    clock.now = taipei_time(birthday.replace(year=birthday.year + 1) - timedelta(days=1), 10)
    run_journeys(svc)
    assert said(fake_line, user, "生日快樂") == 2


def test_winback_once_per_lapse_and_stops_when_member_returns(app, client, counter, make_member, fake_line, clock):
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    enable(client, counter, "winback", delay_minutes=60 * 24)  # wait a day before sending
    user, number = make_member()
    counter.award(number, "R-1", amount=100)
    svc = app.extensions["loyalty"]
    clock.advance(days=40)  # S1: lapsed one cycle
    run_journeys(svc)
    assert said(fake_line, user, "好久不見") == 0  # the delay
    clock.advance(days=2)
    run_journeys(svc)
    assert said(fake_line, user, "好久不見") == 1
    clock.advance(days=20)
    run_journeys(svc)  # still the same lapse (S2 now): no second message
    assert said(fake_line, user, "好久不見") == 1
    counter.award(number, "R-2", amount=100)  # came back
    clock.advance(days=40)  # a new lapse
    run_journeys(svc)
    clock.advance(hours=3)
    counter.award(number, "R-3", amount=100)  # came back before the delay ran out
    clock.advance(days=2)
    run_journeys(svc)
    assert said(fake_line, user, "好久不見") == 1
    assert report(client, counter, "winback")["skipped"] == {"came_back": 1}


def test_tier_up_and_card_almost_full_as_they_happen(client, counter, tiers, make_member, fake_line):
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    enable(client, counter, "tier_up")
    enable(client, counter, "card_almost_full")
    counter.rule(stamps_per_visit=1, card_size=3, amount_per_point="10")
    user, number = make_member()
    counter.award(number, "R-1", visit=True)
    counter.award(number, "R-2", amount=3500, visit=True)  # 2 of 3 stamps, and silver
    assert said(fake_line, user, "恭喜升級為「銀卡」") == 1  # the journey's, not the award push's as well
    assert said(fake_line, user, "再集 1 章就能兌換") == 1
    counter.award(number, "R-3", visit=True)  # card full
    counter.award(number, "R-4", visit=True)
    counter.award(number, "R-5", visit=True)  # 2 of 3 again: a new card, a new occasion
    assert said(fake_line, user, "再集 1 章就能兌換") == 2


def test_blocked_member_is_skipped(app, client, counter, line, make_member, fake_line, clock):
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    enable(client, counter, "birthday")
    user, _ = make_member()
    line.post(ev.unfollow_event(user))
    clock.now = taipei_time(birthday_of(line, clock), 10)
    run_journeys(app.extensions["loyalty"])
    assert said(fake_line, user, "生日快樂") == 0
    assert report(client, counter, "birthday")["skipped"] == {"unreachable": 1}


def test_cap_holds_across_journeys_and_campaigns(app, client, counter, line, make_member, fake_line, clock):
    svc = app.extensions["loyalty"]
    svc.settings = svc.settings.with_overrides(marketing_per_week=1)
    fake_line.quota_value = 10_000
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    enable(client, counter, "birthday")
    user, _ = make_member()
    clock.now = taipei_time(birthday_of(line, clock) - timedelta(days=1), 10)
    from bot.jobs import worker as tasks

    c = client.post("/api/v1/admin/campaigns", json={"name": "春季", "kind": "text", "content": {"text": "春季新品"}}, headers=counter.admin).get_json()
    client.post(f"/api/v1/admin/campaigns/{c['id']}/send", json={}, headers=counter.admin)
    tasks.wait_for_jobs()
    clock.advance(days=1)
    run_journeys(svc)
    assert said(fake_line, user, "生日快樂") == 0
    assert report(client, counter, "birthday")["skipped"] == {"capped": 1}


def test_quiet_hours_postpone_a_run(app, client, counter, line, make_member, fake_line, clock):
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    enable(client, counter, "birthday")
    user, _ = make_member()
    clock.now = taipei_time(birthday_of(line, clock), 23)
    run_journeys(app.extensions["loyalty"])
    assert said(fake_line, user, "生日快樂") == 0
    clock.advance(hours=10)  # 09:00 Taipei
    run_journeys(app.extensions["loyalty"])
    assert said(fake_line, user, "生日快樂") == 1


def test_two_workers_scanning_at_once_send_once(app, client, counter, line, make_member, fake_line, clock, is_postgres):
    if not is_postgres:
        pytest.skip("concurrency is proven on PostgreSQL; SQLite serialises writers")
    from tests.test_concurrency_pg import run_together

    client.get("/api/v1/admin/journeys", headers=counter.admin)
    enable(client, counter, "birthday")
    users = [make_member(f"壽星{i}")[0] for i in range(5)]
    clock.now = taipei_time(birthday_of(line, clock), 10)
    svc = app.extensions["loyalty"]
    run_together(2, lambda i: run_journeys(svc))
    assert all(said(fake_line, u, "生日快樂") == 1 for u in users)
    with svc.db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(JourneyRun)) == 5
    assert process_due(svc) == {}
    assert send_run(svc, 1) == "taken"
