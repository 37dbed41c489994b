"""品牌故事 and 門市據點 (the guest menu's actions, also on the member menu)."""
from __future__ import annotations

from linebot.v3.messaging import Message

from handlers import Context, Input
from handlers.messages import say, text
from models.store import list_stores

MAX_STORES = 40  # a text message holds 5,000 characters


def show_about(inp: Input, ctx: Context) -> list[Message]:
    t = ctx.texts
    quick = [say(t("menu_stores"))] + ([] if ctx.member.is_member else [say(t("menu_join"))])
    return [text(t("about"), quick=quick)]


def show_stores(inp: Input, ctx: Context) -> list[Message]:
    t = ctx.texts
    stores = list_stores(ctx.session)
    if not stores:
        return [text(t("stores_none"))]
    lines = [t("stores_title"), *(f"・{s.name}" for s in stores[:MAX_STORES])]
    if len(stores) > MAX_STORES:
        lines.append("…")
    return [text("\n".join(lines))]
