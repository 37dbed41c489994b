"""RFM you can trust: members with equal behaviour get equal scores and the same class, whatever
their member numbers, whatever rule the brand picked for "high"; members who bought only before the
window are a class too (R lowest); a recompute of unchanged data changes nothing."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select

from models.ledger import Award
from models.member import Member
from models.segment import MemberStats, compute_stats
from models.segment_setting import MODES, SegmentSetting, update_setting
from models.store import Store

TAIPEI = ZoneInfo("Asia/Taipei")
WINDOW = 365
DAYS_AGO = st.sampled_from([0, 1, 2, 9, 30, 200, 400, 500])  # 400 and 500: before the window
PURCHASE = st.tuples(DAYS_AGO, st.sampled_from([None, Decimal(100), Decimal(250)]), st.integers(0, 23 * 60))
MEMBER = st.lists(PURCHASE, min_size=1, max_size=4)
SETTINGS = settings(max_examples=30, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def purchase_at(now: datetime, days_ago: int, minutes: int) -> datetime:
    """Some minute of the Taipei day ``days_ago`` days before now's day (never after now)."""
    day = now.astimezone(TAIPEI).date() - timedelta(days=days_ago)
    at = datetime(day.year, day.month, day.day, tzinfo=TAIPEI) + timedelta(minutes=minutes)
    return min(at, now - timedelta(seconds=1))


def load(s, now: datetime, members: list[list[tuple[int, Decimal | None, int]]]) -> dict[int, tuple]:  # type: ignore[no-untyped-def]
    """Members and their purchases, written directly; returns each member's RFM inputs as they
    are defined: (Taipei day of the last visit or None when outside the window, visits and spend in the window)."""
    for table in (MemberStats, Award, Member, Store, SegmentSetting):
        s.execute(delete(table))
    store = Store(code="P", name="性質店", created_at=now)
    s.add(store)
    s.flush()
    since = now - timedelta(days=WINDOW)
    facts = {}
    for i, purchases in enumerate(members):
        member = Member(line_user_id=f"Uprop{i:028d}", is_reachable=True, followed_at=now, created_at=now, joined_at=now, member_no=f"P{i:06d}")
        s.add(member)
        s.flush()
        times = [(purchase_at(now, d, minutes), amount) for d, amount, minutes in purchases]
        s.execute(insert(Award), [{"store_id": store.id, "receipt_id": f"{i}-{n}", "member_id": member.id, "amount": amount, "visit": True,
                                   "stamps": 1, "points": 0, "rewards": 0, "actor_kind": "pos", "created_at": at} for n, (at, amount) in enumerate(times)])
        recent = [(at, amount) for at, amount in times if at > since]
        facts[member.id] = (max(at for at, _ in recent).astimezone(TAIPEI).date() if recent else None, len(recent),
                            sum((a or 0 for _, a in recent), Decimal(0)))
    return facts


def results(s) -> dict[int, tuple]:  # type: ignore[no-untyped-def]
    return {r.member_id: (r.r_score, r.f_score, r.m_score, r.rfm_class) for r in s.scalars(select(MemberStats))}


@SETTINGS
@given(members=st.lists(MEMBER, min_size=1, max_size=14), modes=st.tuples(*[st.sampled_from(MODES)] * 3))
def test_equal_values_get_equal_scores_and_class(db, clock, members, modes):
    now = clock.now
    with db.transaction() as s:
        facts = load(s, now, members)
        update_setting(s, {"r_mode": modes[0], "f_mode": modes[1], "m_mode": modes[2], "r_days": 9, "f_visits": 2, "m_amount": 250}, now=now)
        compute_stats(s, now=now, window_days=WINDOW)
        first = results(s)
    assert set(first) == set(facts)  # everyone who bought has a score and a class
    by_values: dict[tuple, set[tuple]] = {}
    for member_id, values in facts.items():
        by_values.setdefault(values, set()).add(first[member_id])
        r, f, m, cls = first[member_id]
        assert cls is not None and all(1 <= x <= 5 for x in (r, f, m))
        if values[0] is None:  # bought, but not in the window: lowest R, a 挽留 class
            assert (r, f, m, cls) == (1, 1, 1, "一般挽留")
    assert all(len(outcomes) == 1 for outcomes in by_values.values()), by_values
    with db.transaction() as s:
        compute_stats(s, now=now, window_days=WINDOW)
        assert results(s) == first  # nothing changed: nothing moves


def test_identical_customers_are_one_class(db, clock):
    """The issue's case: ten customers with the same visit, spend and day; ntile(5) split them
    into F=1..5 by member number (重要發展 beside 重要價值)."""
    now = clock.now
    with db.transaction() as s:
        facts = load(s, now, [[(2, Decimal(100), 60)]] * 10 + [[(1, Decimal(300), 60), (1, Decimal(300), 90)]] * 2)
        compute_stats(s, now=now, window_days=WINDOW)
        got = results(s)
    same = {got[mid] for mid, (_, visits, _) in facts.items() if visits == 1}
    assert same == {(1, 1, 1, "一般挽留")}
    assert {got[mid] for mid, (_, visits, _) in facts.items() if visits == 2} == {(5, 5, 5, "重要價值")}


def test_members_outside_the_window_are_a_class(db, clock):
    now = clock.now
    with db.transaction() as s:
        facts = load(s, now, [[(400, Decimal(5000), 0)], [(1, Decimal(100), 0)], [(30, Decimal(900), 0)]])
        compute_stats(s, now=now, window_days=WINDOW)
        got = results(s)
    lapsed = next(mid for mid, (day, _, _) in facts.items() if day is None)
    assert got[lapsed] == (1, 1, 1, "一般挽留")


def test_the_brands_rule_for_high_decides_the_class(db, clock):
    """Fixed thresholds (R within 7 days, F ≥ 2 visits, M ≥ NT$500) and the average."""
    now = clock.now
    with db.transaction() as s:
        facts = load(s, now, [[(1, Decimal(300), 0), (3, Decimal(300), 0)],  # recent, 2 visits, 600
                              [(10, Decimal(450), 0)],                      # 10 days, 1 visit, 450
                              [(200, Decimal(100), 0)]])                    # old, 1 visit, 100
        ids = sorted(facts)
        update_setting(s, {"r_mode": "threshold", "f_mode": "threshold", "m_mode": "threshold", "r_days": 7, "f_visits": 2, "m_amount": "500"}, now=now)
        compute_stats(s, now=now, window_days=WINDOW)
        assert [results(s)[i][3] for i in ids] == ["重要價值", "一般挽留", "一般挽留"]
        update_setting(s, {"r_mode": "average", "f_mode": "average", "m_mode": "average"}, now=now)
        compute_stats(s, now=now, window_days=WINDOW)
        # averages: recency (1 + 10 + 200) / 3 = 70.3 days, visits 4/3, spend 383.3
        assert [results(s)[i][3] for i in ids] == ["重要價值", "重要發展", "一般挽留"]
