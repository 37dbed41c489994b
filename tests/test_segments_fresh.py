"""Fresh segments: the daily job and the scheduler recompute them before what reads them, a
campaign selects on stats computed when it starts and its report says so, the console learns when
they were computed; the brand's RFM settings API; the dashboard's new reachable members."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.jobs import worker as tasks
from models.segment import MemberStats

pytestmark = pytest.mark.usefixtures("business_hours")  # campaigns go out in shop hours
BUYERS = {"field": "visits", "op": "gte", "value": 1}


def multicast_to(fake_line, user) -> int:  # type: ignore[no-untyped-def]
    return len([d for d in fake_line.messages_to(user) if d["kind"] == "multicast"])


def scheduled_campaign(client, counter, clock, rule):  # type: ignore[no-untyped-def]
    body = {"name": "回購", "kind": "text", "content": {"text": "老朋友，好久不見"}, "rule": rule,
            "scheduled_at": (clock.now + timedelta(minutes=1)).isoformat()}
    created = client.post("/api/v1/admin/campaigns", json=body, headers=counter.admin).get_json()
    assert client.post(f"/api/v1/admin/campaigns/{created['id']}/send", json={}, headers=counter.admin).status_code == 202
    tasks.wait_for_jobs()
    return created["id"]


def test_daily_job_recomputes_segments_first_and_starts_due_campaigns(app, client, counter, make_member, fake_line, clock, db):
    from bot.jobs.daily import run_daily

    fake_line.quota_value = 10_000
    buyer, number = make_member("買過")
    browser, _ = make_member("逛逛")
    assert counter.award(number, "R-1", amount=300).status_code in (200, 201)
    campaign_id = scheduled_campaign(client, counter, clock, BUYERS)
    clock.advance(minutes=2)
    report = run_daily(app.extensions["loyalty"])
    assert list(report)[0] == "segments" and report["segments"]["members_scored"] == 1
    assert report["campaigns"] == {campaign_id: "sent"}
    assert multicast_to(fake_line, buyer) == 1 and multicast_to(fake_line, browser) == 0
    with db.sessions() as s:
        assert s.scalar(select(MemberStats.rfm_class)) is not None


def test_scheduler_has_a_segments_job_and_its_daily_task_recomputes_first(app, make_member, counter, db):
    beat = tasks.celery.conf.beat_schedule
    assert "loyalty.segments" in {entry["task"] for entry in beat.values()}
    _, number = make_member()
    counter.award(number, "R-2", amount=120)
    tasks._app = app  # the tasks run against this test's app
    try:
        done = tasks.segments_task.run()  # the task body, as a worker runs it (no result backend touched)
        assert done["members_scored"] == 1
        with db.transaction() as s:
            s.execute(MemberStats.__table__.delete())
        daily = tasks.daily_task.run()
    finally:
        tasks._app = None
    assert list(daily)[0] == "segments"
    with db.sessions() as s:
        assert s.scalar(select(MemberStats.visits)) == 1


def test_a_campaign_selects_on_stats_computed_when_it_starts_and_says_so(app, client, counter, make_member, fake_line, clock):
    fake_line.quota_value = 10_000
    early, first = make_member("早")
    late, second = make_member("晚")
    counter.award(first, "R-3", amount=200)
    recomputed = client.post("/api/v1/admin/segments/recompute", headers=counter.admin).get_json()
    assert recomputed["members_scored"] == 1
    clock.advance(hours=1)
    counter.award(second, "R-4", amount=200)  # after the last recompute
    campaign_id = scheduled_campaign(client, counter, clock, BUYERS)
    clock.advance(minutes=2)
    from bot.jobs.campaign_sender import run_due

    assert run_due(app.extensions["loyalty"]) == {campaign_id: "sent"}
    assert multicast_to(fake_line, early) == 1 and multicast_to(fake_line, late) == 1  # stale stats would miss 晚
    report = client.get(f"/api/v1/admin/campaigns/{campaign_id}/report", headers=counter.admin).get_json()
    assert report["segments"]["computed_at"] == clock.now.isoformat() and report["segments"]["age_seconds"] == 0
    overview = client.get("/api/v1/admin/segments/overview", headers=counter.admin).get_json()
    assert overview["computed_at"] == clock.now.isoformat()


def test_console_learns_when_segments_were_computed(client, counter, clock):
    assert client.get("/api/v1/admin/segments/overview", headers=counter.admin).get_json()["computed_at"] is None
    assert client.get("/api/v1/admin/dashboard", headers=counter.admin).get_json()["segments"]["computed_at"] is None
    client.post("/api/v1/admin/segments/recompute", headers=counter.admin)
    assert client.get("/api/v1/admin/segments/settings", headers=counter.admin).get_json()["computed_at"] == clock.now.isoformat()
    assert client.get("/api/v1/admin/dashboard", headers=counter.admin).get_json()["segments"]["computed_at"] == clock.now.isoformat()


def test_rfm_settings_are_read_validated_and_saved(client, counter):
    url = "/api/v1/admin/segments/settings"
    got = client.get(url, headers=counter.admin).get_json()
    assert (got["r_mode"], got["f_mode"], got["m_mode"]) == ("quintile", "quintile", "quintile")
    assert "問卷" in got["hints"]["重要發展"] and "到期" in got["hints"]["重要保持"]
    for body, field in (({"f_mode": "median"}, "f_mode"), ({"r_days": 0}, "r_days"), ({"m_amount": "-5"}, "m_amount"),
                        ({"m_amount": "12.345"}, "m_amount"), ({"hints": {"超級": "x"}}, "hints/超級"), ({"hints": {"重要價值": "x" * 201}}, "hints/重要價值"),
                        ({"colour": "red"}, "colour")):
        bad = client.put(url, json=body, headers=counter.admin)
        code = "unknown_field" if field == "colour" else "invalid_segment_setting"  # unknown names are refused before the route
        assert bad.status_code == 422 and bad.get_json()["code"] == code and bad.get_json()["details"]["field"] == field, body
    saved = client.put(url, json={"f_mode": "threshold", "f_visits": 4, "m_mode": "threshold", "m_amount": 2000, "r_mode": "average",
                                  "hints": {"重要價值": "VIP 之夜"}}, headers=counter.admin)
    assert saved.status_code == 200, saved.get_json()
    got = client.get(url, headers=counter.admin).get_json()
    assert (got["r_mode"], got["f_mode"], got["f_visits"], got["m_mode"], got["m_amount"]) == ("average", "threshold", 4, "threshold", "2000")
    assert got["hints"]["重要價值"] == "VIP 之夜"
    client.put(url, json={"hints": {"重要價值": ""}}, headers=counter.admin)  # back to the default
    assert client.get(url, headers=counter.admin).get_json()["hints"]["重要價值"] != "VIP 之夜"
    analyst = client.post("/api/v1/admin/tokens", json={"name": "分析師", "scopes": ["members:read"]}, headers=counter.admin).get_json()["token"]
    assert client.put(url, json={"r_mode": "average"}, headers={"Authorization": f"Bearer {analyst}"}).status_code == 403


def test_new_reachable_members_on_tiny_populations(client, counter, make_member, clock, db):
    from models.member import Member

    def kpi() -> dict:  # type: ignore[type-arg]
        resp = client.get(f"/api/v1/admin/dashboard?from={clock.today() - timedelta(days=6)}&to={clock.today()}", headers=counter.admin)
        assert resp.status_code == 200
        return resp.get_json()["members"]

    assert kpi()["new_reachable"] == 0 and kpi()["new"] == 0
    first, _ = make_member("一號")
    assert (kpi()["new"], kpi()["new_reachable"]) == (1, 1)
    second, _ = make_member("二號")
    with db.transaction() as s:
        s.scalars(select(Member).where(Member.line_user_id == second)).one().is_reachable = False  # blocked the account
    assert (kpi()["new"], kpi()["new_reachable"], kpi()["reachable"]) == (2, 1, 1)
    old = client.get(f"/api/v1/admin/dashboard?from={clock.today() - timedelta(days=30)}&to={clock.today() - timedelta(days=7)}",
                     headers=counter.admin).get_json()["members"]
    assert (old["new"], old["new_reachable"]) == (0, 0)  # joined after that period
