"""The dashboard's blocks per campaign over time, on a small data set counted by hand: each
campaign's block rate by the day it was sent (unfollows within 24 hours of the member's campaign
message, the campaign report's own rule), and the period's unfollows per week with the share
campaigns caused."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.jobs import worker as tasks
from models.member import Member, complete_join, ensure_member, record_unfollow
from tests.conftest import taipei_time

pytestmark = pytest.mark.usefixtures("business_hours")


def thursday_after(day: date) -> date:
    return day + timedelta(days=(3 - day.weekday()) % 7 or 7)


def send(client, counter, clock, name: str, when) -> int:  # type: ignore[no-untyped-def]
    clock.now = when
    made = client.post("/api/v1/admin/campaigns", json={"name": name, "kind": "text", "content": {"text": f"{name}上市！"}}, headers=counter.admin)
    assert made.status_code == 201, made.get_json()
    campaign_id = made.get_json()["id"]
    assert client.post(f"/api/v1/admin/campaigns/{campaign_id}/send", json={}, headers=counter.admin).status_code == 202
    tasks.wait_for_jobs()
    return campaign_id


def unfollow(db, user: str, when) -> None:  # type: ignore[no-untyped-def]
    with db.transaction() as s:
        assert record_unfollow(s, user, now=when) is not None


def board(client, counter, start: date, end: date):  # type: ignore[no-untyped-def]
    resp = client.get(f"/api/v1/admin/dashboard?from={start}&to={end}", headers=counter.admin)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["campaign_blocks"]


@pytest.fixture
def ten(db, clock, fake_line):  # type: ignore[no-untyped-def]
    users = [f"U{i + 6100:032x}" for i in range(10)]
    with db.transaction() as s:
        for user in users:
            m = ensure_member(s, user, now=clock.now - timedelta(days=30))
            complete_join(s, m, now=clock.now - timedelta(days=30), birthday_on=date(1990, 1, 1), terms_version="t",
                          consented_at=clock.now, phone=None, gender=None)
    return users


def test_block_rate_per_campaign_by_send_day_and_unfollows_per_week(client, counter, db, clock, ten):
    """Wednesday W 20:00 「跨年」 to all 10; Thursday T 10:00 「冬季」 to all 10; Saturday T+2 10:00
    「春節」 to the 8 still following. Unfollows: m0 T 12:00 (16 h after 跨年, 2 h after 冬季: both
    campaigns', one unfollow), m1 T+1 11:00 (25 h after 冬季: nobody's), m2 T+2 10:30 and m3 T+2
    20:00 (春節's), m4 T+9 (a week on: nobody's).

    Per campaign: 跨年 1 of 10, 冬季 1 of 10, 春節 2 of 8. Per week, the period W..T+9 is Wednesday
    to the next week's Saturday: the first week (W..Sunday) has 4 unfollows, 3 of them a campaign's
    (m0 once); the second (Monday..T+9) 1, none a campaign's."""
    t = thursday_after(clock.today())
    w = t - timedelta(days=1)
    new_year = send(client, counter, clock, "跨年", taipei_time(w, 20))
    winter = send(client, counter, clock, "冬季", taipei_time(t, 10))
    unfollow(db, ten[0], taipei_time(t, 12))
    unfollow(db, ten[1], taipei_time(t + timedelta(days=1), 11))
    spring = send(client, counter, clock, "春節", taipei_time(t + timedelta(days=2), 10))
    unfollow(db, ten[2], taipei_time(t + timedelta(days=2), 10, 30))
    clock.now = taipei_time(t + timedelta(days=2), 21)
    soon = board(client, counter, w, t + timedelta(days=2))
    assert [(c["name"], [d["settled"] for d in c["days"]]) for c in soon["campaigns"]] == [("跨年", [True]), ("冬季", [True]), ("春節", [False])]
    unfollow(db, ten[3], taipei_time(t + timedelta(days=2), 20))
    unfollow(db, ten[4], taipei_time(t + timedelta(days=9), 15))
    clock.now = taipei_time(t + timedelta(days=9), 18)

    got = board(client, counter, w, t + timedelta(days=9))
    assert got["window_hours"] == 24
    assert [(c["id"], c["name"], c["sent"], c["blocked"], c["rate"]) for c in got["campaigns"]] == [
        (new_year, "跨年", 10, 1, 0.1), (winter, "冬季", 10, 1, 0.1), (spring, "春節", 8, 2, 0.25)]
    assert [c["days"] for c in got["campaigns"]] == [
        [{"day": w.isoformat(), "sent": 10, "blocked": 1, "rate": 0.1, "settled": True}],
        [{"day": t.isoformat(), "sent": 10, "blocked": 1, "rate": 0.1, "settled": True}],
        [{"day": (t + timedelta(days=2)).isoformat(), "sent": 8, "blocked": 2, "rate": 0.25, "settled": True}]]
    monday = t - timedelta(days=3)
    assert got["weeks"] == [
        {"week": monday.isoformat(), "from": w.isoformat(), "to": (monday + timedelta(days=6)).isoformat(),
         "unfollows": 4, "attributed": 3, "share": 0.75},
        {"week": (monday + timedelta(days=7)).isoformat(), "from": (monday + timedelta(days=7)).isoformat(),
         "to": (t + timedelta(days=9)).isoformat(), "unfollows": 1, "attributed": 0, "share": 0.0}]
    # the campaign report counts the same blocks (one rule, models.campaign_report)
    for campaign_id, blocked in ((new_year, 1), (winter, 1), (spring, 2)):
        report = client.get(f"/api/v1/admin/campaigns/{campaign_id}/report", headers=counter.admin).get_json()
        assert report["blocks"]["members"] == blocked

    later = board(client, counter, t + timedelta(days=3), t + timedelta(days=9))  # no campaign sent in it
    assert later["campaigns"] == [] and [wk["unfollows"] for wk in later["weeks"]] == [0, 1]
    assert later["weeks"][0]["share"] is None  # no unfollows: no share, not 0%


def test_recipients_sent_one_by_one_by_earlier_versions_count_by_their_own_time(client, counter, db, clock, ten):
    """Rows an earlier version wrote (status sent, their own sent_at, no batch): two send days, and
    a holdout member who blocked is nobody's block."""
    from models.campaign import Campaign, CampaignRecipient

    day = clock.today()
    with db.transaction() as s:
        ids = {m.line_user_id: m.id for m in s.scalars(select(Member))}
        s.add(Campaign(id=900, name="舊活動", kind="text", content={"text": "hi"}, holdout_pct=10, status="sent", created_at=clock.now,
                       started_at=taipei_time(day, 10), finished_at=taipei_time(day + timedelta(days=1), 10)))
        s.flush()
        for i, user in enumerate(ten):
            sent_at = taipei_time(day + timedelta(days=i // 6), 10)  # 6 on the first day, 3 the next, and one held out
            s.add(CampaignRecipient(campaign_id=900, member_id=ids[user], group="holdout" if i == 9 else "target",
                                    status="held" if i == 9 else "sent", sent_at=None if i == 9 else sent_at))
    unfollow(db, ten[0], taipei_time(day, 13))
    unfollow(db, ten[7], taipei_time(day + timedelta(days=1), 23))
    unfollow(db, ten[9], taipei_time(day, 11))
    clock.now = taipei_time(day + timedelta(days=3), 10)
    got = board(client, counter, day, day + timedelta(days=2))
    assert [(d["day"], d["sent"], d["blocked"]) for d in got["campaigns"][0]["days"]] == [
        (day.isoformat(), 6, 1), ((day + timedelta(days=1)).isoformat(), 3, 1)]
    assert (sum(w["unfollows"] for w in got["weeks"]), sum(w["attributed"] for w in got["weeks"])) == (3, 2)
