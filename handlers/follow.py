"""Follow, re-follow (unblock) and unfollow."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from linebot.v3.messaging import Message
from linebot.v3.webhooks import FollowEvent
from sqlalchemy.orm import Session

from handlers.settings import HandlerSettings as Settings
from handlers import join
from handlers.messages import postback, text
from handlers.texts import Texts
from models.member import record_follow, record_unfollow
from models.richmenu import link_member_menu

log = logging.getLogger(__name__)


def prepare(event: FollowEvent, line: Any) -> dict[str, Any]:
    """Fetch the profile before the transaction; a profile LINE will not give is no reason to fail."""
    try:
        profile = line.get_profile(event.source.user_id)
    except Exception as exc:  # noqa: BLE001 - a failed profile read must not lose the follow
        log.warning("profile fetch failed for event %s: %s", event.webhook_event_id, type(exc).__name__)
        profile = None
    return {"profile": profile}


def on_follow(
    event: FollowEvent,
    session: Session,
    user_id: str,
    *,
    now: datetime,
    settings: Settings,
    texts: Texts,
    prepared: dict,
) -> list[Message]:
    profile = prepared.get("profile")
    member, kind = record_follow(
        session,
        user_id,
        now=now,
        display_name=profile.display_name if profile else None,
        picture_url=profile.picture_url if profile else None,
        language=profile.language if profile else None,
    )
    name = member.display_name or texts("name_fallback")
    unblocked = bool(getattr(event.follow, "is_unblocked", False)) or kind == "refollow"
    if unblocked and member.is_member:
        # a deploy or a tier change while the account was blocked did not reach them: link their menu again
        link_member_menu(session, member, now=now)
        card = postback(texts("menu_card"), "card")
        return [text(texts("welcome_back", name=name), quick=[card])]
    greeting = texts("welcome_back_guest" if unblocked else "welcome", name=name)
    return [text(greeting), join.join_invitation(texts)]


def on_unfollow(session: Session, user_id: str, *, now: datetime) -> None:
    record_unfollow(session, user_id, now=now)
