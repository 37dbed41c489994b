"""Help: a short reply with quick replies to the main actions."""
from __future__ import annotations

from linebot.v3.messaging import Message

from handlers import Context, Input
from handlers.messages import say, text


def main_actions(ctx: Context) -> list:
    t = ctx.texts
    actions = [say(t("menu_card")), say(t("menu_stamps")), say(t("menu_coupons")), say(t("menu_benefits"))]
    if not ctx.member.is_member:
        actions.append(say(t("menu_join")))
    actions.append(say(t("menu_help")))
    return actions


def show_help(inp: Input, ctx: Context) -> list[Message]:
    key = "help_member" if ctx.member.is_member else "help"
    return [text(ctx.texts(key), quick=main_actions(ctx))]
