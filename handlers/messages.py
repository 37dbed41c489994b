"""Message builders: SDK models (one exception, the member card, says why).

The builders here make their models with ``build`` (bot/line/wire.py), which skips pydantic's
validation at construction: validating a Flex tree re-validates every nested model at each
level, and that was a quarter of the CPU of answering 會員卡. What these builders produce is
still checked: the test suite has the SDK re-parse (with full validation) every message any
test sends and compare (bot/line/wire.py), and the fake LINE server checks it against the spec.
"""
from __future__ import annotations

from datetime import date
from typing import Sequence
from urllib.parse import urlencode

from linebot.v3.messaging import (
    Action,
    DatetimePickerAction,
    FlexBox,
    FlexBubble,
    FlexButton,
    FlexMessage,
    FlexText,
    MessageAction,
    PostbackAction,
    QuickReply,
    QuickReplyItem,
    TextMessage,
    URIAction,
)

from bot.line.wire import RawMessage, build, to_wire

BRAND_COLOR = "#6F4E37"
TEXT_LIMIT = 5000  # LINE refuses a text message longer than this


def line_length(body: str) -> int:
    """Characters as LINE counts them, cautiously: UTF-16 code units (an emoji outside the BMP is two)."""
    return len(body) if body.isascii() else len(body.encode("utf-16-le")) // 2


def fit_text(body: str, limit: int = TEXT_LIMIT) -> str:
    """``body`` cut to what one text message holds, ending in … when it was cut."""
    if len(body) * 2 <= limit or line_length(body) <= limit:
        return body
    kept, used = [], 0
    for ch in body:
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > limit - 1:
            break
        kept.append(ch)
    return "".join(kept) + "…"


def postback_data(action: str, **params: str) -> str:
    return urlencode({"action": action, **params})


def text(body: str, quick: Sequence[Action] = ()) -> TextMessage:
    reply = build(QuickReply, items=[build(QuickReplyItem, action=a) for a in quick]) if quick else None
    return build(TextMessage, text=fit_text(body), quick_reply=reply)


def say(label: str, message: str | None = None) -> MessageAction:
    """A quick-reply or button that sends text as if the member typed it."""
    return build(MessageAction, label=label, text=message or label)


def postback(label: str, action: str, display_text: str | None = None, **params: str) -> PostbackAction:
    return build(PostbackAction, label=label, data=postback_data(action, **params), display_text=display_text or label)


def date_picker(label: str, action: str, *, initial: date, max_: date, min_: date, **params: str) -> DatetimePickerAction:
    return build(DatetimePickerAction,
        label=label,
        data=postback_data(action, **params),
        mode="date",
        initial=initial.isoformat(),
        max=max_.isoformat(),
        min=min_.isoformat(),
    )


def uri(label: str, url: str) -> URIAction:
    return build(URIAction, label=label, uri=url)


def label_value(label: str, value: str) -> FlexBox:
    return build(FlexBox,
        layout="horizontal",
        contents=[
            build(FlexText, text=label, size="sm", color="#8C8C8C", flex=2),
            build(FlexText, text=value, size="sm", color="#333333", flex=4, wrap=True, align="end"),
        ],
    )


def button(action: Action, *, primary: bool = True) -> FlexButton:
    return build(FlexButton,
        action=action,
        style="primary" if primary else "link",
        color=BRAND_COLOR if primary else None,
        height="sm",
    )


def action_bubble(title: str, body: str, actions: Sequence[Action], *, alt: str | None = None) -> FlexMessage:
    """A card with a title, a paragraph and buttons (the first one primary)."""
    bubble = build(FlexBubble,
        body=build(FlexBox,
            layout="vertical",
            spacing="md",
            contents=[
                build(FlexText, text=title, weight="bold", size="lg", wrap=True, color=BRAND_COLOR),
                build(FlexText, text=body, size="sm", wrap=True, color="#555555"),
            ],
        ),
        footer=build(FlexBox,
            layout="vertical",
            spacing="sm",
            contents=[button(a, primary=(i == 0)) for i, a in enumerate(actions)],
        ),
    )
    return build(FlexMessage, alt_text=alt or title, contents=bubble)


def member_card(
    *,
    brand: str,
    title: str,
    alt: str,
    rows: Sequence[tuple[str, str]],
    qr_url: str,
    member_no: str,
    hint: str,
    refresh: Action,
) -> RawMessage:
    """The member card, written as its JSON: 會員卡 is asked for more than anything else, and
    walking a model tree of some forty Flex components to serialise it was the largest single
    cost of answering. The JSON is exactly what the SDK would send for the equivalent models; the
    test suite re-parses it with the SDK (full validation) and the fake LINE checks the spec."""
    body: list[dict] = [
        {"type": "box", "layout": "horizontal", "contents": [
            {"type": "text", "flex": 2, "text": label, "size": "sm", "color": "#8C8C8C"},
            {"type": "text", "flex": 4, "text": value, "size": "sm", "align": "end", "color": "#333333", "wrap": True},
        ]}
        for label, value in rows
    ]
    body += [
        {"type": "separator", "margin": "lg"},
        {"type": "image", "url": qr_url, "margin": "lg", "size": "xl", "aspectRatio": "1:1", "aspectMode": "fit", "animated": False},
        {"type": "text", "text": member_no, "size": "xl", "align": "center", "color": "#333333", "weight": "bold"},
        {"type": "text", "text": hint, "size": "xs", "align": "center", "color": "#8C8C8C", "wrap": True},
    ]
    return RawMessage.of({"type": "flex", "altText": alt, "contents": {
        "type": "bubble",
        "header": {"type": "box", "layout": "vertical", "backgroundColor": BRAND_COLOR, "contents": [
            {"type": "text", "text": title, "size": "lg", "color": "#FFFFFF", "weight": "bold"},
        ]},
        "body": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": body},
        "footer": {"type": "box", "layout": "vertical", "contents": [
            {"type": "button", "style": "link", "height": "sm", "action": to_wire(refresh)},
        ]},
    }})
