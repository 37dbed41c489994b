"""Turning line-bot-sdk models into request JSON without pydantic's slow path.

The SDK serialises a request by calling ``to_dict()`` on every model of the tree, which runs
pydantic v1's ``dict()`` and then re-walks the result: about half of the CPU a webhook spent
answering ``會員卡`` went there (bench/webhook.py). ``to_wire`` produces the same JSON by
reading each model's fields directly (alias as key, ``None`` left out, exactly what the
generated ``to_dict`` methods do). ``WireApiClient`` is the SDK's own ``ApiClient`` with only
that step replaced, so every call still goes through ``MessagingApi``: its argument checks,
headers, retry key and errors are the SDK's.

``RawMessage`` carries a message that is already JSON (the outbox stores pushes as JSON) so a
push does not rebuild a model tree only to take it apart again.

The test suite sets ``WireApiClient.verify`` so that every request any test sends is also
serialised by the SDK itself and must come out identical (tests/conftest.py).
"""
from __future__ import annotations

import datetime
import functools
from enum import Enum
from typing import Any, TypeVar

from linebot.v3.messaging import ApiClient, Message
from pydantic.v1 import BaseModel

# Generated models whose to_dict() does more than "fields by alias, None left out": those keep
# the SDK's serialisation (today one: Membership puts an explicit null for member_limit).
_SPECIAL = frozenset({"Membership"})
M = TypeVar("M", bound=BaseModel)


class RawMessage(Message):
    """A message already in its JSON form, sent as is (see ``message_json`` for checking)."""

    wire: dict[str, Any]

    @classmethod
    def of(cls, payload: dict[str, Any]) -> "RawMessage":
        return cls.construct(type=payload["type"], wire=payload)

    def to_dict(self) -> dict[str, Any]:
        return self.wire


def to_wire(obj: Any) -> Any:
    """The JSON value the SDK would send for ``obj`` (a model, list, or plain value)."""
    if isinstance(obj, BaseModel):
        if isinstance(obj, RawMessage):
            return obj.wire
        fields = _aliases(type(obj))
        if fields is None:
            return ApiClient.sanitize_for_serialization(_SDK, obj)
        values = obj.__dict__
        out: dict[str, Any] = {}
        for name, alias in fields:
            value = values.get(name)
            if value is not None:
                out[alias] = value if type(value) is str or type(value) is int else to_wire(value)
        return out
    if isinstance(obj, (list, tuple)):
        return [to_wire(item) for item in obj]
    if isinstance(obj, dict):
        return {key: to_wire(value) for key, value in obj.items()}
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, (datetime.datetime, datetime.date)):
        return obj.isoformat()
    return obj


@functools.cache
def _aliases(cls: type[BaseModel]) -> tuple[tuple[str, str], ...] | None:
    """(field name, JSON key) per field of a model class; None for those in _SPECIAL."""
    if cls.__name__ in _SPECIAL:
        return None
    return tuple((name, field.alias) for name, field in cls.__fields__.items())


def build(model: type[M], **fields: Any) -> M:
    """An SDK model from trusted values, without pydantic's validation or copying.

    What ``Model.construct`` does, minus its per-field alias lookups and default deep-copies
    (every default of a generated model is None or a constant string). Fields are given by
    their Python names; None values are left out, as the SDK leaves them out of the JSON.
    """
    obj = object.__new__(model)
    given = {k: v for k, v in fields.items() if v is not None}
    object.__setattr__(obj, "__dict__", {**_defaults(model), **given})
    object.__setattr__(obj, "__fields_set__", set(given))
    return obj


@functools.cache
def _defaults(cls: type[BaseModel]) -> dict[str, Any]:
    defaults = {name: field.default for name, field in cls.__fields__.items()}
    assert all(v is None or isinstance(v, (str, int, float, bool)) for v in defaults.values()), cls
    return defaults


def message_json(message: Message) -> dict[str, Any]:
    """A message as the JSON LINE receives (what the outbox stores)."""
    return to_wire(message)


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
