"""What points buy (兌換目錄), editing 會員資料 in chat, and stores with address, hours, phone and a
location (門市據點): signed webhooks through the fake LINE server, which checks every message
against LINE's spec, and the admin API that fills the stores in."""
from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import parse_qsl

import pytest
from sqlalchemy import select

from bot.dev import lineevents as ev
from models.conversation import Conversation
from models.errors import Conflict
from models.member import Member
from models.profile import change_birthday
from models.reward import RewardItem, catalogue_for
from tests.conftest import all_text


def actions(messages: list[dict]) -> list[dict]:
    """Every action (buttons, quick replies) inside the messages, in order."""
    found: list[dict] = []

    def walk(node) -> None:  # type: ignore[no-untyped-def]
        if isinstance(node, dict):
            if isinstance(node.get("action"), dict):
                found.append(node["action"])
            for key, value in node.items():
                if key != "action":
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(messages)
    return found


def action(messages: list[dict], label: str) -> dict:
    matching = [a for a in actions(messages) if a.get("label") == label]
    assert matching, f"no {label!r} in {[a.get('label') for a in actions(messages)]}"
    return matching[0]


def tap(line, user: str, act: dict, params: dict | None = None) -> list[dict]:  # type: ignore[no-untyped-def]
    line.tap(user, act["data"], params)
    return line.last(user)


def member_row(db, user: str) -> Member:  # type: ignore[no-untyped-def]
    with db.sessions() as s:
        member = s.scalars(select(Member).where(Member.line_user_id == user)).one()
        s.expunge(member)
        return member


def conversation(db, user: str) -> Conversation | None:  # type: ignore[no-untyped-def]
    with db.sessions() as s:
        member = s.scalars(select(Member).where(Member.line_user_id == user)).one()
        convo = s.get(Conversation, member.id)
        if convo is not None:
            s.expunge(convo)
        return convo


# --- 兌換目錄 ---------------------------------------------------------------------------------

def test_the_catalogue_puts_what_is_within_reach_first():
    items = [RewardItem(id=i, name=n, points_cost=c, is_active=a)
             for i, (n, c, a) in enumerate([("蛋糕", 120, True), ("手工餅乾", 30, True), ("拿鐵", 60, True), ("已下架", 10, False), ("美式", 35, True)], 1)]
    entries = catalogue_for(items, 35)
    assert [(e.name, e.reachable, e.short) for e in entries] == [("手工餅乾", True, 0), ("美式", True, 0), ("拿鐵", False, 25), ("蛋糕", False, 85)]
    assert [e.name for e in catalogue_for(items, 0, limit=2)] == ["手工餅乾", "美式"]
    assert all(e.short == e.points_cost for e in catalogue_for(items, -5))  # a balance below zero reaches nothing


@pytest.fixture
def catalogue(client, counter):  # type: ignore[no-untyped-def]
    counter.rule(amount_per_point="10", stamps_per_visit=1)
    made = {}
    for name, cost in (("蛋糕", 120), ("手工餅乾", 30), ("拿鐵", 60), ("已下架", 10)):
        resp = client.post("/api/v1/admin/rewards", json={"name": name, "points_cost": cost}, headers=counter.admin)
        assert resp.status_code == 201
        made[name] = resp.get_json()["id"]
    assert client.put(f"/api/v1/admin/rewards/{made['已下架']}", json={"active": False}, headers=counter.admin).status_code == 200
    return made


def test_stamp_card_opens_the_catalogue_with_what_is_within_reach(line, counter, catalogue, make_member, fake_line):
    user, number = make_member()
    assert counter.award(number, "R-1", amount="350").status_code == 201  # 35 points
    line.say(user, "集點卡")
    card = line.last(user)
    button = action(card, "兌換目錄")
    assert dict(parse_qsl(button["data"])) == {"action": "catalogue"}

    shown = tap(line, user, button)
    intro, carousel = shown
    assert "目前點數 35 點，有 1 項可以兌換" in intro["text"] and "出示會員卡" in intro["text"]
    bubbles = carousel["contents"]["contents"]
    assert carousel["contents"]["type"] == "carousel"
    rows = [all_text([b]) for b in bubbles]
    assert ["手工餅乾" in rows[0], "拿鐵" in rows[1], "蛋糕" in rows[2]] == [True] * 3 and len(rows) == 3
    assert "可兌換" in rows[0] and "30 點" in rows[0]
    assert "還差 25 點" in rows[1] and "還差 85 點" in rows[2]
    assert "已下架" not in all_text(shown)
    assert dict(parse_qsl(action([bubbles[1]], "出示會員卡")["data"])) == {"action": "card"}
    for typed in ("兌換目錄", "點數兌換"):
        line.say(user, typed)
        assert line.last(user)[1]["contents"] == carousel["contents"]
    assert fake_line.violations == []


def test_the_catalogue_holds_at_most_twelve(client, line, counter, make_member):
    for i in range(14):
        client.post("/api/v1/admin/rewards", json={"name": f"商品 {i:02}", "points_cost": 10 + i}, headers=counter.admin)
    user, _ = make_member()
    line.tap(user, "action=catalogue")
    intro, carousel = line.last(user)
    assert "再累積一些" in intro["text"]  # nothing within reach at 0 points
    names = [b["body"]["contents"][0]["text"] for b in carousel["contents"]["contents"]]
    assert names == [f"商品 {i:02}" for i in range(12)]  # the nearest twelve


def test_no_catalogue_no_button_and_guests_are_invited(line, make_member):
    user, _ = make_member()
    line.say(user, "集點卡")
    assert "兌換目錄" not in all_text(line.last(user))
    line.say(user, "兌換目錄")
    assert "目前沒有可用點數兌換的商品" in all_text(line.last(user))
    guest = line.user()
    line.follow(guest)
    line.say(guest, "兌換目錄")
    assert "還不是會員" in all_text(line.last(guest))


# --- 會員資料 ---------------------------------------------------------------------------------

def test_phone_is_changed_after_a_bad_number_and_can_be_cleared(line, db, make_member, fake_line):
    user, _ = make_member()
    line.say(user, "會員資料")
    profile = line.last(user)
    assert "結帳時告訴門市人員" not in all_text(profile)
    asked = tap(line, user, action(profile, "修改手機"))
    assert "請輸入新的手機號碼" in asked[0]["text"]
    assert conversation(db, user).step == "phone"

    line.say(user, "12345")
    again = line.last(user)
    assert "手機號碼格式不太對" in again[0]["text"] and "請輸入新的手機號碼" in again[1]["text"]
    line.say(user, "+886 987-654-321")
    done = line.last(user)
    assert "資料已更新" in done[0]["text"] and "0987-***-321" in all_text(done)
    assert member_row(db, user).phone == "0987654321" and member_row(db, user).flow is None

    asked = tap(line, user, action(done, "修改手機"))
    cleared = tap(line, user, action(asked, "清除手機號碼"))
    assert "已清除" in cleared[0]["text"]
    assert member_row(db, user).phone is None
    assert fake_line.violations == []


def test_gender_by_quick_reply_and_cancel_changes_nothing(line, db, make_member):
    user, _ = make_member()  # joined as female
    line.tap(user, "action=profile_edit&field=gender")
    asked = line.last(user)
    assert [a["label"] for a in actions(asked)] == ["男", "女", "其他", "不提供", "取消"]
    tap(line, user, action(asked, "男"))
    assert member_row(db, user).gender == "male"

    line.tap(user, "action=profile_edit&field=gender")
    line.say(user, "取消")
    assert "沒有變更" in line.last(user)[0]["text"]
    assert member_row(db, user).gender == "male" and conversation(db, user) is None
    line.tap(user, "action=profile_step&v=female")  # the cancelled question's button
    assert "這次修改已經結束" in line.last(user)[0]["text"]
    assert member_row(db, user).gender == "male"


def test_a_half_finished_edit_survives_a_redelivery_and_other_buttons(line, db, make_member, fake_line):
    user, _ = make_member()
    start = ev.postback_event(user, "action=profile_edit&field=phone")
    line.post(start)
    sent = len(fake_line.messages_to(user))
    line.post({**start, "deliveryContext": {"isRedelivery": True}, "replyToken": ev.reply_token()})
    assert len(fake_line.messages_to(user)) == sent  # the redelivered tap is not answered twice
    assert conversation(db, user).step == "phone"

    line.tap(user, "action=coupons")  # a rich menu button mid-edit: reminded, asked again
    reminded = line.last(user)
    assert "您正在修改會員資料" in reminded[0]["text"] and "請輸入新的手機號碼" in reminded[1]["text"]
    line.say(user, "0911222333")
    assert member_row(db, user).phone == "0911222333"


def test_birthday_can_be_changed_once(line, db, make_member, clock):
    user, _ = make_member()
    before = member_row(db, user).birthday_on
    line.say(user, "會員資料")
    asked = tap(line, user, action(line.last(user), "修改生日"))
    picker = action(asked, "選擇生日")
    assert picker["type"] == "datetimepicker" and picker["max"] == clock.today().isoformat()

    future = (clock.today() + timedelta(days=1)).isoformat()
    refused = tap(line, user, picker, {"date": future})
    assert "看不懂這個日期" in refused[0]["text"]
    confirm = tap(line, user, picker, {"date": "1991-03-04"})
    assert "確定將生日改為 1991/03/04" in all_text(confirm) and "只能修改一次" in all_text(confirm)
    assert member_row(db, user).birthday_on == before  # nothing saved before 確定
    done = tap(line, user, action(confirm, "確定"))
    assert "生日已更新為 1991/03/04" in done[0]["text"]
    row = member_row(db, user)
    assert row.birthday_on == date(1991, 3, 4) and row.birthday_changed_at == clock.now
    assert "修改生日" not in [a["label"] for a in actions(done)]  # the profile no longer offers it
    assert "生日已修改過一次" in all_text(done)

    tap(line, user, picker)  # an old 修改生日 card's button
    line.tap(user, "action=profile_edit&field=birthday")
    assert "生日只能修改一次" in line.last(user)[0]["text"]
    assert conversation(db, user) is None and member_row(db, user).birthday_on == date(1991, 3, 4)


def test_a_second_birthday_change_is_refused_by_the_domain(db, clock):
    with db.sessions() as s:
        member = Member(line_user_id="U" + "0" * 32, is_reachable=True, followed_at=clock.now, created_at=clock.now)
        s.add(member)
        s.flush()
        today = clock.today()
        change_birthday(s, member, birthday_on=date(1990, 1, 2), now=clock.now, today=today)  # a missing birthday: given
        assert member.birthday_changed_at is None
        change_birthday(s, member, birthday_on=date(1990, 2, 1), now=clock.now, today=today)  # the one change
        assert member.birthday_changed_at == clock.now
        change_birthday(s, member, birthday_on=date(1990, 2, 1), now=clock.now, today=today)  # the same date: nothing
        with pytest.raises(Conflict) as refused:
            change_birthday(s, member, birthday_on=date(1990, 3, 1), now=clock.now, today=today)
        assert refused.value.code == "birthday_change_used"


# --- 門市據點 ---------------------------------------------------------------------------------

def test_store_admin_api_validates_and_documents(client, counter):
    url = f"/api/v1/admin/stores/{counter.code}"
    for body, field in (({"colour": "red"}, "colour"), ({"phone": "call me"}, "phone"), ({"latitude": 25.03}, "longitude"),
                        ({"latitude": 91, "longitude": 121.5}, "latitude"), ({"latitude": "abc", "longitude": 1}, "latitude"),
                        ({"map_url": "javascript:alert(1)"}, "map_url"), ({"address": "路" * 101}, "address"), ({"name": " "}, "name"),
                        ({"latitude": True, "longitude": 1}, "latitude")):
        resp = client.put(url, json=body, headers=counter.admin)
        assert resp.status_code == 422, body
        code = "unknown_field" if field == "colour" else "invalid_store"  # unknown names are refused before the route
        assert resp.get_json()["code"] == code and resp.get_json()["details"]["field"] == field
    assert client.put("/api/v1/admin/stores/NOPE", json={"hours": "x"}, headers=counter.admin).status_code == 404
    assert client.put(url, json={"hours": "x"}).status_code == 401
    resp = client.put(url, json={"address": "台北市信義區松高路 1 號", "hours": "每日 07:30–20:00", "phone": "02-2720-1234",
                                 "latitude": 25.0392, "longitude": "121.5677"}, headers=counter.admin)
    assert resp.status_code == 200
    got = resp.get_json()
    assert (got["latitude"], got["longitude"], got["phone"], got["name"]) == (25.0392, 121.5677, "02-2720-1234", "台北信義店")
    cleared = client.put(url, json={"latitude": None, "longitude": None, "phone": ""}, headers=counter.admin).get_json()
    assert (cleared["latitude"], cleared["phone"], cleared["address"]) == (None, None, "台北市信義區松高路 1 號")
    listed = client.get("/api/v1/admin/stores", headers=counter.admin).get_json()["stores"][0]
    assert listed["hours"] == "每日 07:30–20:00"
    doc = client.get("/openapi.json").get_json()
    assert "put" in doc["paths"]["/api/v1/admin/stores/{code}"]
    assert "latitude" in doc["components"]["schemas"]["StoreUpdate"]["properties"]


def test_stores_show_address_hours_phone_and_location(client, counter, line, fake_line):
    client.put(f"/api/v1/admin/stores/{counter.code}", json={
        "address": "台北市信義區松高路 1 號", "hours": "每日 07:30–20:00", "phone": "02-2720-1234",
        "latitude": 25.0392, "longitude": 121.5677}, headers=counter.admin)
    client.post("/api/v1/admin/stores", json={"code": "TPE02", "name": "中山店"}, headers=counter.admin)
    client.put("/api/v1/admin/stores/TPE02", json={"address": "台北市中山區南京西路 12 號", "hours": "平日 08:00–18:00"}, headers=counter.admin)
    client.post("/api/v1/admin/stores", json={"code": "TPE03", "name": "籌備中"}, headers=counter.admin)
    guest = line.user()
    line.follow(guest)
    line.say(guest, "門市據點")
    [stores] = line.last(guest)
    xinyi, zhongshan, soon = stores["contents"]["contents"]
    assert "台北市信義區松高路 1 號" in all_text([xinyi]) and "每日 07:30–20:00" in all_text([xinyi])
    assert action([xinyi], "撥打電話")["uri"] == "tel:0227201234"
    assert action([xinyi], "開啟地圖")["uri"] == "https://www.google.com/maps/search/?api=1&query=25.039200,121.567700"
    located = tap(line, guest, action([xinyi], "傳送位置"))
    assert located == [{"type": "location", "title": "台北信義店", "address": "台北市信義區松高路 1 號",
                        "latitude": 25.0392, "longitude": 121.5677}]

    labels = [a["label"] for a in actions([zhongshan])]
    assert labels == ["開啟地圖"]  # no phone, no coordinates: the map searches the address
    assert action([zhongshan], "開啟地圖")["uri"].startswith("https://www.google.com/maps/search/?api=1&query=%E5%8F%B0%E5%8C%97")
    assert "地址與營業時間即將公布" in all_text([soon]) and "footer" not in soon
    line.tap(guest, "action=store_location&code=TPE02")  # no coordinates: the stores again
    assert "找不到這間門市的位置" in line.last(guest)[0]["text"]
    assert fake_line.violations == []


def test_many_stores_fill_carousels_of_twelve(client, counter, line):
    for i in range(2, 15):
        client.post("/api/v1/admin/stores", json={"code": f"S{i:02}", "name": f"分店 {i:02}"}, headers=counter.admin)
    user = line.user()
    line.follow(user)
    line.tap(user, "action=stores")
    first, second = line.last(user)
    assert len(first["contents"]["contents"]) == 12 and len(second["contents"]["contents"]) == 2
