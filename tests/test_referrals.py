"""Referrals (MGM): the invitation, a friend's code through the webhook, joining, the first purchase at
the counter, every refusal with its zh-TW reply, the monthly cap, the admin API, segment rules,
and exactness under concurrent requests (PostgreSQL)."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote, unquote

from sqlalchemy import func, select

from bot.dev import lineevents as ev
from models.coupon import Coupon
from models.ledger import LedgerEntry
from models.member import Member
from models.referral import Referral
from tests.conftest import CHANNEL_SECRET, all_text, taipei_time
from tests.test_concurrency_pg import run_together


# --- helpers ---------------------------------------------------------------------------

def invitation(line, member: str) -> tuple[str, dict]:  # type: ignore[no-untyped-def]
    """Tap 邀請好友; returns the code printed on the card and the card."""
    line.tap(member, "action=invite")
    [card] = line.last(member)
    assert card["type"] == "flex"
    code = re.search(r"邀請碼 ([A-Z0-9]{6})", card["altText"]).group(1)  # type: ignore[union-attr]
    return code, card


def new_friend(line, name: str = "小華") -> str:  # type: ignore[no-untyped-def]
    friend = line.user(name)
    line.follow(friend)
    return friend


def finish_join(line, user: str) -> None:  # type: ignore[no-untyped-def]
    """The join flow without a follow first (line.join follows again: a returning friend)."""
    line.tap(user, "action=join")
    line.tap(user, "action=join_step&v=yes")
    line.tap(user, "action=join_step", {"date": "1995-03-01"})
    line.say(user, "略過")
    line.tap(user, "action=join_step&v=female")


def member_no(db, user: str) -> str:  # type: ignore[no-untyped-def]
    with db.sessions() as s:
        return s.scalar(select(Member.member_no).where(Member.line_user_id == user))


def referrals(db) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    """(referrer's LINE id, friend's LINE id, status) of every referral."""
    with db.sessions() as s:
        ids = {m.id: m.line_user_id for m in s.scalars(select(Member))}
        return [(ids[r.referrer_id], ids[r.friend_id], r.status) for r in s.scalars(select(Referral).order_by(Referral.id))]


def referral_credit(db, user: str, currency: str) -> int:  # type: ignore[no-untyped-def]
    with db.sessions() as s:
        return s.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).join(Member, Member.id == LedgerEntry.member_id).where(
            Member.line_user_id == user, LedgerEntry.reason == "referral", LedgerEntry.currency == currency)) or 0


def program(client, counter, **changes):  # type: ignore[no-untyped-def]
    resp = client.put("/api/v1/admin/referral-program", json=changes, headers=counter.admin)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def referred(line, make_member, name: str = "小華"):  # type: ignore[no-untyped-def]
    """A referrer (a member) and a new friend whose code was recorded."""
    referrer, _ = make_member("阿美")
    code, _ = invitation(line, referrer)
    friend = new_friend(line, name)
    line.say(friend, f"邀請碼 {code}")
    return referrer, friend, code


# --- the whole path --------------------------------------------------------------------

def test_invitation_card_links_to_the_account_with_the_code(line, make_member, fake_line):
    referrer, _ = make_member("阿美")
    code, card = invitation(line, referrer)
    again, _ = invitation(line, referrer)
    assert again == code, "a member's code is stable"
    assert not set(code) & set("01OI")
    buttons = [b["action"] for b in card["contents"]["footer"]["contents"]]
    oa_url = f"https://line.me/R/oaMessage/{quote('@fakebot')}/?{quote('邀請碼 ' + code)}"  # basic id from Get Bot Info
    assert buttons[1]["type"] == "clipboard" and oa_url in buttons[1]["clipboardText"]  # no friend's button for the inviter
    assert len(buttons) == 2 and "uri" not in buttons[1]
    assert buttons[0]["uri"].startswith("https://line.me/R/share?text=")
    assert oa_url in unquote(buttons[0]["uri"][len("https://line.me/R/share?text="):])
    assert code in all_text([card]) and "2 章" in all_text([card]) and "1 章" in all_text([card])
    assert len(fake_line.requests("/v2/bot/info")) <= 1, "the basic id is cached (maybe already by an earlier test)"


def test_non_member_is_asked_to_join_before_inviting(line):
    guest = new_friend(line, "訪客")
    line.say(guest, "邀請好友")
    assert "加入會員後就能邀請好友" in all_text(line.last(guest))


def test_whole_path_through_the_webhook_and_the_cashier_api(line, make_member, counter, db, fake_line):
    referrer, friend, code = referred(line, make_member)
    reply = all_text(line.last(friend))
    assert "已收到阿美的邀請" in reply and "1 章" in reply and "立即加入會員" in reply
    assert referrals(db) == [(referrer, friend, "recorded")]

    finish_join(line, friend)
    assert "阿美的邀請已生效" in all_text(line.last(friend))
    assert "您邀請的小華已加入會員" in all_text(line.last(referrer))
    assert referrals(db) == [(referrer, friend, "joined")]

    resp = counter.award(member_no(db, friend), "R-1", amount=120)
    assert resp.status_code == 201
    assert referrals(db) == [(referrer, friend, "rewarded")]
    assert (referral_credit(db, referrer, "stamp"), referral_credit(db, friend, "stamp")) == (2, 1)
    assert "您邀請的小華完成了首次消費，送您2 章" in all_text(line.last(referrer))
    assert "阿美邀請您的禮物1 章已送達" in all_text(line.replies(friend))

    pushes = len(fake_line.messages_to(referrer))
    assert counter.award(member_no(db, friend), "R-1", amount=120).status_code == 200  # a retry: replayed
    assert counter.award(member_no(db, friend), "R-2", amount=300).status_code == 201  # not the first purchase
    assert (referral_credit(db, referrer, "stamp"), referral_credit(db, friend, "stamp")) == (2, 1)
    assert len(fake_line.messages_to(referrer)) == pushes
    line.say(friend, "集點卡")
    assert "邀請好友獎勵" in all_text(line.last(friend))


def test_code_through_a_receipt_claim_and_coupon_and_points_rewards(client, line, make_member, counter, db):
    made = client.post("/api/v1/admin/coupon-templates", json={"name": "好友禮 50 元", "kind": "amount_off", "value": 50, "valid_days": 30},
                       headers=counter.admin)
    program(client, counter, referrer_reward={"kind": "points", "amount": 50},
            friend_reward={"kind": "coupon", "coupon_template_id": made.get_json()["id"]}, min_purchase="200")
    referrer, friend, _ = referred(line, make_member)
    finish_join(line, friend)
    counter.award(member_no(db, friend), "R-small", amount=150)  # below the minimum: not yet
    assert referrals(db)[0][2] == "joined"
    claim = client.post("/api/v1/claims", json={"receipt_id": "R-big", "amount": 250}, headers=counter.cashier).get_json()
    line.say(friend, f"領取 {claim['code']}")
    assert referrals(db)[0][2] == "rewarded"
    assert referral_credit(db, referrer, "point") == 50
    with db.sessions() as s:
        occasions = s.scalars(select(Coupon.occasion).join(Member, Member.id == Coupon.member_id).where(Member.line_user_id == friend)).all()
        referral_id = s.scalar(select(Referral.id))
    assert occasions == [f"referral:{referral_id}"]
    assert "優惠券「好友禮 50 元」" in all_text(line.replies(friend))
    assert "50 點" in all_text(line.last(referrer))


# --- abuse -----------------------------------------------------------------------------

def test_own_code_is_refused(line, make_member, db):
    referrer, _ = make_member("阿美")
    code, _ = invitation(line, referrer)
    line.say(referrer, f"邀請碼 {code}")
    assert "不能使用自己的邀請碼" in all_text(line.last(referrer))
    assert referrals(db) == []


def test_existing_member_and_earlier_friends_are_refused(line, make_member, clock, db):
    referrer, _ = make_member("阿美")
    code, _ = invitation(line, referrer)
    member, _ = make_member("老會員")
    line.say(member, f"邀請碼 {code}")
    assert "您已經是會員囉" in all_text(line.last(member))

    returning = new_friend(line, "回鍋")
    line.post(ev.unfollow_event(returning))
    line.follow(returning, unblocked=True)
    line.say(returning, f"邀請碼 {code.lower()}")  # typed in lower case: still this code
    assert "僅限第一次加入" in all_text(line.last(returning))

    old = new_friend(line, "老朋友")
    clock.advance(hours=25)
    line.say(old, f"邀請碼 {code}")
    assert "24 小時內使用" in all_text(line.last(old))
    assert referrals(db) == []


def test_second_referrer_and_the_same_code_twice(line, make_member, db):
    referrer, friend, code = referred(line, make_member)
    other, _ = make_member("阿強")
    other_code, _ = invitation(line, other)
    line.say(friend, f"邀請碼 {other_code}")
    assert "已經使用過其他好友的邀請碼" in all_text(line.last(friend))
    line.say(friend, f"邀請碼：{code}")
    assert "您已經使用過阿美的邀請碼囉" in all_text(line.last(friend))
    assert referrals(db) == [(referrer, friend, "recorded")]


def test_unknown_and_deactivated_codes_are_refused(line, make_member, db):
    friend = new_friend(line)
    line.say(friend, "邀請碼 ZZZZZZ")
    assert "找不到這個邀請碼" in all_text(line.last(friend))
    referrer, _ = make_member("阿美")
    code, _ = invitation(line, referrer)
    line.post(ev.unfollow_event(referrer))  # blocked the account: the code is deactivated
    line.say(friend, f"邀請碼 {code}")
    assert "這個邀請碼已經失效" in all_text(line.last(friend))
    assert referrals(db) == []


def test_switched_off_programme_refuses_codes_and_invitations(client, line, make_member, counter, db):
    referrer, _ = make_member("阿美")
    code, _ = invitation(line, referrer)
    program(client, counter, enabled=False)
    friend = new_friend(line)
    line.say(friend, f"邀請碼 {code}")
    assert "暫停" in all_text(line.last(friend))
    line.say(referrer, "邀請好友")
    assert "暫停" in all_text(line.last(referrer))
    assert referrals(db) == []


def test_monthly_cap_of_rewarded_referrals(client, line, make_member, counter, clock, db):
    program(client, counter, monthly_cap=1)
    referrer, first, code = referred(line, make_member, "小華")
    second = new_friend(line, "小明")
    line.say(second, f"邀請碼 {code}")  # recorded: nothing is rewarded yet
    for friend in (first, second):
        finish_join(line, friend)
    counter.award(member_no(db, first), "R-1", amount=100)
    counter.award(member_no(db, second), "R-2", amount=100)
    assert [r[2] for r in referrals(db)] == ["rewarded", "purchased"]
    assert referral_credit(db, referrer, "stamp") == 2 and referral_credit(db, second, "stamp") == 0
    assert "本月的邀請獎勵已達上限（1 位）" in all_text(line.last(referrer))
    assert "邀請禮名額已滿" in all_text(line.replies(second))

    third = new_friend(line, "小王")
    line.say(third, f"邀請碼 {code}")
    assert "這位好友本月的邀請名額已滿" in all_text(line.last(third))
    clock.now = taipei_time((clock.today().replace(day=1) + timedelta(days=32)).replace(day=1), 10)  # a new month in Taipei
    fourth = new_friend(line, "小李")
    line.say(fourth, f"邀請碼 {code}")
    assert "已收到阿美的邀請" in all_text(line.last(fourth))
    assert len(referrals(db)) == 3


# --- admin API and segments ------------------------------------------------------------

def test_programme_settings_are_validated(client, counter):
    got = client.get("/api/v1/admin/referral-program", headers=counter.admin).get_json()
    assert got["referrer_reward"] == {"kind": "stamps", "amount": 2} and got["monthly_cap"] == 10 and got["new_friend_hours"] == 24
    for body, field in (({"referrer_reward": {"kind": "cash"}}, "referrer_reward"), ({"friend_reward": {"kind": "coupon", "coupon_template_id": 999}}, "friend_reward"),
                        ({"monthly_cap": 0}, "monthly_cap"), ({"min_purchase": -1}, "min_purchase"), ({"bonus": 1}, "bonus")):
        resp = client.put("/api/v1/admin/referral-program", json=body, headers=counter.admin)
        assert resp.status_code == 422 and resp.get_json()["details"]["field"] == field, body
    changed = program(client, counter, friend_reward=None, monthly_cap=None, min_purchase="99.5")
    assert changed["friend_reward"] is None and changed["monthly_cap"] is None and changed["min_purchase"] == "99.5"


def test_report_per_referrer_and_in_total_over_a_period(client, line, make_member, counter, db, clock):
    referrer, friend, code = referred(line, make_member)
    finish_join(line, friend)
    other = new_friend(line, "小明")
    line.say(other, f"邀請碼 {code}")
    counter.award(member_no(db, friend), "R-1", amount=100)
    today = clock.today()
    resp = client.get(f"/api/v1/admin/referrals?from={today.replace(day=1)}&to={today}", headers=counter.admin)
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["totals"] == {"invited": 2, "joined": 1, "purchased": 1, "rewarded": 1, "referrers": 1}
    [row] = body["referrers"]
    assert (row["member_no"], row["name"], row["code"], row["invited"], row["rewarded"]) == (member_no(db, referrer), "阿美", code, 2, 1)
    tomorrow = today + timedelta(days=1)
    later = client.get(f"/api/v1/admin/referrals?from={tomorrow}", headers=counter.admin).get_json()
    assert later["totals"]["invited"] == 0 and later["referrers"] == []
    assert client.get(f"/api/v1/admin/referrals?from={tomorrow}&to={today}", headers=counter.admin).status_code == 422
    assert client.get("/api/v1/admin/referrals?from=yesterday", headers=counter.admin).get_json()["code"] == "invalid_period"


def test_segment_rule_conditions(client, line, make_member, counter, db):
    referrer, friend, code = referred(line, make_member)
    make_member("路人")
    for name in ("小明", "小王"):
        other = new_friend(line, name)
        line.say(other, f"邀請碼 {code}")
        finish_join(line, other)
    finish_join(line, friend)

    def names(rule):  # type: ignore[no-untyped-def]
        resp = client.post("/api/v1/admin/segments/preview", json={"rule": rule}, headers=counter.admin)
        assert resp.status_code == 200, resp.get_json()
        return {m["name"] for m in resp.get_json()["sample"]}

    assert names({"field": "referred_count", "op": "gte", "value": 3}) == {"阿美"}
    assert names({"field": "referred_count", "op": "gte", "value": 4}) == set()
    assert names({"field": "joined_by_referral", "op": "eq", "value": True}) == {"小華", "小明", "小王"}
    assert names({"field": "joined_by_referral", "op": "eq", "value": False}) == {"阿美", "路人"}
    bad = client.post("/api/v1/admin/segments/preview", json={"rule": {"field": "joined_by_referral", "op": "eq", "value": 1}}, headers=counter.admin)
    assert bad.status_code == 422 and bad.get_json()["details"]["path"] == "/value"


# --- concurrency (PostgreSQL) ------------------------------------------------------------

def say_together(app, line, pairs: list[tuple[str, str]]) -> list[int]:  # type: ignore[no-untyped-def]
    """Each (user, text) as its own webhook request, all at the same instant."""
    events = [ev.text_event(user, said) for user, said in pairs]
    for event in events:
        line.fake.register_reply_token(event["replyToken"], event["source"]["userId"])
    clients = [app.test_client() for _ in events]

    def send(i: int) -> int:
        body = ev.payload(events[i])
        return clients[i].post("/callback", data=body, headers={"X-Line-Signature": ev.sign(CHANNEL_SECRET, body)}).status_code

    return run_together(len(events), send)


def test_two_friends_codes_at_once_are_both_recorded(pg_only, app, line, make_member, db):
    referrer, _ = make_member("阿美")
    code, _ = invitation(line, referrer)
    friends = [new_friend(line, "小華"), new_friend(line, "小明")]
    assert say_together(app, line, [(f, f"邀請碼 {code}") for f in friends]) == [200, 200]
    assert sorted(referrals(db)) == sorted((referrer, f, "recorded") for f in friends)
    assert all("已收到阿美的邀請" in all_text(line.last(f)) for f in friends)


def test_same_code_twice_at_once_is_recorded_once(pg_only, app, line, make_member, db):
    referrer, _ = make_member("阿美")
    code, _ = invitation(line, referrer)
    friend = new_friend(line)
    assert say_together(app, line, [(friend, f"邀請碼 {code}")] * 2) == [200, 200]
    assert referrals(db) == [(referrer, friend, "recorded")]
    texts = [all_text(d["messages"]) for d in line.fake.messages_to(friend)[-2:]]
    assert sorted("已收到" in t for t in texts) == [False, True] and any("已經使用過阿美的邀請碼" in t for t in texts)


def test_concurrent_first_purchases_reward_once(pg_only, app, line, make_member, counter, db):
    referrer, friend, _ = referred(line, make_member)
    finish_join(line, friend)
    number = member_no(db, friend)
    clients = [app.test_client() for _ in range(4)]

    def buy(i: int) -> int:
        return clients[i].post("/api/v1/awards", json={"member_no": number, "receipt_id": f"R-{i}", "amount": 100},
                               headers=counter.cashier).status_code

    assert run_together(4, buy) == [201] * 4
    assert referrals(db) == [(referrer, friend, "rewarded")]
    assert (referral_credit(db, referrer, "stamp"), referral_credit(db, friend, "stamp")) == (2, 1)
    assert sum("完成了首次消費" in all_text(d["messages"]) for d in line.fake.messages_to(referrer)) == 1
