"""Ledger concurrency, proven with real concurrent requests on PostgreSQL.

Each thread has its own Flask test client (the app serves each thread with its own database
connection); a ``threading.Barrier`` makes the requests start together.  Responses are read
in full as a WSGI server would (so pushes scheduled after the response have gone out).
"""
from __future__ import annotations

import threading
import time
import uuid
from collections import Counter

import pytest
from sqlalchemy import func, select

from models.ledger import Award, LedgerEntry
from models.member import Member
from models.reward import Redemption, RewardGrant
from tests.conftest import ServerLikeClient, card_token

JOIN_TIMEOUT = 60


def run_together(app, n: int, fn) -> list:  # type: ignore[no-untyped-def]
    """Call ``fn(i, client)`` in ``n`` threads released together; the results, in order."""
    app.test_client_class = ServerLikeClient
    clients = [app.test_client() for _ in range(n)]
    barrier = threading.Barrier(n, timeout=JOIN_TIMEOUT)
    results: list = [None] * n

    def worker(i: int) -> None:
        try:
            barrier.wait()
            results[i] = fn(i, clients[i])
        except BaseException as exc:  # noqa: BLE001 - reported by the caller's assertions
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + JOIN_TIMEOUT
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "a request hung"
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    return results


def answer(resp) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    return resp.status_code, resp.get_json()


def member_id(db, number: str) -> int:  # type: ignore[no-untyped-def]
    with db.sessions() as s:
        return s.scalar(select(Member.id).where(Member.member_no == number))


def ledger(db, mid: int) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Balances recomputed from the raw entries."""
    with db.sessions() as s:
        rows = s.execute(select(LedgerEntry.currency, LedgerEntry.amount).where(LedgerEntry.member_id == mid)).all()
    return {c: sum(a for cur, a in rows if cur == c) for c in ("stamp", "point")}


def test_same_receipt_50_times_at_once_awards_once(pg_only, app, db, counter, make_member, fake_line):
    user, number = make_member()
    counter.rule(amount_per_point="10", stamps_per_visit=1, card_size=10)
    body = {"member_no": number, "receipt_id": "R-RACE", "amount": 250, "visit": True}
    results = run_together(app, 50, lambda i, c: answer(c.post("/api/v1/awards", json=body, headers=counter.cashier)))

    statuses = Counter(status for status, _ in results)
    assert set(statuses) <= {200, 201} and statuses[201] == 1, statuses
    assert len({b["award"]["id"] for _, b in results}) == 1
    assert all(b["award"]["replayed"] == (s == 200) for s, b in results)
    assert all((b["award"]["stamps"], b["award"]["points"]) == (1, 25) for _, b in results)
    mid = member_id(db, number)
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Award)) == 1
        entries = s.execute(select(LedgerEntry.currency, LedgerEntry.amount).where(LedgerEntry.member_id == mid)).all()
    assert sorted(entries) == [("point", 25), ("stamp", 1)]  # one set of entries
    assert ledger(db, mid) == {"stamp": 1, "point": 25}
    pushes = [m for m in fake_line.messages_to(user) if m["kind"] == "push"]
    assert len(pushes) == 1


def test_concurrent_redemptions_never_overdraw(pg_only, app, client, db, counter, make_member, clock):
    _, number = make_member()
    counter.rule(amount_per_point="10", stamps_per_visit=0)
    item = client.post("/api/v1/admin/rewards", json={"name": "手工餅乾", "points_cost": 30}, headers=counter.admin).get_json()
    assert counter.award(number, "R-100", amount=1000).get_json()["member"]["balances"]["points"] == 100

    def redeem(i: int, c) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
        body = {"token": card_token(number, clock), "reward_id": item["id"], "request_id": f"redeem-{i}"}
        return answer(c.post("/api/v1/redemptions", json=body, headers=counter.cashier))

    results = run_together(app, 10, redeem)
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 3, 409: 7}, results
    assert all(b["code"] == "insufficient_balance" for s, b in results if s == 409)
    # the refusals report a balance some committed state really had
    assert {b["details"]["balance"] for s, b in results if s == 409} <= {10}
    mid = member_id(db, number)
    assert ledger(db, mid)["point"] == 10
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Redemption)) == 3
        redeemed = s.scalars(select(LedgerEntry.amount).where(LedgerEntry.member_id == mid, LedgerEntry.reason == "redeem")).all()
    assert sorted(redeemed) == [-30, -30, -30]
    assert client.post("/api/v1/scan", json={"member_no": number}, headers=counter.cashier).get_json()["balances"]["points"] == 10


def test_same_redemption_request_10_times_at_once_redeems_once(pg_only, app, client, db, counter, make_member, clock):
    _, number = make_member()
    counter.rule(amount_per_point="10", stamps_per_visit=0)
    item = client.post("/api/v1/admin/rewards", json={"name": "手工餅乾", "points_cost": 30}, headers=counter.admin).get_json()
    counter.award(number, "R-100", amount=1000)  # 100 points
    body = {"token": card_token(number, clock), "reward_id": item["id"], "request_id": "redeem-twice"}
    results = run_together(app, 10, lambda i, c: answer(c.post("/api/v1/redemptions", json=body, headers=counter.cashier)))

    statuses = Counter(status for status, _ in results)
    # one redemption; every twin answers with it (replayed), or at worst a retryable code
    assert statuses[201] == 1, results
    replays = [b for s, b in results if s == 200]
    retryable = [b for s, b in results if s not in (200, 201)]
    assert all(b["code"] == "request_in_progress" for b in retryable), retryable  # none seen so far
    first = next(b for s, b in results if s == 201)["redemption"]["id"]
    assert all(b["redemption"]["replayed"] and b["redemption"]["id"] == first for b in replays)
    assert all(b["member"]["balances"]["points"] == 70 for b in replays)
    mid = member_id(db, number)
    assert ledger(db, mid)["point"] == 70
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Redemption)) == 1


def test_one_request_id_sent_for_several_members_at_once_redeems_once(pg_only, app, client, db, counter, make_member, clock):
    numbers = [make_member(f"會員{i}")[1] for i in range(6)]
    counter.rule(amount_per_point="10", stamps_per_visit=0)
    item = client.post("/api/v1/admin/rewards", json={"name": "手工餅乾", "points_cost": 30}, headers=counter.admin).get_json()
    for i, number in enumerate(numbers):
        counter.award(number, f"R-{i}", amount=1000)  # 100 points each

    def redeem(i: int, c) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
        body = {"token": card_token(numbers[i], clock), "reward_id": item["id"], "request_id": "shared-id"}
        return answer(c.post("/api/v1/redemptions", json=body, headers=counter.cashier))

    results = run_together(app, len(numbers), redeem)
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 1, 409: len(numbers) - 1}, results
    assert all(b["code"] == "request_id_reused" for s, b in results if s == 409), results
    winner = next(i for i, (s, _) in enumerate(results) if s == 201)
    for i, number in enumerate(numbers):  # only the winner paid; every other spending was rolled back
        assert ledger(db, member_id(db, number))["point"] == (70 if i == winner else 100)
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Redemption)) == 1
        assert s.scalars(select(LedgerEntry.amount).where(LedgerEntry.reason == "redeem")).all() == [-30]


def test_one_receipt_sent_with_different_amounts_at_once_awards_once(pg_only, app, db, counter, make_member):
    _, number = make_member()
    counter.rule(amount_per_point="10", stamps_per_visit=0)
    amounts = [100 + 10 * i for i in range(10)]

    def award(i: int, c) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
        body = {"member_no": number, "receipt_id": "R-TWICE", "amount": amounts[i]}
        return answer(c.post("/api/v1/awards", json=body, headers=counter.cashier))

    results = run_together(app, len(amounts), award)
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 1, 409: len(amounts) - 1}, results
    assert all(b["code"] == "receipt_already_awarded" for s, b in results if s == 409)
    winner = next(i for i, (s, _) in enumerate(results) if s == 201)
    assert all(b["details"]["amount"] == f"{amounts[winner]}.00" for s, b in results if s == 409)
    assert ledger(db, member_id(db, number))["point"] == amounts[winner] // 10
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Award)) == 1


@pytest.mark.parametrize("card_size", [4, 7])
def test_concurrent_awards_fill_cards_exactly(pg_only, app, db, counter, make_member, card_size):
    _, number = make_member()
    counter.rule(stamps_per_visit=1, amount_per_stamp="100", amount_per_point=None, card_size=card_size)
    amounts = [(i * 37) % 300 for i in range(30)]  # 1 visit stamp + 0..2 stamps each
    stamps_each = [1 + a // 100 for a in amounts]
    total = sum(stamps_each)

    def award(i: int, c) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
        body = {"member_no": number, "receipt_id": f"R-{uuid.uuid4()}", "amount": amounts[i], "visit": True}
        return answer(c.post("/api/v1/awards", json=body, headers=counter.cashier))

    results = run_together(app, len(amounts), award)
    failed = Counter((s, b.get("code")) for s, b in results if s != 201)
    assert not failed, (
        f"{sum(failed.values())} of {len(results)} concurrent awards failed: {dict(failed)}. Was a PostgreSQL "
        "'deadlock detected' when lock_member() used FOR UPDATE: award() inserts the Award row first (its foreign "
        "key check holds FOR KEY SHARE on the member row), and FOR UPDATE waits for every other award's KEY SHARE. "
        "lock_member() must lock FOR NO KEY UPDATE (with_for_update(key_share=True))."
    )
    assert sorted(b["award"]["stamps"] for _, b in results) == sorted(stamps_each)
    issued = sum(b["award"]["rewards_issued"] for _, b in results)
    assert issued == total // card_size
    mid = member_id(db, number)
    assert ledger(db, mid)["stamp"] == total % card_size  # carry-over exact
    with db.sessions() as s:
        grants = s.scalar(select(func.count()).select_from(RewardGrant).where(RewardGrant.member_id == mid))
        card_rewards = s.scalars(
            select(LedgerEntry.amount).where(LedgerEntry.member_id == mid, LedgerEntry.reason == "card_reward")
        ).all()
        assert s.scalar(select(func.count()).select_from(Award)) == len(amounts)
    assert grants == len(card_rewards) == total // card_size
    assert set(card_rewards) <= {-card_size}


def test_daily_job_member_locks_do_not_wait_for_concurrent_inserts(pg_only, app, db, counter, tiers, make_member, clock):
    """The daily job locks members FOR NO KEY UPDATE like every other member lock (lock_member).

    An insert referencing a member (an award, a ledger entry) holds FOR KEY SHARE on the member's
    row until it commits. A plain FOR UPDATE waits for it, and while waiting it queues ahead of
    the inserting transaction's own FOR NO KEY UPDATE: with two awards in flight, PostgreSQL finds a
    deadlock. Here the job must get through both of its member-locking steps while such inserts
    are still open."""
    from bot.jobs.daily import tier_periods, tier_reminders
    from models.ledger import add_entry

    svc = app.extensions["loyalty"]
    _, ending = make_member("期滿")
    _, reminded = make_member("提醒")
    counter.award(ending, "R-1", amount=3200)  # silver for 365 days
    clock.advance(days=30)
    counter.award(reminded, "R-2", amount=3200)
    clock.advance(days=336)  # the first member's period ended; the second's ends in 29 days (reminder window)
    ids = [member_id(db, ending), member_id(db, reminded)]

    inserting = db.sessions()
    try:
        for mid in ids:  # a concurrent award's ledger entries, not committed yet: FOR KEY SHARE on the members
            add_entry(inserting, member_id=mid, currency="point", amount=1, reason="award", actor=None, now=clock.now)
        inserting.flush()
        done: dict[str, int] = {}

        def daily_steps() -> None:
            with app.app_context():
                done["tier_changes"] = tier_periods(svc)
                done["tier_reminders"] = tier_reminders(svc)

        job = threading.Thread(target=daily_steps, daemon=True)
        job.start()
        job.join(timeout=15)
        blocked = job.is_alive()
    finally:
        inserting.rollback()
        inserting.close()
    job.join(timeout=JOIN_TIMEOUT)
    assert not blocked, "the daily job waited for a concurrent insert's FOR KEY SHARE: it locks members FOR UPDATE"
    assert done["tier_changes"] == 1 and "tier_reminders" in done  # both steps locked a member and finished
