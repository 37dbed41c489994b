"""Scheduled commands: expiry as ledger entries, the outbox after a LINE outage; both safe to run twice."""
from __future__ import annotations

from sqlalchemy import select

from models.ledger import LedgerEntry
from models.outbox import OutboxMessage
from tests.conftest import card_token


def entries(db, reason: str) -> list[int]:  # type: ignore[no-untyped-def]
    with db.sessions() as s:
        return list(s.scalars(select(LedgerEntry.amount).where(LedgerEntry.reason == reason)))


def test_expiry_command_expires_oldest_first_and_is_idempotent(app, counter, make_member, clock, client, db):
    _, number = make_member()
    counter.rule(amount_per_point="10", stamps_per_visit=0, point_expiry_days=30)
    counter.award(number, "R-old", amount=100)  # 10 points, expire in 30 days
    clock.advance(days=20)
    counter.award(number, "R-new", amount=50)  # 5 points, expire in 50 days
    item = client.post("/api/v1/admin/rewards", json={"name": "貼紙", "points_cost": 4}, headers=counter.admin).get_json()
    client.post("/api/v1/redemptions", json={"token": card_token(number, clock), "reward_id": item["id"], "request_id": "x"}, headers=counter.cashier)
    clock.advance(days=11)  # the first lot is past its date; 4 of its 10 points were spent
    runner = app.test_cli_runner()
    out = runner.invoke(args=["loyalty", "expire"])
    assert out.exit_code == 0 and "expired 0 stamps and 6 points for 1 member(s)" in out.output
    assert runner.invoke(args=["loyalty", "expire"]).output.count("expired 0 stamps and 0 points") == 1
    assert entries(db, "expire") == [-6]
    scan = client.post("/api/v1/scan", json={"member_no": number}, headers=counter.cashier).get_json()
    assert scan["balances"]["points"] == 5


def test_outbox_retries_pushes_after_a_line_outage(app, counter, make_member, fake_line, clock, db):
    user, number = make_member()
    fake_line.inject("/v2/bot/message/push", 500, times=1)
    assert counter.award(number, "R-1", amount=100).status_code == 201  # the award stands
    with db.sessions() as s:
        row = s.scalars(select(OutboxMessage)).one()
        assert row.status == "pending" and row.attempts == 1
    pushes = [d for d in fake_line.messages_to(user) if d["kind"] == "push"]
    assert pushes == []
    clock.advance(minutes=5)
    runner = app.test_cli_runner()
    assert "sent 1" in runner.invoke(args=["loyalty", "outbox"]).output
    assert "sent 0" in runner.invoke(args=["loyalty", "outbox"]).output
    pushes = [d for d in fake_line.messages_to(user) if d["kind"] == "push"]
    assert len(pushes) == 1 and pushes[0]["retry_key"] == row.retry_key


def test_push_to_blocked_member_is_skipped(app, counter, make_member, line, fake_line, db):
    from bot.dev import lineevents as ev

    user, number = make_member()
    line.post(ev.unfollow_event(user))
    counter.award(number, "R-1", amount=100)
    assert [d for d in fake_line.messages_to(user) if d["kind"] == "push"] == []
    with db.sessions() as s:
        assert s.scalars(select(OutboxMessage)).all() == []  # nothing queued for an unreachable member


def expire(app) -> str:  # type: ignore[no-untyped-def]
    out = app.test_cli_runner().invoke(args=["loyalty", "expire"])
    assert out.exit_code == 0, out.output
    return out.output


def test_shortened_period_expires_what_is_left_of_older_earnings(app, counter, make_member, clock, client, db):
    """Due dates follow the current rule: shortening the period makes older earnings due sooner,
    even when a newer earning (made under the short period) was due first and an older one was spent."""
    _, number = make_member()
    counter.rule(amount_per_point="10", stamps_per_visit=0, point_expiry_days=30)
    counter.award(number, "R-a", amount=100)  # day 0: 10 points (30 days when earned)
    clock.advance(days=5)
    counter.rule(point_expiry_days=7)
    counter.award(number, "R-b", amount=100)  # day 5: 10 points
    clock.advance(days=1)
    item = client.post("/api/v1/admin/rewards", json={"name": "貼紙", "points_cost": 10}, headers=counter.admin).get_json()
    client.post("/api/v1/redemptions", json={"token": card_token(number, clock), "reward_id": item["id"], "request_id": "x"}, headers=counter.cashier)
    clock.advance(days=2)  # day 8: the day-0 earning is past 7 days, but it was spent (oldest first)
    assert "expired 0 stamps and 0 points" in expire(app)
    clock.advance(days=5)  # day 13: the day-5 earning is past 7 days and still unspent
    assert "expired 0 stamps and 10 points for 1 member(s)" in expire(app)
    assert "expired 0 stamps and 0 points" in expire(app)
    assert entries(db, "expire") == [-10]
    assert client.post("/api/v1/scan", json={"member_no": number}, headers=counter.cashier).get_json()["balances"]["points"] == 0


def test_period_changes_apply_to_earnings_made_before_them(app, counter, make_member, clock, db):
    _, number = make_member()
    counter.rule(amount_per_point="10", stamps_per_visit=1, point_expiry_days=30, stamp_expiry_days=7)
    counter.award(number, "R-1", amount=100, visit=True)  # 10 points for 30 days, 1 stamp for 7
    clock.advance(days=1)
    counter.rule(point_expiry_days=7, stamp_expiry_days=30)  # points shortened, stamps lengthened
    clock.advance(days=7)  # day 8
    assert "expired 0 stamps and 10 points for 1 member(s)" in expire(app)
    clock.advance(days=22)  # day 30: the stamp now lives 30 days from when it was earned
    assert "expired 1 stamps and 0 points for 1 member(s)" in expire(app)
    assert sorted(entries(db, "expire")) == [-10, -1]


def test_no_expiry_period_keeps_everything(app, counter, make_member, clock, db):
    _, number = make_member()
    counter.rule(amount_per_point="10", stamps_per_visit=0, point_expiry_days=7)
    counter.award(number, "R-1", amount=100)
    counter.rule(point_expiry_days=None)  # the brand stops expiring points
    clock.advance(days=400)
    assert "expired 0 stamps and 0 points for 0 member(s)" in expire(app)
    counter.rule(point_expiry_days=365)  # and starts again: the year-old points are past it
    assert "expired 0 stamps and 10 points for 1 member(s)" in expire(app)
    assert entries(db, "expire") == [-10]
