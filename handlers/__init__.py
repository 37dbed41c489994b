"""LINE event handlers: thin adapters from events to domain calls.

A handler takes an ``Input`` and a ``Context`` and returns the messages to send;
it never sends them (the webhook replies after the event's transaction commits).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable
from urllib.parse import parse_qsl

from linebot.v3.messaging import Message
from linebot.v3.webhooks import (
    Event,
    FollowEvent,
    MessageEvent,
    PostbackEvent,
    TextMessageContent,
    UnfollowEvent,
)
from sqlalchemy.orm import Session

from handlers.settings import HandlerSettings as Settings
from handlers.texts import Texts
from models.member import Member, ensure_member

log = logging.getLogger(__name__)


@dataclass
class Context:
    session: Session
    now: datetime
    settings: Settings
    texts: Texts
    member: Member
    prepared: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Input:
    """What the member said: typed text, or a postback's action and parameters."""

    text: str | None = None
    action: str | None = None
    params: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, event: Event) -> Input | None:
        if isinstance(event, MessageEvent) and isinstance(event.message, TextMessageContent):
            return cls(text=event.message.text.strip())
        if isinstance(event, PostbackEvent):
            params = dict(parse_qsl(event.postback.data or "", keep_blank_values=True))
            extra = event.postback.params or {}
            params.update({k: v for k, v in extra.items() if isinstance(v, str)})
            return cls(action=params.pop("action", None), params=params)
        return None


Handler = Callable[[Input, Context], list[Message]]


def user_id_of(event: Event) -> str | None:
    source = getattr(event, "source", None)
    return getattr(source, "user_id", None) if source is not None else None


def member_sender(event: Event) -> str | None:
    """The LINE user whose member row ``handle`` locks for this event (messages and postbacks in a
    one-to-one chat), so the webhook can load it with the event's claim; None for other events."""
    if isinstance(event, (MessageEvent, PostbackEvent)) and getattr(event.source, "type", None) == "user":
        return user_id_of(event)
    return None


def wants_card(event: Event) -> bool:
    """Whether the event asks for the member card (the webhook then reads its figures with the claim)."""
    from handlers import router

    inp = Input.of(event)
    return inp is not None and router.shows_card(inp)


def handle(event: Event, session: Session, *, now: datetime, settings: Settings, texts: Texts, prepared: dict,
           member: Member | None = None) -> list[Message]:
    """Route one event to its handler; unknown events and group chats get nothing.

    ``member``: the sender's row, already locked by the webhook (``member_sender``), if it exists."""
    from handlers import follow, router

    user_id = user_id_of(event)
    if user_id is None or getattr(event.source, "type", "user") != "user":
        return []
    if isinstance(event, UnfollowEvent):
        follow.on_unfollow(session, user_id, now=now)
        return []
    if isinstance(event, FollowEvent):
        return follow.on_follow(event, session, user_id, now=now, settings=settings, texts=texts, prepared=prepared)
    inp = Input.of(event)
    if inp is None:  # stickers, images, beacons...: a short help keeps the member oriented
        if not isinstance(event, MessageEvent):
            return []
        inp = Input(text="")
    member = member if member is not None else ensure_member(session, user_id, now=now)
    ctx = Context(session=session, now=now, settings=settings, texts=texts, member=member, prepared=prepared)
    return router.route(inp, ctx)


def needs_prepare(event: Event) -> bool:
    if isinstance(event, FollowEvent):
        return True
    from handlers import router

    inp = Input.of(event)
    return inp is not None and router.needs_basic_id(inp)


def prepare(event: Event, line: Any) -> dict[str, Any]:
    """LINE reads an event needs, done before its transaction opens (never call LINE inside one)."""
    if isinstance(event, FollowEvent):
        from handlers import follow

        return follow.prepare(event, line)
    return {"basic_id": line.basic_id()} if needs_prepare(event) else {}
