"""Campaigns whose recipients are written while the first batches are sent (bot/jobs/campaign_feed.py):
the first multicast before the last batch exists, everyone exactly once over many chunks, the
holdout, the frequency cap and blocked members still excluded, and crashes in the middle of the
pipeline that resume with nobody sent twice and nobody skipped. Ordering is proven with events,
never with timing."""
from __future__ import annotations

import math
import threading
from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from bot.jobs import worker as tasks
from bot.jobs.campaign_feed import RecipientWriter
from bot.jobs.campaign_sender import run_campaign, run_due
from models import campaign as cm
from models.member import Member, complete_join, ensure_member

pytestmark = pytest.mark.usefixtures("business_hours")
MULTICAST = "/v2/bot/message/multicast"
WAIT = 30  # seconds an event may take before the test fails (a deadlock, not a timing claim)


@pytest.fixture
def small_batches(monkeypatch):  # type: ignore[no-untyped-def]
    """Batches of 20: the crowd of 1,203 spans 61 batches in 7 chunks (20, 40, 80, 160, 320, 400, 183)."""
    monkeypatch.setattr(cm, "BATCH_SIZE", 20)


@pytest.fixture
def crowd(db, clock, fake_line):  # type: ignore[no-untyped-def]
    """1,203 joined members; returns {LINE user id: member id}."""
    ids = {}
    with db.transaction() as s:
        for i in range(1203):
            m = ensure_member(s, f"U{i:032x}", now=clock.now)
            complete_join(s, m, now=clock.now, birthday_on=date(1990, 1, 1), terms_version="t", consented_at=clock.now, phone=None, gender="female")
            ids[m.line_user_id] = m.id
    fake_line.quota_value = 100_000
    return ids


def start(app, client, counter, **body):  # type: ignore[no-untyped-def]
    """A campaign to everyone, scheduled now (run_campaign sends it in the test's thread)."""
    payload = {"name": "週末活動", "kind": "text", "content": {"text": "週末拿鐵第二杯半價！"}, **body}
    created = client.post("/api/v1/admin/campaigns", json=payload, headers=counter.admin).get_json()
    svc = app.extensions["loyalty"]
    with svc.db.transaction() as s:
        cm.schedule(s, cm.get_campaign(s, created["id"]), now=svc.now())
    return created["id"]


def deliveries(fake_line) -> Counter[str]:  # type: ignore[no-untyped-def]
    got: Counter[str] = Counter()
    for r in fake_line.requests(path=MULTICAST):
        if r.status == 200:
            got.update(r.json["to"])
    return got


def check_rows(db, campaign_id: int, audience: int) -> None:  # type: ignore[no-untyped-def]
    """Every member of the audience is a recipient once, every batched one in one full batch (the last may be short)."""
    with db.sessions() as s:
        mine = cm.CampaignRecipient.campaign_id == campaign_id
        assert s.scalar(select(func.count()).where(mine)) == s.scalar(select(func.count(func.distinct(cm.CampaignRecipient.member_id))).where(mine)) == audience
        sizes = dict(s.execute(select(cm.CampaignRecipient.batch_no, func.count()).where(mine, cm.CampaignRecipient.status == "batched")
                               .group_by(cm.CampaignRecipient.batch_no)).all())
        batches = {b.batch_no: b for b in s.scalars(select(cm.CampaignBatch).where(cm.CampaignBatch.campaign_id == campaign_id))}
        assert sorted(sizes) == sorted(batches) == list(range(1, len(sizes) + 1))
        assert all(batches[no].size == size for no, size in sizes.items())
        assert all(size == 20 for no, size in sizes.items() if no < len(sizes))
        assert len({b.retry_key for b in batches.values()}) == len(batches)
        assert s.get(cm.Campaign, campaign_id).materialized_at is not None


def test_the_first_multicast_reaches_line_before_the_last_batch_is_written(app, client, counter, crowd, fake_line, small_batches, monkeypatch):
    events: list[str] = []
    first_sent = threading.Event()
    real_multicast, real_chunk = fake_line._op_multicast, RecipientWriter.write_chunk

    def multicast(rec, op):  # type: ignore[no-untyped-def]
        events.append("multicast")
        first_sent.set()
        return real_multicast(rec, op)

    def write_chunk(self, members):  # type: ignore[no-untyped-def]
        if events.count("chunk") == 1:  # the second chunk waits until LINE got a batch of the first: a sender
            assert first_sent.wait(WAIT), "no multicast while the audience was being written"  # that wrote all first deadlocks here
        done = real_chunk(self, members)
        events.append("chunk")
        return done

    monkeypatch.setattr(fake_line, "_op_multicast", multicast)
    monkeypatch.setattr(RecipientWriter, "write_chunk", write_chunk)
    cid = start(app, client, counter)
    assert run_campaign(app.extensions["loyalty"], cid) == "sent"
    assert events.count("chunk") == 7 and events.count("multicast") == 61
    assert events.index("multicast") < len(events) - 1 - events[::-1].index("chunk")  # the first multicast before the last chunk
    assert set(deliveries(fake_line).values()) == {1} and len(deliveries(fake_line)) == 1203
    check_rows(app.extensions["loyalty"].db, cid, 1203)


def test_everyone_once_over_many_chunks_without_the_holdout_the_capped_and_the_blocked(app, client, counter, crowd, fake_line, small_batches,
                                                                                       db, clock):
    svc = app.extensions["loyalty"]
    svc.settings = svc.settings.with_overrides(marketing_per_week=1)
    ids = list(crowd.values())
    blocked, capped = set(ids[5::9]), set(ids[3::7])
    with db.transaction() as s:
        for m in s.scalars(select(Member).where(Member.id.in_(blocked))):
            m.is_reachable = False
        s.add_all(cm.MarketingSend(member_id=mid, source="journey:welcome", sent_at=clock.now - timedelta(days=1)) for mid in capped)
    created = client.post("/api/v1/admin/campaigns", json={"name": "回饋", "kind": "text", "content": {"text": "老朋友回饋"}, "holdout_pct": 20},
                          headers=counter.admin).get_json()
    cid = created["id"]
    client.post(f"/api/v1/admin/campaigns/{cid}/send", json={}, headers=counter.admin)
    assert tasks.wait_for_jobs() == ["sent"]
    held = {mid for mid in ids if mid not in blocked and (mid * 2654435761 + cid * 40503) % 100 < 20}  # the stable share, as written
    got = deliveries(fake_line)
    expected = {uid for uid, mid in crowd.items() if mid not in blocked | held | capped}
    assert set(got) == expected and set(got.values()) == {1}
    assert 200 < len(held) < 290 and len(capped - blocked - held) > 100
    with db.sessions() as s:
        rows = {r.member_id: r for r in s.scalars(select(cm.CampaignRecipient).where(cm.CampaignRecipient.campaign_id == cid))}
    assert set(rows) == set(ids) - blocked
    assert {m for m, r in rows.items() if r.group == "holdout"} == held
    assert {m for m, r in rows.items() if r.skip_reason == "capped"} == capped - blocked - held
    batched = [r for r in rows.values() if r.status == "batched"]
    assert len(batched) == len(expected)
    check_rows(db, cid, len(rows))
    assert len(fake_line.requests(path=MULTICAST)) == math.ceil(len(expected) / 20)  # batches fill across chunk boundaries
    report = client.get(f"/api/v1/admin/campaigns/{cid}/report", headers=counter.admin).get_json()
    assert (report["sent"], report["held_out"], report["skipped"]) == (len(expected), len(held), {"capped": len(capped - blocked - held)})


def test_a_crash_in_the_middle_of_a_pipelined_send_resumes_with_everyone_once(app, client, counter, crowd, fake_line, small_batches, db, monkeypatch):
    """A sender dies after LINE accepted its batch, while the audience is half written; the resumed
    campaign sends the rest of the written batches, writes the rest of the audience, and the
    crashed batch goes again with its key (LINE answers 409 and delivers nothing)."""
    svc = app.extensions["loyalty"]
    crashed = threading.Event()
    real_settle, real_chunk = cm.settle_batch, RecipientWriter.write_chunk
    settled = {"n": 0}

    def settle(*args, **kwargs):  # type: ignore[no-untyped-def]
        settled["n"] += 1
        if settled["n"] == 5:
            crashed.set()
            raise SystemExit("worker killed after LINE accepted its fifth batch")
        return real_settle(*args, **kwargs)

    chunks = {"n": 0}

    def write_chunk(self, members):  # type: ignore[no-untyped-def]
        chunks["n"] += 1
        if chunks["n"] >= 4:  # the audience is not all written when the worker dies, and the writer dies with it
            assert crashed.wait(WAIT)
            raise SystemExit("worker killed while writing recipients")
        return real_chunk(self, members)

    monkeypatch.setattr(cm, "settle_batch", settle)
    monkeypatch.setattr(RecipientWriter, "write_chunk", write_chunk)
    cid = start(app, client, counter)
    with pytest.raises(SystemExit):
        run_campaign(svc, cid)
    with db.sessions() as s:
        campaign = s.get(cm.Campaign, cid)
        written = s.scalar(select(func.count()).where(cm.CampaignRecipient.campaign_id == cid))
        statuses = Counter(s.scalars(select(cm.CampaignBatch.status).where(cm.CampaignBatch.campaign_id == cid)))
    assert campaign.status == "sending" and campaign.materialized_at is None
    assert written == 20 + 40 + 80 and statuses["sent"] >= 4 and statuses["pending"] >= 1
    monkeypatch.setattr(cm, "settle_batch", real_settle)
    monkeypatch.setattr(RecipientWriter, "write_chunk", real_chunk)
    assert run_due(svc) == {cid: "sent"}  # the restarted worker resumes it
    assert set(deliveries(fake_line).values()) == {1} and len(deliveries(fake_line)) == 1203
    calls = fake_line.requests(path=MULTICAST)
    keys = Counter(r.headers["x-line-retry-key"] for r in calls)
    twice = [k for k, n in keys.items() if n == 2]
    assert len(keys) == 61 and len(twice) == 1  # only the batch whose worker died went twice
    assert [r.status for r in calls if r.headers["x-line-retry-key"] == twice[0]] == [200, 409]
    check_rows(db, cid, 1203)


def test_a_crash_while_writing_recipients_stops_the_send_and_resumes(app, client, counter, crowd, fake_line, small_batches, db, monkeypatch):
    svc = app.extensions["loyalty"]
    real_chunk = RecipientWriter.write_chunk
    chunks = {"n": 0}

    def write_chunk(self, members):  # type: ignore[no-untyped-def]
        chunks["n"] += 1
        if chunks["n"] == 3:
            raise ConnectionError("the database went away while writing recipients")
        return real_chunk(self, members)

    monkeypatch.setattr(RecipientWriter, "write_chunk", write_chunk)
    cid = start(app, client, counter)
    with pytest.raises(ConnectionError):
        run_campaign(svc, cid)
    with db.sessions() as s:
        assert s.get(cm.Campaign, cid).status == "sending"
        assert s.scalar(select(func.count()).where(cm.CampaignRecipient.campaign_id == cid)) == 20 + 40
    assert sum(deliveries(fake_line).values()) <= 60  # only batches already written went
    monkeypatch.setattr(RecipientWriter, "write_chunk", real_chunk)
    assert run_due(svc) == {cid: "sent"}
    assert set(deliveries(fake_line).values()) == {1} and len(deliveries(fake_line)) == 1203
    assert len({r.headers["x-line-retry-key"] for r in fake_line.requests(path=MULTICAST)}) == 61
    check_rows(db, cid, 1203)
