"""Rich menu tab switches. LINE switches the menu itself and then sends the ``richmenuswitch``
postback with ``params.newRichMenuAliasId`` and ``params.status``; a switch that worked needs
no reply, one that failed gets a short apology and the main actions as quick replies."""
from __future__ import annotations

from linebot.v3.messaging import Message

from handlers import Context, Input
from handlers.help import main_actions
from handlers.messages import text

TAB = "tab"


def switch_tab(inp: Input, ctx: Context) -> list[Message]:
    if inp.params.get("status", "SUCCESS") == "SUCCESS":
        return []
    return [text(ctx.texts("menu_switch_failed"), quick=main_actions(ctx))]
