"""Scheduled commands: expiry as ledger entries, the outbox after a LINE outage; both safe to run twice."""
from __future__ import annotations

from sqlalchemy import select

from models.ledger import LedgerEntry
from models.outbox import OutboxMessage


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
    client.post("/api/v1/redemptions", json={"member_no": number, "reward_id": item["id"], "request_id": "x"}, headers=counter.cashier)
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
    from bot import lineevents as ev

    user, number = make_member()
    line.post(ev.unfollow_event(user))
    counter.award(number, "R-1", amount=100)
    assert [d for d in fake_line.messages_to(user) if d["kind"] == "push"] == []
    with db.sessions() as s:
        assert s.scalars(select(OutboxMessage)).all() == []  # nothing queued for an unreachable member
