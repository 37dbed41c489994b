"""Message delivery, quota charging, reply tokens and retry keys of the fake LINE server
(mixed into ``FakeLine``)."""
from __future__ import annotations

import secrets
import threading
import time
from typing import TYPE_CHECKING, Any

from .spec import OpMatch

if TYPE_CHECKING:
    from .server import Record

RETRY_KEY_TTL = 24 * 3600
QUOTABLE = {"text", "textV2", "sticker", "image", "video"}
DELIVERING = {"replyMessage": "reply", "pushMessage": "push", "multicast": "multicast",
              "broadcast": "broadcast", "narrowcast": "narrowcast"}


def _new_id() -> str:
    return str(secrets.randbelow(9 * 10**17) + 10**17)


class DeliveryMixin:
    """Sending operations plus the bookkeeping they need (deliveries, reply tokens, retry keys)."""

    _lock: threading.RLock
    _profiles: dict[str, dict[str, Any]]
    enforce_quota: bool
    quota_type: str
    quota_value: int
    total_usage: int

    def _reset_delivery(self) -> None:
        self._deliveries: list[dict[str, Any]] = []
        self._reply_tokens: dict[str, dict[str, Any]] = {}
        self._retry_keys: dict[str, tuple[float, str, Any]] = {}

    # -- test helpers --------------------------------------------------------------
    def register_reply_token(self, token: str, user_id: str) -> None:
        with self._lock:
            self._reply_tokens[token] = {"user_id": user_id, "used": False}

    def messages_to(self, user_id: str, after: int = 0) -> list[dict[str, Any]]:
        """Deliveries to ``user_id``: dicts with seq, kind, messages, retry_key."""
        with self._lock:
            return [{k: d[k] for k in ("seq", "kind", "messages", "retry_key")}
                    for d in self._deliveries if user_id in d["to"] and d["seq"] > after]

    # -- retry keys ----------------------------------------------------------------
    def _retry_key(self, rec: Record, op: OpMatch) -> str | None:
        return rec.headers.get("x-line-retry-key") if op.operation_id in DELIVERING else None

    def _claim_retry_key(self, retry_key: str, request_id: str) -> tuple[int, Any, dict[str, str]] | None:
        """Reserve ``retry_key`` (so that concurrent duplicates get 409 too); a 409 if already taken."""
        with self._lock:
            seen = self._retry_keys.get(retry_key)
            if seen and time.time() - seen[0] < RETRY_KEY_TTL:
                conflict = {"message": "The retry key is already accepted"}
                if isinstance(seen[2], dict) and seen[2].get("sentMessages"):
                    conflict["sentMessages"] = seen[2]["sentMessages"]
                return 409, conflict, {"x-line-accepted-request-id": seen[1]}
            self._retry_keys[retry_key] = (time.time(), request_id, None)
        return None

    def _settle_retry_key(self, retry_key: str, request_id: str, status: int, payload: Any) -> None:
        """Keep the key (with the response) after success; release it after a failure."""
        with self._lock:
            if 200 <= status < 300:
                self._retry_keys[retry_key] = (time.time(), request_id, payload)
            else:
                self._retry_keys.pop(retry_key, None)

    # -- delivery ------------------------------------------------------------------
    def _deliver(self, rec: Record, kind: str, to: list[str]) -> tuple[int, Any] | None:
        """Charge quota and store the delivery; returns an error response or None."""
        messages = (rec.json or {}).get("messages", [])
        charged = len(set(to)) if kind != "reply" else 0
        with self._lock:
            if (self.enforce_quota and self.quota_type == "limited"
                    and self.total_usage + charged > self.quota_value):
                return 429, {"message": "You have reached your monthly limit."}
            self.total_usage += charged
            self._deliveries.append({"seq": rec.seq, "kind": kind, "messages": messages, "to": set(to),
                                     "retry_key": rec.headers.get("x-line-retry-key")})
        self._record_units(rec, to)  # type: ignore[attr-defined]  (InsightMixin)
        return None

    def _sent(self, rec: Record) -> dict[str, Any]:
        sent = []
        for msg in (rec.json or {}).get("messages", []):
            item = {"id": _new_id()}
            if isinstance(msg, dict) and msg.get("type") in QUOTABLE:
                item["quoteToken"] = secrets.token_urlsafe(48)
            sent.append(item)
        return {"sentMessages": sent}

    def _op_replyMessage(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        token = rec.json.get("replyToken")
        with self._lock:
            entry = self._reply_tokens.get(token)
            if entry is None or entry["used"]:
                return 400, {"message": "Invalid reply token"}
            entry["used"] = True
        return self._deliver(rec, "reply", [entry["user_id"]]) or (200, self._sent(rec))

    def _op_pushMessage(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        return self._deliver(rec, "push", [rec.json["to"]]) or (200, self._sent(rec))

    def _op_multicast(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        return self._deliver(rec, "multicast", list(rec.json["to"])) or (200, {})

    def _op_broadcast(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        return self._deliver(rec, "broadcast", list(self._profiles)) or (200, {})

    def _op_narrowcast(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        # Audiences/filters cannot be resolved here: only an unfiltered narrowcast is delivered.
        if not rec.json.get("recipient") and not rec.json.get("filter"):
            return self._deliver(rec, "narrowcast", list(self._profiles)) or (202, {})
        return 202, {}

    def _ok(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        return 200, {}

    _op_validateReply = _op_validatePush = _op_validateMulticast = _ok
    _op_validateNarrowcast = _op_validateBroadcast = _ok
