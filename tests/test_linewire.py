"""The fast request serialisation (bot/line/wire.py) against the SDK's own, and its check."""
from __future__ import annotations

import pytest
from linebot.v3.messaging import (
    FlexBox, FlexBubble, FlexButton, FlexImage, FlexMessage, FlexText, Membership, Message,
    PostbackAction, PushMessageRequest, QuickReply, QuickReplyItem, TextMessage, URIAction,
)

from bot.line.wire import RawMessage, WireApiClient, message_json, to_wire
from handlers.messages import member_card, postback

SDK = WireApiClient.__mro__[1].sanitize_for_serialization


def sdk_json(model):  # type: ignore[no-untyped-def]
    return SDK(WireApiClient.__new__(WireApiClient), model)


def a_card() -> Message:
    return member_card(brand="Café", title="會員卡", alt="會員卡", rows=[("會員", "小明"), ("點數", "1,200")],
                       qr_url="https://example.com/qr/x.png", member_no="00000042", hint="5 分鐘內有效",
                       refresh=postback("更新", "card"))


MESSAGES = [
    a_card(),
    TextMessage(text="嗨", quick_reply=QuickReply(items=[QuickReplyItem(action=PostbackAction(label="卡", data="action=card"))])),
    FlexMessage(alt_text="x", contents=FlexBubble(
        hero=FlexImage(url="https://example.com/a.png", size="full", aspect_ratio="20:13"),
        body=FlexBox(layout="vertical", contents=[FlexText(text="a", wrap=True, max_lines=2)]),
        footer=FlexBox(layout="vertical", contents=[FlexButton(action=URIAction(label="go", uri="https://example.com"))]))),
]


@pytest.mark.parametrize("message", MESSAGES, ids=["member-card", "text-quick-reply", "flex-bubble"])
def test_to_wire_matches_the_sdk(message):  # type: ignore[no-untyped-def]
    request = PushMessageRequest(to="U" + "0" * 32, messages=[message])
    assert to_wire(request) == sdk_json(request)
    assert message_json(message) == message.to_dict()


def test_raw_message_is_sent_as_is_and_checked_by_the_sdk_parse() -> None:
    payload = message_json(a_card())
    request = PushMessageRequest(to="U" + "0" * 32, messages=[RawMessage.of(payload)])
    client = WireApiClient.__new__(WireApiClient)
    WireApiClient.verify = True
    assert client.sanitize_for_serialization(request)["messages"] == [payload]
    broken = {**payload, "contents": {**payload["contents"], "unknownField": 1}}
    with pytest.raises(AssertionError, match="differs"):
        client.sanitize_for_serialization(PushMessageRequest(to="U" + "0" * 32, messages=[RawMessage.of(broken)]))


def test_models_with_special_to_dict_keep_the_sdk_path() -> None:
    membership = Membership(membership_id=1, title="t", description="d", benefits=["b"], price=1.0, currency="JPY",
                            member_count=1, member_limit=None, is_in_app_purchase=False, is_published=True)
    assert to_wire(membership) == membership.to_dict()
    assert to_wire(membership)["memberLimit"] is None


def test_the_check_catches_a_message_built_without_validation_that_the_sdk_rejects() -> None:
    from handlers.messages import build

    bad = build(FlexMessage, alt_text="x", contents=build(FlexBubble, body=build(
        FlexBox, layout="vertical", contents=[build(FlexText, text="a", align="middle")])))
    client = WireApiClient.__new__(WireApiClient)
    with pytest.raises(ValueError, match="align"):
        client.sanitize_for_serialization(PushMessageRequest(to="U" + "0" * 32, messages=[bad]))
