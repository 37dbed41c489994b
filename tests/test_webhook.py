"""The webhook's edge: signatures, redelivery, failures, unknown events."""
from __future__ import annotations

import json
import logging

from sqlalchemy import func, select

from bot.dev import lineevents as ev
from models.member import Member
from models.webhook import WebhookEvent


def count(db, model) -> int:  # type: ignore[no-untyped-def]
    with db.sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_valid_signature_is_processed(line, db, fake_line):
    user = line.user()
    resp = line.follow(user)
    assert resp.status_code == 200
    assert count(db, Member) == 1
    assert len(fake_line.requests(path="/v2/bot/message/reply")) == 1


def test_wrong_signature_is_rejected_and_nothing_stored(line, db, fake_line):
    user = line.user()
    resp = line.post(ev.follow_event(user), secret="not-the-channel-secret")
    assert resp.status_code == 400
    assert resp.get_json()["code"] == "invalid_signature"
    assert count(db, Member) == 0 and count(db, WebhookEvent) == 0
    assert fake_line.requests() == []


def test_missing_signature_is_rejected(line, db):
    resp = line.post(ev.follow_event(line.user()), signature="")
    assert resp.status_code == 400
    assert resp.get_json()["code"] == "missing_signature"
    assert count(db, Member) == 0


def test_signature_over_a_tampered_body_is_rejected(line, client, db):
    user = line.user()
    body = ev.payload(ev.follow_event(user))
    signature = ev.sign("test-channel-secret", body)
    tampered = body.replace(b'"isUnblocked": false', b'"isUnblocked": true')
    assert tampered != body
    resp = client.post("/callback", data=tampered, headers={"X-Line-Signature": signature})
    assert resp.status_code == 400
    assert count(db, Member) == 0


def test_redelivered_event_changes_nothing_and_sends_nothing(line, db, fake_line):
    user = line.user()
    event = ev.follow_event(user)
    assert line.post(event).status_code == 200
    again = {**event, "deliveryContext": {"isRedelivery": True}, "replyToken": ev.reply_token()}
    assert line.post(again).status_code == 200
    assert count(db, WebhookEvent) == 1
    assert len(fake_line.messages_to(user)) == 1
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Member)) == 1


def test_empty_verification_request_is_ok(line):
    # The console's "Verify" button sends an empty event list.
    assert line.post().status_code == 200


def test_unknown_event_type_is_ignored_politely(line, db, fake_line):
    user = line.user()
    unknown = {
        "type": "somethingNew",
        "mode": "active",
        "timestamp": 1,
        "source": {"type": "user", "userId": user},
        "webhookEventId": ev.new_event_id(),
        "deliveryContext": {"isRedelivery": False},
    }
    resp = line.post(unknown, ev.text_event(user, "說明"))
    assert resp.status_code == 200
    assert len(fake_line.messages_to(user)) == 1  # the help reply; the unknown event sent nothing


def test_one_failing_event_does_not_lose_the_others(line, db, fake_line, monkeypatch, caplog):
    from handlers import router

    def boom(inp, ctx):  # type: ignore[no-untyped-def]
        raise RuntimeError("bug in a handler")

    monkeypatch.setitem(router.COMMANDS, "說明", boom)
    a, b = line.user("甲"), line.user("乙")
    bad = ev.text_event(a, "說明")
    good = ev.follow_event(b)
    with caplog.at_level(logging.ERROR):
        resp = line.post(bad, good)
    assert resp.status_code == 200
    with db.sessions() as s:
        ids = set(s.scalars(select(WebhookEvent.webhook_event_id)))
    assert ids == {good["webhookEventId"]}  # the failed event can be redelivered
    assert "稍後再試" in json.dumps(line.replies(a), ensure_ascii=False)  # friendly apology
    assert count(db, Member) == 1  # a's event rolled back whole; b's follow is kept
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert bad["webhookEventId"] in logged
    assert a not in logged and "甲" not in logged  # no personal data in logs


def test_database_down_answers_500_so_line_redelivers(line, app, db, fake_line):
    from sqlalchemy.exc import OperationalError

    svc = app.extensions["loyalty"]
    real = svc.db.sessions

    def down():  # type: ignore[no-untyped-def]
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    svc.db.sessions = down
    user = line.user()
    event = ev.follow_event(user)
    assert line.post(event).status_code == 500
    svc.db.sessions = real
    again = {**event, "deliveryContext": {"isRedelivery": True}, "replyToken": ev.reply_token()}
    assert line.post(again).status_code == 200
    assert count(db, Member) == 1
    assert count(db, WebhookEvent) == 1


def test_a_signed_body_nested_5000_deep_is_refused_not_a_crash(client, db, fake_line):
    """json.loads raises RecursionError on it: that was a 500, this route's "please redeliver"."""
    for body in (b'{"destination": "U0", "events": [' + b"[" * 5000 + b"]" * 5000 + b"]}",
                 b'{"destination": "U0", "events": [{"type": "follow", "x": ' + b"{\"a\": " * 5000 + b"1" + b"}" * 5000 + b"}]}"):
        resp = client.post("/callback", data=body, headers={"X-Line-Signature": ev.sign("test-channel-secret", body),
                                                             "Content-Type": "application/json"})
        assert resp.status_code == 400
        assert resp.get_json()["code"] == "invalid_body"
    assert count(db, WebhookEvent) == 0 and fake_line.requests() == []
