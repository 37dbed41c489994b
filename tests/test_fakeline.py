"""The fake LINE server: real line-bot-sdk clients and raw HTTP against it."""
from __future__ import annotations

import json
import struct
import urllib.error
import urllib.request
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator

import pytest
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    BroadcastRequest,
    Configuration,
    CreateRichMenuAliasRequest,
    FlexContainer,
    FlexMessage,
    MessageAction,
    MessagingApi,
    MessagingApiBlob,
    MulticastRequest,
    PostbackAction,
    PushMessageRequest,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    RichMenuArea,
    RichMenuBounds,
    RichMenuRequest,
    RichMenuSize,
    TextMessage,
    UpdateRichMenuAliasRequest,
)

from bot.dev.fakeline import FakeLine, SpecMissingError

TOKEN = "test-token"
USER = "U" + "1" * 32
OTHER = "U" + "2" * 32


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLine]:
    with FakeLine(mode="spec") as fake:
        yield fake


@pytest.fixture
def fake(server: FakeLine) -> Iterator[FakeLine]:
    server.clear()
    server.register_profile(USER, "小明")
    yield server
    leftover = list(server.violations)
    server.clear()
    assert not leftover, "unexpected LINE API violations:\n" + "\n".join(leftover)


@pytest.fixture
def api(fake: FakeLine) -> Iterator[MessagingApi]:
    with ApiClient(Configuration(host=fake.url, access_token=TOKEN)) as client:
        yield MessagingApi(client)


def expect_violation(fake: FakeLine, *fragments: str) -> None:
    """Assert a violation mentioning every fragment was recorded, then forget violations."""
    assert any(all(f in v for f in fragments) for v in fake.violations), fake.violations
    fake.violations.clear()


def raw(fake: FakeLine, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
        auth: bool = True) -> tuple[int, Any, dict[str, str]]:
    data = json.dumps(body).encode() if body is not None else None
    hdrs = {"Content-Type": "application/json"} if data is not None else {}
    if auth:
        hdrs["Authorization"] = f"Bearer {TOKEN}"
    hdrs.update(headers or {})
    req = urllib.request.Request(fake.url + path, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, json.loads(resp.read() or b"null"), dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null"), dict(err.headers)


def text(t: str = "hi") -> dict[str, Any]:
    return {"type": "text", "text": t}


def bubble(**parts: Any) -> dict[str, Any]:
    return {"type": "flex", "altText": "card", "contents": {"type": "bubble", **parts}}


def png(width: int = 2500, height: int = 843) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw_rows = b"".join(b"\x00" + b"\x00" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw_rows)) + chunk(b"IEND", b"")


# -- accepted requests ----------------------------------------------------------------
def test_push_reply_multicast_text_and_quick_reply(fake: FakeLine, api: MessagingApi) -> None:
    fake.register_profile(OTHER, "小華")
    pushed = api.push_message(PushMessageRequest(to=USER, messages=[TextMessage(text="push")]))
    assert pushed.sent_messages[0].id and pushed.sent_messages[0].quote_token
    fake.register_reply_token("rt-1", USER)
    quick = QuickReply(items=[QuickReplyItem(action=MessageAction(label="是", text="yes")),
                              QuickReplyItem(action=PostbackAction(label="否", data="v=no"))])
    api.reply_message(ReplyMessageRequest(reply_token="rt-1", messages=[TextMessage(text="q?", quick_reply=quick)]))
    api.multicast(MulticastRequest(to=[USER, OTHER, USER], messages=[TextMessage(text="all")]))
    kinds = [(d["kind"], d["messages"][0]["text"]) for d in fake.messages_to(USER)]
    assert kinds == [("push", "push"), ("reply", "q?"), ("multicast", "all")]
    assert fake.messages_to(USER)[1]["messages"][0]["quickReply"]["items"][1]["action"]["type"] == "postback"
    assert [d["kind"] for d in fake.messages_to(OTHER)] == ["multicast"]
    assert api.get_message_quota_consumption().total_usage == 1 + 2  # push 1, multicast 2 distinct users
    rec = fake.requests("/v2/bot/message/push")[0]
    assert rec.method == "POST" and rec.json["to"] == USER and rec.host == "api" and rec.status == 200
    assert rec.headers["authorization"] == f"Bearer {TOKEN}"


def test_flex_bubble_with_components_and_actions_is_accepted(fake: FakeLine, api: MessagingApi) -> None:
    card = {
        "type": "bubble",
        "hero": {"type": "image", "url": "https://example.com/a.png", "size": "full", "aspectMode": "cover"},
        "body": {"type": "box", "layout": "vertical", "contents": [
            {"type": "text", "text": "集點卡", "weight": "bold", "size": "xl"},
            {"type": "box", "layout": "horizontal", "spacing": "sm", "contents": [
                {"type": "image", "url": "https://example.com/stamp.png", "size": "xs"},
                {"type": "text", "text": "3 / 10", "flex": 0}]}]},
        "footer": {"type": "box", "layout": "vertical", "contents": [
            {"type": "button", "style": "primary", "action": {"type": "postback", "label": "集點", "data": "a=1"}},
            {"type": "button", "action": {"type": "uri", "label": "官網", "uri": "https://example.com"}},
            {"type": "button", "action": {"type": "datetimepicker", "label": "生日", "data": "a=bd",
                                          "mode": "date", "initial": "1990-01-01"}}]},
    }
    message = FlexMessage(alt_text="集點卡", contents=FlexContainer.from_dict(card))
    api.push_message(PushMessageRequest(to=USER, messages=[message]))
    assert fake.messages_to(USER)[0]["messages"][0]["contents"]["footer"]["contents"][2]["action"]["mode"] == "date"


# -- rejected bodies ------------------------------------------------------------------
@pytest.mark.parametrize(("message", "pointer"), [
    ({"type": "txt", "text": "hi"}, "/messages/0/type"),
    (bubble(body={"type": "box", "layout": "vertical", "contents": [text(), {"type": "bogus"}]}),
     "/messages/0/contents/body/contents/1/type"),
    (bubble(footer={"type": "box", "layout": "vertical", "contents": [
        {"type": "button", "action": {"type": "teleport", "label": "x"}}]}),
     "/messages/0/contents/footer/contents/0/action/type"),
    (bubble(body={"type": "box", "contents": [text()]}), "/messages/0/contents/body"),
    (bubble(header={"type": "bogus", "layout": "vertical", "contents": []}), "/messages/0/contents/header/type"),
    ({"type": "text"}, "/messages/0"),
])
def test_invalid_messages_are_rejected(fake: FakeLine, message: dict[str, Any], pointer: str) -> None:
    status, body, _ = raw(fake, "POST", "/v2/bot/message/push", {"to": USER, "messages": [message]})
    assert status == 400 and body["message"] == "The request body has 1 error(s)"
    assert body["details"][0]["property"].startswith("messages[0]")
    expect_violation(fake, "pushMessage", pointer)
    assert fake.messages_to(USER) == []


def test_limits_six_messages_and_501_recipients(fake: FakeLine) -> None:
    status, _, _ = raw(fake, "POST", "/v2/bot/message/push", {"to": USER, "messages": [text()] * 6})
    assert status == 400
    expect_violation(fake, "/messages", "maxItems is 5")
    to = [f"U{i:032x}" for i in range(501)]
    status, _, _ = raw(fake, "POST", "/v2/bot/message/multicast", {"to": to, "messages": [text()]})
    assert status == 400
    expect_violation(fake, "multicast", "/to", "maxItems is 500")
    assert raw(fake, "POST", "/v2/bot/message/multicast", {"to": to[:500], "messages": [text()]})[0] == 200


def test_missing_authorization_and_unknown_endpoint(fake: FakeLine) -> None:
    status, body, _ = raw(fake, "POST", "/v2/bot/message/push", {"to": USER, "messages": [text()]}, auth=False)
    assert status == 401 and body["message"].startswith("Authentication failed")
    expect_violation(fake, "Authorization")
    assert raw(fake, "GET", "/v2/bot/nonsense")[0] == 404
    expect_violation(fake, "unknown endpoint")
    assert fake.messages_to(USER) == []


def test_bad_retry_key_is_rejected(fake: FakeLine, api: MessagingApi) -> None:
    with pytest.raises(ApiException) as err:
        api.push_message(PushMessageRequest(to=USER, messages=[TextMessage(text="x")]), x_line_retry_key="abc")
    assert err.value.status == 400
    expect_violation(fake, "X-Line-Retry-Key", "uuid")


def test_duplicate_retry_key_gets_409_and_is_not_delivered_twice(fake: FakeLine, api: MessagingApi) -> None:
    key = str(uuid.uuid4())
    request = PushMessageRequest(to=USER, messages=[TextMessage(text="once")])
    first = api.push_message_with_http_info(request, x_line_retry_key=key)
    with pytest.raises(ApiException) as err:
        api.push_message(request, x_line_retry_key=key)
    assert err.value.status == 409
    assert err.value.headers["x-line-accepted-request-id"] == first.headers["x-line-request-id"]
    assert json.loads(err.value.body)["sentMessages"][0]["id"]
    assert [d["retry_key"] for d in fake.messages_to(USER)] == [key]


def test_concurrent_duplicates_deliver_once(fake: FakeLine) -> None:
    key = str(uuid.uuid4())
    body = {"to": USER, "messages": [text("race")]}
    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(lambda _: raw(fake, "POST", "/v2/bot/message/push", body,
                                                 {"X-Line-Retry-Key": key})[0], range(8)))
    assert statuses == [200] + [409] * 7
    assert len(fake.messages_to(USER)) == 1
    seqs = [r.seq for r in fake.requests()]
    assert sorted(seqs) == list(range(seqs[0], seqs[0] + 8))


def test_reply_token_is_single_use(fake: FakeLine, api: MessagingApi) -> None:
    fake.register_reply_token("rt-once", USER)
    api.reply_message(ReplyMessageRequest(reply_token="rt-once", messages=[TextMessage(text="1")]))
    for token in ("rt-once", "rt-unknown"):
        with pytest.raises(ApiException) as err:
            api.reply_message(ReplyMessageRequest(reply_token=token, messages=[TextMessage(text="2")]))
        assert err.value.status == 400 and json.loads(err.value.body) == {"message": "Invalid reply token"}
    assert len(fake.messages_to(USER)) == 1


def test_profiles_bot_info_and_quota(fake: FakeLine, api: MessagingApi) -> None:
    fake.register_profile(OTHER, "小華", picture_url="https://example.com/p.png", status_message="hi")
    profile = api.get_profile(OTHER)
    assert (profile.display_name, profile.language, profile.picture_url) == ("小華", "zh-TW", "https://example.com/p.png")
    with pytest.raises(ApiException) as err:
        api.get_profile("U" + "9" * 32)
    assert err.value.status == 404 and json.loads(err.value.body) == {"message": "Not found"}
    info = api.get_bot_info()
    assert (info.basic_id, info.chat_mode, info.mark_as_read_mode) == ("@fakebot", "bot", "auto")
    fake.quota_value = 200
    assert api.get_message_quota().value == 200
    api.broadcast(BroadcastRequest(messages=[TextMessage(text="sale")]))
    assert api.get_message_quota_consumption().total_usage == 2  # USER and OTHER
    assert [d["kind"] for d in fake.messages_to(OTHER)] == ["broadcast"]


def test_injected_429_then_success(fake: FakeLine, api: MessagingApi) -> None:
    fake.inject("/v2/bot/message/push", 429, retry_after=3)
    request = PushMessageRequest(to=USER, messages=[TextMessage(text="retry me")])
    with pytest.raises(ApiException) as err:
        api.push_message(request)
    assert err.value.status == 429 and err.value.headers["Retry-After"] == "3"
    api.push_message(request)
    records = fake.requests("/v2/bot/message/push")
    assert [r.injected for r in records] == [True, False] and records[0].seq < records[1].seq
    assert len(fake.messages_to(USER)) == 1


def test_rate_limit(fake: FakeLine) -> None:
    fake.rate_limits["/v2/bot/message/push"] = 1
    statuses = [raw(fake, "POST", "/v2/bot/message/push", {"to": USER, "messages": [text()]})[0] for _ in range(3)]
    assert statuses[0] == 200 and 429 in statuses


class FrozenClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def multicast_status(fake: FakeLine, retry_key: str | None = None) -> int:
    headers = {"X-Line-Retry-Key": retry_key or str(uuid.uuid4())}
    return raw(fake, "POST", "/v2/bot/message/multicast", {"to": [USER], "messages": [text()]}, headers)[0]


def test_lines_rate_limits_are_enforced_by_default(fake: FakeLine) -> None:
    assert fake.rate_limits == {"/v2/bot/message/multicast": 200.0, "/": 2000.0}
    clock = fake._clock = FrozenClock()
    assert all(fake._take_token("/v2/bot/message/multicast", "multicast") for _ in range(200))
    assert not fake._take_token("/v2/bot/message/multicast", "multicast")  # the 201st within one second
    assert fake._take_token("/v2/bot/message/push", "pushMessage")  # each endpoint has its own limit
    clock.now += 1.0
    assert fake._take_token("/v2/bot/message/multicast", "multicast")


def test_rate_limit_is_a_sliding_window_with_no_extra_burst(fake: FakeLine) -> None:
    """'3 per second' admits no second with more than 3 requests (a token bucket holding 3 would
    admit 3 at once and then 3 more per second, up to 6 within the first second)."""
    fake.rate_limits["/v2/bot/message/multicast"] = 3
    clock = fake._clock = FrozenClock()
    assert [multicast_status(fake) for _ in range(4)] == [200, 200, 200, 429]
    clock.now += 0.6
    assert multicast_status(fake) == 429  # still 3 within the last second
    clock.now += 0.5
    assert [multicast_status(fake) for _ in range(4)] == [200, 200, 200, 429]
    throttled = [r for r in fake.requests("/v2/bot/message/multicast") if r.status == 429]
    assert len(throttled) == 3 and all(r.throttled and not r.injected for r in throttled)
    assert "Retry-After" not in raw(fake, "POST", "/v2/bot/message/multicast", {"to": [USER], "messages": [text()]},
                                    {"X-Line-Retry-Key": str(uuid.uuid4())})[2]  # LINE sends none either
    assert len([d for d in fake.messages_to(USER) if d["kind"] == "multicast"]) == 6  # a 429 delivers nothing


def test_a_throttled_retry_key_can_be_used_again(fake: FakeLine) -> None:
    fake.rate_limits["/v2/bot/message/multicast"] = 1
    clock = fake._clock = FrozenClock()
    assert multicast_status(fake) == 200
    key = str(uuid.uuid4())
    assert multicast_status(fake, key) == 429
    clock.now += 1.0
    assert multicast_status(fake, key) == 200
    clock.now += 1.0
    assert multicast_status(fake, key) == 409  # accepted once: a replay is refused, and delivers nothing
    assert len([d for d in fake.messages_to(USER) if d["kind"] == "multicast"]) == 2


def test_rate_limits_can_be_switched_off() -> None:
    with FakeLine(mode="sdk", rate_limits={}) as fake:
        fake.clear()
        assert fake.rate_limits == {}
        fake._clock = FrozenClock()
        assert all(fake._take_token("/v2/bot/message/multicast", "multicast") for _ in range(1000))


def test_rich_menu_lifecycle(fake: FakeLine, api: MessagingApi) -> None:
    menu = RichMenuRequest(size=RichMenuSize(width=2500, height=843), selected=True, name="main",
                           chat_bar_text="選單", areas=[RichMenuArea(
                               bounds=RichMenuBounds(x=0, y=0, width=2500, height=843),
                               action=PostbackAction(label="卡", data="action=card"))])
    api.validate_rich_menu_object(menu)
    menu_id = api.create_rich_menu(menu).rich_menu_id
    assert menu_id.startswith("richmenu-")
    with pytest.raises(ApiException) as err:
        api.set_default_rich_menu(menu_id)  # no image yet
    assert err.value.status == 400
    with ApiClient(Configuration(host=fake.url, access_token=TOKEN)) as client:
        MessagingApiBlob(client).set_rich_menu_image(menu_id, body=png(), _headers={"Content-Type": "image/png"})
    assert fake.requests(f"/v2/bot/richmenu/{menu_id}/content")[0].host == "api-data"
    assert [m.rich_menu_id for m in api.get_rich_menu_list().richmenus] == [menu_id]
    api.set_default_rich_menu(menu_id)
    assert api.get_default_rich_menu_id().rich_menu_id == menu_id
    api.link_rich_menu_id_to_user(USER, menu_id)
    assert api.get_rich_menu_id_of_user(USER).rich_menu_id == menu_id
    api.create_rich_menu_alias(CreateRichMenuAliasRequest(rich_menu_alias_id="main", rich_menu_id=menu_id))
    api.update_rich_menu_alias("main", UpdateRichMenuAliasRequest(rich_menu_id=menu_id))
    assert api.get_rich_menu_alias("main").rich_menu_id == menu_id
    assert [a.rich_menu_alias_id for a in api.get_rich_menu_alias_list().aliases] == ["main"]
    api.delete_rich_menu_alias("main")
    api.delete_rich_menu(menu_id)
    assert api.get_rich_menu_list().richmenus == []
    with pytest.raises(ApiException):
        api.get_default_rich_menu_id()


def test_rich_menu_image_needs_image_content_type(fake: FakeLine, api: MessagingApi) -> None:
    menu_id = fake.richmenus.setdefault("richmenu-x", {"richMenuId": "richmenu-x"})["richMenuId"]
    status, _, _ = raw(fake, "POST", f"/v2/bot/richmenu/{menu_id}/content", {"not": "an image"})
    assert status == 400
    expect_violation(fake, "setRichMenuImage", "image/png")


def test_fake_helper_endpoints(fake: FakeLine, api: MessagingApi) -> None:
    raw(fake, "POST", "/__fake__/profiles", {"userId": OTHER, "displayName": "網頁"}, auth=False)
    raw(fake, "POST", "/__fake__/reply-tokens", {"replyToken": "rt-web", "userId": OTHER}, auth=False)
    api.reply_message(ReplyMessageRequest(reply_token="rt-web", messages=[TextMessage(text="hello")]))
    status, body, headers = raw(fake, "GET", f"/__fake__/messages?userId={OTHER}&after=0", auth=False)
    assert status == 200 and body["messages"][0]["messages"] == [{"type": "text", "text": "hello"}]
    seq = body["messages"][0]["seq"]
    assert raw(fake, "GET", f"/__fake__/messages?userId={OTHER}&after={seq}")[1] == {"messages": []}
    assert api.get_profile(OTHER).display_name == "網頁"
    assert all(not r.path.startswith("/__fake__") for r in fake.requests())


# -- modes ----------------------------------------------------------------------------
def test_spec_mode_without_documents_fails_loudly(tmp_path: Any) -> None:
    with pytest.raises(SpecMissingError):
        FakeLine(mode="spec", spec_dir=str(tmp_path))


def test_sdk_mode_rejects_unknown_message_type() -> None:
    with FakeLine(mode="sdk") as fake:
        ok = raw(fake, "POST", "/v2/bot/message/push", {"to": USER, "messages": [text()]})
        assert ok[0] == 200 and fake.violations == []
        status, body, _ = raw(fake, "POST", "/v2/bot/message/push", {"to": USER, "messages": [{"type": "txt"}]})
        assert status == 400 and body["details"]
        assert any("txt" in v for v in fake.violations)
        bad = bubble(body={"type": "box", "layout": "vertical", "contents": [{"type": "bogus"}]})
        assert raw(fake, "POST", "/v2/bot/message/push", {"to": USER, "messages": [bad]})[0] == 400
        assert raw(fake, "POST", "/v2/bot/message/push", {"to": USER, "messages": [text()] * 6})[0] == 400
