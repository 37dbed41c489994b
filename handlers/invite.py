"""邀請好友 (rich menu): a placeholder until referrals arrive (issue 9)."""
from __future__ import annotations

from linebot.v3.messaging import Message

from handlers import Context, Input
from handlers.messages import text


def show_invite(inp: Input, ctx: Context) -> list[Message]:
    return [text(ctx.texts("invite_soon"))]
