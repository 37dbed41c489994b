"""Spec-shaped LINE webhook events, signed exactly as LINE signs them.

Used by the tests, the chat simulator and the benchmarks; never by production code paths.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any


def sign(channel_secret: str, body: bytes) -> str:
    """X-Line-Signature: base64(HMAC-SHA256(channel secret, raw body))."""
    digest = hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def new_event_id() -> str:
    """A ULID-like webhookEventId (26 characters, as LINE's)."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    return "".join(secrets.choice(alphabet) for _ in range(26))


def new_user_id() -> str:
    return "U" + secrets.token_hex(16)


def _base(kind: str, user_id: str, *, redelivery: bool = False, event_id: str | None = None) -> dict[str, Any]:
    return {
        "type": kind,
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": user_id},
        "webhookEventId": event_id or new_event_id(),
        "deliveryContext": {"isRedelivery": redelivery},
    }


def reply_token() -> str:
    return secrets.token_hex(16)


def text_event(user_id: str, text: str, **kw: Any) -> dict[str, Any]:
    event = _base("message", user_id, **kw)
    event["replyToken"] = reply_token()
    event["message"] = {
        "type": "text",
        "id": str(secrets.randbelow(10**17)),
        "text": text,
        "quoteToken": secrets.token_urlsafe(16),
    }
    return event


def postback_event(user_id: str, data: str, params: dict[str, str] | None = None, **kw: Any) -> dict[str, Any]:
    event = _base("postback", user_id, **kw)
    event["replyToken"] = reply_token()
    event["postback"] = {"data": data, **({"params": params} if params else {})}
    return event


def follow_event(user_id: str, *, unblocked: bool = False, **kw: Any) -> dict[str, Any]:
    event = _base("follow", user_id, **kw)
    event["replyToken"] = reply_token()
    event["follow"] = {"isUnblocked": unblocked}
    return event


def unfollow_event(user_id: str, **kw: Any) -> dict[str, Any]:
    return _base("unfollow", user_id, **kw)


def sticker_event(user_id: str, **kw: Any) -> dict[str, Any]:
    event = _base("message", user_id, **kw)
    event["replyToken"] = reply_token()
    event["message"] = {
        "type": "sticker",
        "id": str(secrets.randbelow(10**17)),
        "packageId": "446",
        "stickerId": "1988",
        "stickerResourceType": "STATIC",
        "quoteToken": secrets.token_urlsafe(16),
    }
    return event


def payload(*events: dict[str, Any], destination: str = "Ufakebotdestination0000000000000") -> bytes:
    return json.dumps({"destination": destination, "events": list(events)}, ensure_ascii=False).encode()
