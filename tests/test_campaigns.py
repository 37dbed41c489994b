"""Campaigns against the fake LINE server: batches and retry keys, crashes, 429 storms,
the frequency cap, quiet hours, holdout and uplift, the quota, coupon offers."""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.jobs import worker as tasks
from bot.jobs.campaign_sender import run_campaign, run_due
from models import campaign as cm
from models.ledger import award
from models.member import Member, complete_join, ensure_member
from models.rule import get_rule
from models.store import Actor
from tests.conftest import all_text, taipei_time

#: Sending runs in shop hours; quiet hours are tested on purpose where they matter.
pytestmark = pytest.mark.usefixtures("business_hours")


@pytest.fixture
def crowd(db, clock, fake_line):  # type: ignore[no-untyped-def]
    """1,203 joined members (3 batches); every even one is a woman. Returns their LINE ids."""
    users = []
    with db.transaction() as s:
        for i in range(1203):
            user = f"U{i:032x}"
            m = ensure_member(s, user, now=clock.now)
            complete_join(s, m, now=clock.now, birthday_on=date(1990, 1, 1), terms_version="t", consented_at=clock.now,
                          phone=None, gender="female" if i % 2 == 0 else "male")
            users.append(user)
    for user in users:
        fake_line.register_profile(user, "客人")
    fake_line.quota_value = 10_000  # a plan with room for this campaign
    return users


def create(client, counter, **body):  # type: ignore[no-untyped-def]
    payload = {"name": "週末活動", "kind": "text", "content": {"text": "週末拿鐵第二杯半價！"}, **body}
    resp = client.post("/api/v1/admin/campaigns", json=payload, headers=counter.admin)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def send(client, counter, campaign_id, **body):  # type: ignore[no-untyped-def]
    resp = client.post(f"/api/v1/admin/campaigns/{campaign_id}/send", json=body, headers=counter.admin)
    tasks.wait_for_jobs()
    return resp


def multicasts(fake_line):  # type: ignore[no-untyped-def]
    return [r for r in fake_line.requests(path="/v2/bot/message/multicast") if not r.injected]


def received(fake_line, user) -> int:  # type: ignore[no-untyped-def]
    return len([d for d in fake_line.messages_to(user) if d["kind"] == "multicast"])


def test_sends_in_batches_of_500_each_with_its_retry_key(client, counter, crowd, fake_line):
    c = create(client, counter)
    assert c["estimate"]["audience"] == 1203
    resp = send(client, counter, c["id"])
    assert resp.status_code == 202
    calls = multicasts(fake_line)
    assert sorted(len(r.json["to"]) for r in calls) == [203, 500, 500]  # several batches go at once, in any order
    keys = [r.headers["x-line-retry-key"] for r in calls]
    assert len(set(keys)) == 3
    assert all(received(fake_line, u) == 1 for u in crowd)
    report = client.get(f"/api/v1/admin/campaigns/{c['id']}/report", headers=counter.admin).get_json()
    assert (report["status"], report["targeted"], report["sent"], report["held_out"]) == ("sent", 1203, 1203, 0)


def test_segment_target_and_unfollowed_members_are_never_sent(client, counter, crowd, fake_line, db):
    with db.transaction() as s:
        s.scalars(select(Member).where(Member.line_user_id == crowd[0])).one().is_reachable = False
    c = create(client, counter, rule={"field": "gender", "op": "eq", "value": "female"})
    send(client, counter, c["id"])
    assert received(fake_line, crowd[0]) == 0  # unfollowed
    assert received(fake_line, crowd[2]) == 1 and received(fake_line, crowd[1]) == 0  # woman / man
    assert sum(len(r.json["to"]) for r in multicasts(fake_line)) == 601


def test_crash_after_line_accepted_a_batch_resumes_without_sending_twice(app, client, counter, crowd, fake_line, monkeypatch):
    svc = app.extensions["loyalty"]
    c = create(client, counter)
    with svc.db.transaction() as s:
        cm.schedule(s, cm.get_campaign(s, c["id"]), now=svc.now())
    real = cm.settle_batch
    calls = {"n": 0}

    def crash_on_second(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("worker killed after LINE accepted batch 2")
        return real(*args, **kwargs)

    monkeypatch.setattr(cm, "settle_batch", crash_on_second)
    with pytest.raises(SystemExit):
        run_campaign(svc, c["id"])
    monkeypatch.setattr(cm, "settle_batch", real)
    assert run_due(svc) == {c["id"]: "sent"}  # the restarted worker resumes it
    calls = fake_line.requests(path="/v2/bot/message/multicast")
    keys = Counter(r.headers["x-line-retry-key"] for r in calls)
    assert len(calls) == 4 and sorted(keys.values()) == [1, 1, 2]  # batches go several at once: any one may be the crashed one
    again = [r.status for r in calls if keys[r.headers["x-line-retry-key"]] == 2]
    assert again == [200, 409]  # retried with its own key; LINE answered 409 and delivered nothing
    assert all(received(fake_line, u) == 1 for u in crowd)


def test_a_429_storm_slows_the_send_but_loses_nothing(app, client, counter, crowd, fake_line):
    fake_line.inject("/v2/bot/message/multicast", 429, times=4, retry_after=0)
    fake_line.inject("/v2/bot/message/multicast", 500, times=1)
    c = create(client, counter)
    send(client, counter, c["id"])
    calls = fake_line.requests(path="/v2/bot/message/multicast")
    assert len(calls) == 3 + 5
    keys = Counter(r.headers["x-line-retry-key"] for r in calls)
    assert len(keys) == 3  # 8 requests, 3 keys: every retry reused its batch's key
    assert Counter(r.headers["x-line-retry-key"] for r in calls if r.status == 200) == {k: 1 for k in keys}
    assert all(received(fake_line, u) == 1 for u in crowd)


def test_a_429_holds_the_send_for_its_retry_after(app, client, counter, crowd, fake_line):
    fake_line.inject("/v2/bot/message/multicast", 429, times=1, retry_after=1)
    c = create(client, counter)
    send(client, counter, c["id"])
    calls = fake_line.requests(path="/v2/bot/message/multicast")
    throttled = [r for r in calls if r.status == 429]
    assert len(throttled) == 1 and len(calls) == 4
    retry = [r for r in calls if r.headers["x-line-retry-key"] == throttled[0].headers["x-line-retry-key"] and r.seq > throttled[0].seq]
    assert retry[0].status == 200 and retry[0].timestamp - throttled[0].timestamp >= 0.95  # LINE's Retry-After honoured
    assert all(received(fake_line, u) == 1 for u in crowd)


def test_many_batches_under_lines_rate_limit_lose_nothing(app, client, counter, crowd, fake_line, monkeypatch):
    """The fake answers 429 to any second with more than the limit; every member still gets one message."""
    monkeypatch.setattr(cm, "BATCH_SIZE", 20)  # 61 batches
    svc = app.extensions["loyalty"]
    svc.settings = svc.settings.with_overrides(line_multicast_rps=40)
    fake_line.rate_limits["/v2/bot/message/multicast"] = 40
    c = create(client, counter)
    send(client, counter, c["id"])
    calls = fake_line.requests(path="/v2/bot/message/multicast")
    accepted = [r for r in calls if r.status == 200]
    assert len(accepted) == 61 and max(len(r.json["to"]) for r in accepted) == 20
    assert len({r.headers["x-line-retry-key"] for r in calls}) == 61
    assert all(received(fake_line, u) == 1 for u in crowd)
    report = client.get(f"/api/v1/admin/campaigns/{c['id']}/report", headers=counter.admin).get_json()
    assert (report["status"], report["sent"], report["failed"]) == ("sent", 1203, 0)


def test_frequency_cap_holds_across_campaigns(app, client, counter, crowd, fake_line):
    app.extensions["loyalty"].settings = app.extensions["loyalty"].settings.with_overrides(marketing_per_week=1)
    first = create(client, counter, rule={"field": "gender", "op": "eq", "value": "female"})
    send(client, counter, first["id"])
    second = create(client, counter, name="再一次")
    send(client, counter, second["id"])
    report = client.get(f"/api/v1/admin/campaigns/{second['id']}/report", headers=counter.admin).get_json()
    assert report["skipped"] == {"capped": 602} and report["sent"] == 601
    assert all(received(fake_line, u) == 1 for u in crowd)


def test_quiet_hours_wait_for_the_morning(app, client, counter, crowd, fake_line, clock):
    clock.set_taipei(22)
    c = create(client, counter)
    send(client, counter, c["id"])
    assert multicasts(fake_line) == []
    shown = client.get(f"/api/v1/admin/campaigns/{c['id']}", headers=counter.admin).get_json()
    assert shown["status"] == "scheduled" and shown["scheduled_at"] == taipei_time(clock.today() + timedelta(days=1), 9).isoformat()
    clock.advance(hours=11)
    assert run_due(app.extensions["loyalty"]) == {c["id"]: "sent"}
    assert len(multicasts(fake_line)) == 3


def test_holdout_receives_nothing_and_uplift_is_measured(app, client, counter, crowd, fake_line, db, clock):
    c = create(client, counter, holdout_pct=20)
    send(client, counter, c["id"])
    with db.sessions() as s:
        groups = dict(s.execute(select(cm.CampaignRecipient.member_id, cm.CampaignRecipient.group).where(cm.CampaignRecipient.campaign_id == c["id"])).all())
        ids = {m.line_user_id: m.id for m in s.scalars(select(Member))}
    held = [u for u in crowd if groups[ids[u]] == "holdout"]
    assert 200 < len(held) < 290  # about 20% of 1,203
    assert all(received(fake_line, u) == 0 for u in held)
    target = [u for u in crowd if groups[ids[u]] == "target"]
    clock.advance(days=2)
    with db.transaction() as s:
        store = s.scalar(select(__import__("models.store", fromlist=["Store"]).Store.id))
        actor = Actor(store_id=store, kind="system")
        for i, user in enumerate(target[:100] + held[:10]):
            award(s, member_id=ids[user], receipt_id=f"r{i}", amount=Decimal(200), visit=True, actor=actor, rule=get_rule(s), now=clock.now)
    report = client.get(f"/api/v1/admin/campaigns/{c['id']}/report?days=7", headers=counter.admin).get_json()
    assert report["target"]["buyers"] == 100 and report["holdout"]["buyers"] == 10
    expected = round((100 / len(target) - 10 / len(held)) * 100, 2)
    assert abs(report["uplift"]["conversion_points"] - expected) < 0.02


def test_over_quota_needs_confirmation(client, counter, crowd, fake_line):
    fake_line.quota_value = 1000
    c = create(client, counter)
    estimate = client.get(f"/api/v1/admin/campaigns/{c['id']}/estimate", headers=counter.admin).get_json()
    assert estimate["over_quota"] is True and estimate["quota"]["remaining"] == 1000
    refused = send(client, counter, c["id"])
    assert refused.status_code == 409 and refused.get_json()["code"] == "over_quota"
    assert multicasts(fake_line) == []
    assert send(client, counter, c["id"], confirm_over_quota=True).status_code == 202


def test_coupon_offer_claim_button_issues_once(client, counter, line, make_member, fake_line):
    tpl = client.post("/api/v1/admin/coupon-templates", json={"name": "回饋 50 元", "kind": "amount_off", "value": 50, "valid_days": 14},
                      headers=counter.admin).get_json()
    user, number = make_member()
    outsider, _ = make_member("路人")
    client.post(f"/api/v1/admin/members/{number}/tags", json={"tag": "老顧客"}, headers=counter.admin)
    c = create(client, counter, kind="coupon_offer", content={"coupon_template_id": tpl["id"], "title": "老朋友回饋"},
               rule={"field": "tag", "op": "has", "value": "老顧客"})
    send(client, counter, c["id"])
    assert [d for d in fake_line.messages_to(outsider) if d["kind"] == "multicast"] == []
    offer = [d for d in fake_line.messages_to(user) if d["kind"] == "multicast"][-1]["messages"]
    assert f"action=claim_offer&c={c['id']}" in all_text(offer)
    line.tap(user, f"action=claim_offer&c={c['id']}")
    assert "已領取「回饋 50 元」" in all_text(line.last(user))
    line.tap(user, f"action=claim_offer&c={c['id']}")
    assert "已經領取過" in all_text(line.last(user))
    line.tap(outsider, f"action=claim_offer&c={c['id']}")
    assert "不適用" in all_text(line.last(outsider))
    report = client.get(f"/api/v1/admin/campaigns/{c['id']}/report", headers=counter.admin).get_json()
    assert report["coupons"]["claimed"] == 1


def test_invalid_campaigns_are_refused_with_the_field(client, counter):
    cases = [
        ({"kind": "video"}, "kind"),
        ({"kind": "flex", "content": {"alt_text": "x", "contents": {"type": "bubble", "body": {"type": "boxx"}}}}, "content"),
        ({"holdout_pct": 80}, "holdout_pct"),
        ({"kind": "coupon_offer", "content": {"coupon_template_id": 999}}, "content"),
    ]
    for body, field in cases:
        resp = client.post("/api/v1/admin/campaigns", json={"name": "x", "kind": "text", "content": {"text": "hi"}, **body}, headers=counter.admin)
        assert resp.status_code == 422 and resp.get_json()["details"]["field"] == field, (body, resp.get_json())
    bad_rule = client.post("/api/v1/admin/campaigns", json={"name": "x", "kind": "text", "content": {"text": "hi"}, "rule": {"field": "nope"}}, headers=counter.admin)
    assert bad_rule.status_code == 422 and bad_rule.get_json()["details"]["path"] == "/field"


class FakeTime:
    """A clock whose sleep moves it forward, for the rate limiter."""

    def __init__(self) -> None:
        self.now = 100.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_rate_limiter_never_puts_more_than_the_limit_in_any_second():
    from bot.jobs.campaign_sender import RateLimiter

    t = FakeTime()
    rate = RateLimiter(200, clock=t.clock, sleep=t.sleep)
    sent = []
    for _ in range(1000):
        rate.acquire()
        sent.append(t.now)
    assert sent[0] == 100.0  # the first request goes at once
    # no burst of a second's worth up front: in every window of one second, at most 200
    assert max(sum(1 for x in sent[i:i + 250] if x < start + 1.0) for i, start in enumerate(sent)) <= 200
    assert sent[-1] - sent[0] >= 999 / 200  # 1,000 requests take at least 5 s at 200/s


def test_rate_limiter_does_not_save_up_idle_time_and_holds_after_a_429():
    from bot.jobs.campaign_sender import RateLimiter

    t = FakeTime()
    rate = RateLimiter(10, clock=t.clock, sleep=t.sleep, headroom=1.0)
    rate.acquire()
    t.now += 60  # a minute idle
    rate.acquire()
    start = t.now
    rate.acquire()
    assert t.now - start == pytest.approx(0.1)  # still paced: no burst from the idle minute
    rate.hold(2.0)
    before = t.now
    rate.acquire()
    assert t.now - before == pytest.approx(2.0)


def test_report_reads_outcomes_from_batches_and_from_rows_of_earlier_versions(app, client, counter, crowd, fake_line, db):
    c = create(client, counter)
    send(client, counter, c["id"])
    with db.transaction() as s:  # sending rewrites no recipient row: a batched recipient's outcome is its batch's
        assert set(s.scalars(select(cm.CampaignRecipient.status).where(cm.CampaignRecipient.campaign_id == c["id"]))) == {"batched"}
        assert set(s.scalars(select(cm.CampaignBatch.status).where(cm.CampaignBatch.campaign_id == c["id"]))) == {"sent"}
        first = s.scalars(select(cm.CampaignRecipient).where(cm.CampaignRecipient.campaign_id == c["id"]).order_by(cm.CampaignRecipient.member_id)).first()
        first.status = "sent"  # as an earlier version wrote it
        s.execute(cm.update(cm.CampaignBatch).where(cm.CampaignBatch.campaign_id == c["id"], cm.CampaignBatch.batch_no == 3).values(status="failed"))
    report = client.get(f"/api/v1/admin/campaigns/{c['id']}/report", headers=counter.admin).get_json()
    assert (report["sent"], report["failed"], report["pending"], report["target"]["members"]) == (1000, 203, 0, 1000)
