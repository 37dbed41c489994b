"""A member's 確認 tapped several times at once (distinct events, several workers) spends once;
a 確認 racing a 取消 either spends once or not at all. Real concurrent webhooks on PostgreSQL."""
from __future__ import annotations

import re
from collections import Counter

from sqlalchemy import select

from bot.dev import lineevents as ev
from models.confirmation import SpendConfirmation
from models.ledger import LedgerEntry
from tests.conftest import CHANNEL_SECRET, all_text
from tests.test_ledger_concurrency_pg import run_together


def _setup(client, counter, make_member, fake_line):  # type: ignore[no-untyped-def]
    user, number = make_member()
    counter.rule(amount_per_point="10", stamps_per_visit=0)
    counter.award(number, "R-100", amount=1000)  # 100 points
    item = client.post("/api/v1/admin/rewards", json={"name": "手工餅乾", "points_cost": 30}, headers=counter.admin).get_json()
    resp = client.post("/api/v1/redemptions", json={"member_no": number, "reward_id": item["id"], "request_id": "Q-1"}, headers=counter.cashier)
    assert resp.get_json()["code"] == "confirmation_required"
    text = all_text(fake_line.messages_to(user)[-1]["messages"])
    return user, re.search(r"action=spend_confirm&c=\d+", text).group(0), re.search(r"action=spend_cancel&c=\d+", text).group(0)


def _tap(fake_line, client, user: str, data: str):  # type: ignore[no-untyped-def]
    event = ev.postback_event(user, data)
    fake_line.register_reply_token(event["replyToken"], user)
    body = ev.payload(event)
    resp = client.post("/callback", data=body, headers={"Content-Type": "application/json", "X-Line-Signature": ev.sign(CHANNEL_SECRET, body)})
    return resp.status_code, event["replyToken"]


def _replies(fake_line, user: str) -> list[str]:
    return [all_text(d["messages"]) for d in fake_line.messages_to(user) if d["kind"] == "reply"]


def test_confirm_tapped_eight_times_at_once_spends_once(pg_only, app, client, counter, make_member, fake_line, db):
    user, yes, _ = _setup(client, counter, make_member, fake_line)
    before = len(_replies(fake_line, user))
    results = run_together(app, 8, lambda i, c: _tap(fake_line, c, user, yes))
    assert all(status == 200 for status, _ in results)
    with db.sessions() as s:
        assert s.scalars(select(LedgerEntry.amount).where(LedgerEntry.reason == "redeem")).all() == [-30]
        assert s.scalars(select(SpendConfirmation.status)).all() == ["confirmed"]
    replies = _replies(fake_line, user)[before:]
    assert len(replies) == 8
    assert Counter("已兌換" in r for r in replies) == {True: 1, False: 7}
    assert all("已經處理過了" in r for r in replies if "已兌換" not in r)


def test_confirm_racing_cancel_spends_once_or_not_at_all(pg_only, app, client, counter, make_member, fake_line, db):
    user, yes, no = _setup(client, counter, make_member, fake_line)
    run_together(app, 6, lambda i, c: _tap(fake_line, c, user, yes if i % 2 else no))
    with db.sessions() as s:
        status = s.scalars(select(SpendConfirmation.status)).one()
        entries = s.scalars(select(LedgerEntry.amount).where(LedgerEntry.reason == "redeem")).all()
    assert (status, entries) in [("confirmed", [-30]), ("cancelled", [])]


def test_two_transactions_confirming_at_once_spend_once(pg_only, app, client, counter, make_member, fake_line, db, clock):
    """Below the webhook (which also locks the member's row with the event's claim): the
    confirmation's own row lock makes two transactions confirming it at once spend once."""
    import threading

    from models.confirmation import confirm

    _setup(client, counter, make_member, fake_line)
    with db.sessions() as s:
        row = s.scalars(select(SpendConfirmation)).one()
        confirmation_id, member_id = row.id, row.member_id
    barrier, fresh = threading.Barrier(2, timeout=30), []

    def worker() -> None:
        with db.transaction() as s:
            barrier.wait()
            fresh.append(confirm(s, confirmation_id=confirmation_id, member_id=member_id, now=clock.now).fresh)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(fresh) == [False, True]
    with db.sessions() as s:
        assert s.scalars(select(LedgerEntry.amount).where(LedgerEntry.reason == "redeem")).all() == [-30]
