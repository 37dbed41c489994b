"""Concurrency claims, proven with real concurrent requests on PostgreSQL."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from bot.dev import lineevents as ev
from models.member import Member
from models.webhook import WebhookEvent


def run_together(n: int, fn) -> list:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def worker(i: int) -> None:
        barrier.wait()
        results[i] = fn(i)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def test_two_follow_events_at_once_make_one_member(pg_only, app, line, db):
    user = line.user("同時")
    events = [ev.follow_event(user), ev.follow_event(user)]
    for e in events:
        line.fake.register_reply_token(e["replyToken"], user)
    clients = [app.test_client(), app.test_client()]

    def send(i: int) -> int:
        body = ev.payload(events[i])
        return clients[i].post(
            "/callback", data=body, headers={"X-Line-Signature": ev.sign("test-channel-secret", body)}
        ).status_code

    assert run_together(2, send) == [200, 200]
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Member).where(Member.line_user_id == user)) == 1
        assert s.scalar(select(func.count()).select_from(WebhookEvent)) == 2


def test_same_event_delivered_twice_at_once_is_processed_once(pg_only, app, line, db, fake_line):
    user = line.user()
    event = ev.follow_event(user)
    twin = {**event, "replyToken": ev.reply_token(), "deliveryContext": {"isRedelivery": True}}
    for e in (event, twin):
        line.fake.register_reply_token(e["replyToken"], user)
    clients = [app.test_client(), app.test_client()]
    bodies = [ev.payload(event), ev.payload(twin)]

    def send(i: int) -> int:
        return clients[i].post(
            "/callback", data=bodies[i], headers={"X-Line-Signature": ev.sign("test-channel-secret", bodies[i])}
        ).status_code

    assert run_together(2, send) == [200, 200]
    assert len(fake_line.messages_to(user)) == 1
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(WebhookEvent)) == 1


def _post_all(app, events: list[dict]):  # type: ignore[no-untyped-def]
    clients = [app.test_client() for _ in events]
    bodies = [ev.payload(e) for e in events]

    def send(i: int) -> int:
        return clients[i].post(
            "/callback", data=bodies[i], headers={"X-Line-Signature": ev.sign("test-channel-secret", bodies[i])}
        ).status_code

    return run_together(len(events), send)


def test_one_message_event_delivered_twice_at_once_is_answered_once(pg_only, app, line, db, fake_line):
    """Messages claim their event and lock the sender in one statement: the twin, arriving at the
    same instant and not marked as a redelivery, still finds the claim and sends nothing."""
    user = line.user()
    line.join(user)
    before = len(fake_line.messages_to(user))
    event = ev.text_event(user, "會員卡")
    twin = {**event, "replyToken": ev.reply_token()}
    for e in (event, twin):
        line.fake.register_reply_token(e["replyToken"], user)
    assert _post_all(app, [event, twin]) == [200, 200]
    assert len(fake_line.messages_to(user)) == before + 1
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(WebhookEvent)
                        .where(WebhookEvent.webhook_event_id == event["webhookEventId"])) == 1


def test_many_messages_from_one_member_at_once_are_each_answered(pg_only, app, line, db, fake_line):
    user = line.user()
    line.join(user)
    before = len(fake_line.messages_to(user))
    events = [ev.text_event(user, "會員卡") for _ in range(8)]
    for e in events:
        line.fake.register_reply_token(e["replyToken"], user)
    assert _post_all(app, events) == [200] * 8
    cards = fake_line.messages_to(user)[before:]
    assert len(cards) == 8 and all(d["messages"][0]["type"] == "flex" for d in cards)


def test_first_messages_of_an_unknown_user_at_once_make_one_member(pg_only, app, line, db, fake_line):
    """A user who never followed (the follow event was lost) writes twice at once: no member row
    exists for the claim statement to lock, each event inserts it, one insert wins."""
    user = line.user()
    events = [ev.text_event(user, "你好"), ev.text_event(user, "會員卡")]
    for e in events:
        line.fake.register_reply_token(e["replyToken"], user)
    assert _post_all(app, events) == [200, 200]
    assert len(fake_line.messages_to(user)) == 2
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Member).where(Member.line_user_id == user)) == 1
