"""The dashboard's KPIs on tiny populations (one member, one visit, one block): each must say what its
definition says, not what a rounding of an empty or one-row population happens to give."""
from __future__ import annotations

from datetime import timedelta

from bot.dev import lineevents as ev


def board(client, counter, days: int = 30):  # type: ignore[no-untyped-def]
    assert client.post("/api/v1/admin/segments/recompute", headers=counter.admin).status_code == 200
    resp = client.get("/api/v1/admin/dashboard", headers=counter.admin)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_one_member_with_eight_visits_today(client, counter, make_member):
    """The member came 8 times today: a regular, returning (100%), and RFM's best class, not 一般挽留."""
    _, number = make_member("常來的人")
    for i in range(8):
        assert counter.award(number, f"R-{i}", amount="300", visit=True).status_code == 201
    d = board(client, counter)
    assert (d["visitors"], d["regulars"], d["returning"], d["returning_rate"]) == (1, 1, 1, 1.0)
    assert d["rfm"] == {"重要價值": 1}
    seg = client.get(f"/api/v1/admin/members/{number}", headers=counter.admin).get_json()["segments"]["rfm"]
    assert (seg["r"], seg["f"], seg["m"]) == (5, 5, 5)


def test_one_member_with_one_visit(client, counter, make_member):
    """One visit is not a repurchase, and not "frequent", even alone."""
    _, number = make_member()
    assert counter.award(number, "ONE", amount="300", visit=True).status_code == 201
    d = board(client, counter)
    assert (d["visitors"], d["regulars"], d["returning"], d["returning_rate"]) == (1, 0, 0, 0.0)
    seg = client.get(f"/api/v1/admin/members/{number}", headers=counter.admin).get_json()["segments"]["rfm"]
    assert (seg["r"], seg["f"], seg["m"], seg["class"]) == (5, 2, 5, "重要發展")


def test_a_visit_before_the_period_makes_one_visit_in_it_a_repurchase(client, counter, make_member, clock):
    _, number = make_member()
    start = clock.now
    clock.now = start - timedelta(days=60)
    assert counter.award(number, "OLD", amount="100", visit=True).status_code == 201
    clock.now = start
    assert counter.award(number, "NEW", amount="100", visit=True).status_code == 201
    d = board(client, counter)
    assert (d["visitors"], d["regulars"], d["returning_rate"]) == (1, 0, 1.0)


def test_one_block_then_back(client, counter, make_member, line, clock):
    """The only friend blocked once in the period and came back: the period's block rate is 1 of 1
    (it said 0% beside 「期間內封鎖 1 次」, an all-time current rate beside a period count)."""
    user, _ = make_member()
    clock.advance(hours=1)
    assert line.post(ev.unfollow_event(user)).status_code == 200
    d = board(client, counter)
    assert (d["blockers_in_period"], d["friends_in_period"], d["block_rate"], d["blocked_now"]) == (1, 1, 1.0, 1)
    clock.advance(hours=1)
    assert line.post(ev.follow_event(user, unblocked=True)).status_code == 200
    d = board(client, counter)
    assert (d["blockers_in_period"], d["friends_in_period"], d["block_rate"], d["blocked_now"], d["blocks_in_period"]) == (1, 1, 1.0, 0, 1)


def test_blocks_count_members_and_the_period_only(client, counter, make_member, line, clock):
    """Two blocks by one member count once; a member blocked since before the period is no friend
    of it; a block before the period is not the period's."""
    start = clock.now
    clock.now = start - timedelta(days=90)
    gone, _ = make_member("早就封鎖")
    clock.now = start - timedelta(days=80)
    assert line.post(ev.unfollow_event(gone)).status_code == 200
    clock.now = start - timedelta(days=70)
    stay, _ = make_member("一直都在")
    flaky, _ = make_member("封了又回")
    clock.now = start - timedelta(hours=3)
    for event in (ev.unfollow_event(flaky), ev.follow_event(flaky, unblocked=True), ev.unfollow_event(flaky)):
        assert line.post(event).status_code == 200
        clock.advance(minutes=30)
    clock.now = start
    d = board(client, counter)
    assert (d["blockers_in_period"], d["friends_in_period"], d["blocks_in_period"], d["blocked_now"]) == (1, 2, 2, 2)
    assert d["block_rate"] == 0.5


def test_nobody_at_all(client, counter):
    d = board(client, counter)
    assert (d["visitors"], d["returning_rate"], d["block_rate"], d["friends_in_period"], d["rfm"]) == (0, 0.0, 0.0, 0, {})
