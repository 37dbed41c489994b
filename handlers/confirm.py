"""The member's 確認 / 取消 of a spend the counter asked for by a typed member number
(models/confirmation.py holds the rules; this adapts the postbacks and builds the messages)."""
from __future__ import annotations

from typing import Callable

from linebot.v3.messaging import Message

from handlers import Context, Input
from handlers.messages import action_bubble, postback, text
from handlers.texts import Texts
from models.confirmation import Decision, SpendConfirmation, cancel, confirm
from models.errors import DomainError

CONFIRM = "spend_confirm"
CANCEL = "spend_cancel"


def confirmation_request(texts: Texts, row: SpendConfirmation, *, store: str, minutes: int) -> Message:
    """The push: what the store will spend, and the two buttons (the confirmation's id in their data)."""
    if row.kind == "redeem":
        body = texts("spend_ask_points", store=store, what=row.what, points=row.points or 0, minutes=minutes)
    else:
        body = texts("spend_ask_grant", store=store, what=row.what, minutes=minutes)
    yes, no = texts("spend_yes"), texts("spend_no")
    return action_bubble(texts("spend_ask_title"), body, [postback(yes, CONFIRM, display_text=yes, c=str(row.id)),
                                                          postback(no, CANCEL, display_text=no, c=str(row.id))])


def _id(inp: Input) -> int | None:
    raw = inp.params.get("c", "")
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


def on_confirm(inp: Input, ctx: Context) -> list[Message]:
    return _decide(inp, ctx, confirm)


def on_cancel(inp: Input, ctx: Context) -> list[Message]:
    return _decide(inp, ctx, cancel)


def _decide(inp: Input, ctx: Context, decide: Callable[..., Decision]) -> list[Message]:
    t, confirmation_id = ctx.texts, _id(inp)
    if confirmation_id is None:
        return [text(t("spend_unknown"))]
    try:
        decision = decide(ctx.session, confirmation_id=confirmation_id, member_id=ctx.member.id, now=ctx.now)
    except DomainError:
        return [text(t("spend_unknown"))]
    return [text(_outcome(t, decision))]


def _outcome(t: Texts, decision: Decision) -> str:
    row = decision.confirmation
    if not decision.fresh:  # a second tap, a replay, or too late: nothing (more) was spent
        return t({"expired": "spend_expired", "pending": "spend_expired"}.get(row.status, "spend_already"))
    if row.status == "cancelled":
        return t("spend_cancelled")
    if row.status == "failed":
        return t("spend_failed_balance" if row.outcome_code == "insufficient_balance" else "spend_failed")
    if row.kind == "redeem":
        return t("spend_done_points", what=row.what, points=row.points or 0, balance=decision.point_balance or 0)
    return t("spend_done_grant", what=row.what)
