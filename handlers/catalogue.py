"""兌換目錄: what the member's points buy, within reach first (from 集點卡's button, or typed).

Redemption itself happens at the counter (the member shows the card; a typed number asks the
member to confirm in LINE): this only shows what there is and how far each reward is."""
from __future__ import annotations

from linebot.v3.messaging import FlexBox, FlexBubble, FlexCarousel, FlexMessage, FlexText, Message

from handlers import Context, Input, join
from handlers.messages import BRAND_COLOR, build, button, postback, text
from handlers.texts import Texts
from models.ledger import balance
from models.reward import CatalogueEntry, catalogue_for, list_items

ACTION = "catalogue"  # postback action=catalogue (the 集點卡 button)
MAX_BUBBLES = 12  # LINE's limit of bubbles in a carousel


def _bar(entry: CatalogueEntry) -> FlexBox:
    """How far the member is, as a bar (full when within reach)."""
    share = 100 if entry.reachable else max(0, min(99, (entry.points_cost - entry.short) * 100 // entry.points_cost))
    fill = build(FlexBox, layout="vertical", contents=[], width=f"{share}%", height="6px",
                 background_color="#2E7D32" if entry.reachable else BRAND_COLOR)
    return build(FlexBox, layout="vertical", contents=[fill] if share else [build(FlexBox, layout="vertical", contents=[], height="6px")],
                 height="6px", background_color="#EEEEEE", corner_radius="3px", margin="md")


def entry_bubble(entry: CatalogueEntry, t: Texts) -> FlexBubble:
    status = t("catalogue_reachable") if entry.reachable else t("catalogue_short", n=entry.short)
    return build(FlexBubble,
        size="kilo",
        body=build(FlexBox, layout="vertical", spacing="sm", contents=[
            build(FlexText, text=entry.name, weight="bold", size="md", wrap=True, color="#333333"),
            build(FlexText, text=t("catalogue_cost", n=entry.points_cost), size="sm", color=BRAND_COLOR),
            _bar(entry),
            build(FlexText, text=status, size="sm", wrap=True, **({"weight": "bold", "color": "#2E7D32"} if entry.reachable else {"color": "#8C8C8C"})),
        ]),
        footer=build(FlexBox, layout="vertical", contents=[button(postback(t("catalogue_show_card"), "card"), primary=entry.reachable)]),
    )


def show_catalogue(inp: Input, ctx: Context) -> list[Message]:
    t = ctx.texts
    if not ctx.member.is_member:
        return [text(t("card_not_member")), join.join_invitation(t)]
    items = list_items(ctx.session)
    if not items:
        return [text(t("catalogue_none"))]
    points = balance(ctx.session, ctx.member.id, "point")
    entries = catalogue_for(items, points, limit=MAX_BUBBLES)
    reachable = sum(e.reachable for e in entries)
    intro = t("catalogue_intro", points=points, count=reachable) if reachable else t("catalogue_intro_none", points=points)
    carousel = build(FlexCarousel, contents=[entry_bubble(e, t) for e in entries])
    return [text(intro), build(FlexMessage, alt_text=t("catalogue_alt", count=len(entries)), contents=carousel)]
