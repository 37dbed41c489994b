"""``WireApiClient``: the SDK's own ``ApiClient`` sending request bodies made by ``to_wire``.

The wire format itself (``to_wire``, ``build``, ``RawMessage``) is in handlers/wire.py, beside
the message builders that use it; it is re-exported here. Only the serialisation step is
replaced, so every call still goes through ``MessagingApi``: its argument checks, headers,
retry key and errors are the SDK's.

The test suite sets ``WireApiClient.verify`` so that every request any test sends is also
serialised by the SDK itself and must come out identical (tests/conftest.py).
"""
from __future__ import annotations

from typing import Any

from linebot.v3.messaging import ApiClient, Message
from pydantic.v1 import BaseModel

from handlers.wire import RawMessage, build, message_json, to_wire

__all__ = ["RawMessage", "WireApiClient", "build", "message_json", "to_wire"]


class WireApiClient(ApiClient):
    """The SDK's ApiClient, serialising request bodies with ``to_wire``."""

    verify = False  # the tests turn this on: each body must equal the SDK's own serialisation

    def sanitize_for_serialization(self, obj: Any) -> Any:
        if not isinstance(obj, BaseModel):
            return super().sanitize_for_serialization(obj)
        wire = to_wire(obj)
        if self.verify:
            _check(obj, wire)
        return wire


def _check(obj: BaseModel, wire: Any) -> None:
    """Assert the fast path and the SDK agree. Messages are first re-parsed from our JSON by the
    SDK (``from_dict`` validates every field), so a message built without validation
    (handlers/messages.py ``build``) or sent raw from the outbox must also be one the SDK accepts."""
    messages = getattr(obj, "messages", None)
    if messages:
        obj = obj.copy(update={"messages": [Message.from_dict(to_wire(m)) for m in messages]})
    expected = ApiClient.sanitize_for_serialization(_SDK, obj)
    if expected != wire:
        raise AssertionError(f"to_wire differs from the SDK's to_dict:\n  sdk:  {expected}\n  wire: {wire}")


_SDK = ApiClient.__new__(ApiClient)  # sanitize_for_serialization reads no state
