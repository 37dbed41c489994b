"""我的資料 (a copy of my data) and 刪除會員資料 (leave, and be erased), asked in the chat.

    刪除會員資料 ──► confirm 1 ──(確定刪除, within ERASE_CONFIRM_SECONDS)──► confirm 2
        ──(永久刪除, within ERASE_CONFIRM_SECONDS)──► erased, a goodbye
    保留我的資料 at either step ends it; a button from an earlier or ended request (its nonce no
    longer the conversation's) changes nothing and says so.

The state is a conversation row (flow ``erase``) holding the step and a fresh random nonce that
each button carries, written in the event's transaction: a button tapped twice, or an old one,
matches no current step.
"""
from __future__ import annotations

import secrets

from linebot.v3.messaging import Message

from handlers import Context, Input
from handlers.messages import action_bubble, postback, text, uri
from models.conversation import Conversation, advance, end_conversation, get_conversation, start_conversation
from models.privacy import EXPORT_TTL_SECONDS, erase_member, export_token

FLOW = "erase"
ERASE_CONFIRM_SECONDS = 5 * 60
EXPORT, ERASE, CONFIRM, KEEP = "my_data", "erase", "erase_confirm", "erase_keep"


def export_url(ctx: Context) -> str:
    token = export_token(ctx.settings.secret_key, ctx.member.id, now=ctx.now)
    return f"{ctx.settings.public_base_url}/my-data/{token}"


def show_export(inp: Input, ctx: Context) -> list[Message]:
    t = ctx.texts
    body = t("privacy_export_body", minutes=EXPORT_TTL_SECONDS // 60)
    return [action_bubble(t("privacy_export_title"), body, [uri(t("privacy_export_button"), export_url(ctx))], alt=t("privacy_export_alt"))]


def start_erase(inp: Input, ctx: Context) -> list[Message]:
    t = ctx.texts
    nonce = secrets.token_urlsafe(8)
    convo = start_conversation(ctx.session, ctx.member, flow=FLOW, step="confirm1", now=ctx.now)
    advance(ctx.session, convo, step="confirm1", now=ctx.now, nonce=nonce)
    actions = [postback(t("privacy_erase_confirm"), CONFIRM, step="1", n=nonce), postback(t("privacy_erase_keep"), KEEP, n=nonce)]
    return [action_bubble(t("privacy_erase_title"), t("privacy_erase_body"), actions)]


def _pending(inp: Input, ctx: Context, step: str | None) -> Conversation | None:
    """The erase request this button belongs to, when it is the current one and not stale."""
    convo = get_conversation(ctx.session, ctx.member)
    if convo is None or convo.flow != FLOW or (convo.data or {}).get("nonce") != inp.params.get("n"):
        return None
    if step is not None and convo.step != f"confirm{step}":
        return None
    if (ctx.now - convo.updated_at).total_seconds() > ERASE_CONFIRM_SECONDS:
        end_conversation(ctx.session, convo)
        return None
    return convo


def confirm(inp: Input, ctx: Context) -> list[Message]:
    t = ctx.texts
    step = inp.params.get("step")
    convo = _pending(inp, ctx, step) if step in ("1", "2") else None
    if convo is None:
        return [text(t("privacy_erase_expired"))]
    if step == "1":
        nonce = secrets.token_urlsafe(8)
        advance(ctx.session, convo, step="confirm2", now=ctx.now, nonce=nonce)
        actions = [postback(t("privacy_erase_final_button"), CONFIRM, step="2", n=nonce), postback(t("privacy_erase_keep"), KEEP, n=nonce)]
        return [action_bubble(t("privacy_erase_final_title"), t("privacy_erase_final_body"), actions)]
    end_conversation(ctx.session, convo)
    erase_member(ctx.session, ctx.member.id, actor=f"member:{ctx.member.id}", via="chat", now=ctx.now)
    return [text(t("privacy_erase_done"))]


def keep(inp: Input, ctx: Context) -> list[Message]:
    convo = _pending(inp, ctx, None)
    if convo is None:
        return [text(ctx.texts("privacy_erase_expired"))]
    end_conversation(ctx.session, convo)
    return [text(ctx.texts("privacy_erase_kept"))]
