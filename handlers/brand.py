"""品牌故事 and 門市據點 (the guest menu's actions, also on the member menu).

門市據點 is a carousel of stores: address, opening hours, phone (a 撥打電話 button: tel:), and where
it is: 傳送位置 (a postback answered with a LINE location message) when the store has coordinates,
開啟地圖 (its own map link, or a Google Maps search) when it has coordinates or an address."""
from __future__ import annotations

from linebot.v3.messaging import FlexBox, FlexBubble, FlexCarousel, FlexComponent, FlexMessage, FlexText, LocationMessage, Message

from handlers import Context, Input
from handlers.messages import BRAND_COLOR, build, button, label_value, postback, say, text, uri
from handlers.texts import Texts
from models.errors import NotFound
from models.store import Store, get_store, list_stores

LOCATION = "store_location"  # postback: action=store_location&code=<store code>
PER_CAROUSEL = 12  # LINE's limit of bubbles in a carousel
MAX_CAROUSELS = 4  # a reply holds 5 messages: the fifth names the stores left over
LOCATION_TEXT = 100  # a location message's title and address hold 100 characters each


def show_about(inp: Input, ctx: Context) -> list[Message]:
    t = ctx.texts
    quick = [say(t("menu_stores"))] + ([] if ctx.member.is_member else [say(t("menu_join"))])
    return [text(t("about"), quick=quick)]


def store_bubble(store: Store, t: Texts) -> FlexBubble:
    rows: list[FlexComponent] = []
    for label, value in (("store_address", store.address), ("store_hours", store.hours), ("store_phone", store.phone)):
        if value:
            rows.append(label_value(t(label), value))
    if not rows:
        rows.append(build(FlexText, text=t("store_no_details"), size="sm", color="#8C8C8C", wrap=True))
    actions = []
    if store.phone:
        actions.append(uri(t("store_call"), store.tel_uri() or ""))
    if store.has_location:
        actions.append(postback(t("store_location"), LOCATION, code=store.code))
    link = store.map_link()
    if link:
        actions.append(uri(t("store_map"), link))
    footer = build(FlexBox, layout="vertical", spacing="sm",
                   contents=[button(a, primary=(i == 0)) for i, a in enumerate(actions)]) if actions else None
    return build(FlexBubble,
        header=build(FlexBox, layout="vertical", background_color=BRAND_COLOR,
                     contents=[build(FlexText, text=store.name, color="#FFFFFF", weight="bold", size="lg", wrap=True)]),
        body=build(FlexBox, layout="vertical", spacing="sm", contents=rows),
        footer=footer,
    )


def show_stores(inp: Input, ctx: Context) -> list[Message]:
    t = ctx.texts
    stores = list_stores(ctx.session)
    if not stores:
        return [text(t("stores_none"))]
    shown = stores[: PER_CAROUSEL * MAX_CAROUSELS]
    out: list[Message] = [
        build(FlexMessage, alt_text=t("stores_alt"), contents=build(FlexCarousel, contents=[store_bubble(s, t) for s in shown[i:i + PER_CAROUSEL]]))
        for i in range(0, len(shown), PER_CAROUSEL)
    ]
    rest = stores[len(shown):]
    if rest:
        out.append(text(t("stores_more", names="、".join(s.name for s in rest))))
    return out


def send_location(inp: Input, ctx: Context) -> list[Message]:
    """傳送位置: the store as a LINE location message (the member's LINE opens it in a map)."""
    try:
        store: Store | None = get_store(ctx.session, inp.params.get("code", ""))
    except NotFound:
        store = None
    if store is None or not store.has_location:
        return [text(ctx.texts("store_location_unknown")), *show_stores(inp, ctx)]
    return [build(LocationMessage,
        title=store.name[:LOCATION_TEXT],
        address=(store.address or store.name)[:LOCATION_TEXT],
        latitude=float(store.latitude),  # type: ignore[arg-type]
        longitude=float(store.longitude),  # type: ignore[arg-type]
    )]
