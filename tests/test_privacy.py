"""Member data rights: a copy of my data behind a short-lived link, erasure confirmed twice in the
chat or done by an owner, totals that still add up, a new member after a re-follow, retention."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import func, select

from bot.dev import lineevents as ev
from models.admin import AuditLog
from models.coupon import Coupon
from models.ledger import Award, LedgerEntry
from models.member import Member
from models.privacy import months_before
from models.tag import MemberTag
from tests.conftest import ADMIN_TOKEN, all_text

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def buttons(messages: list[dict]) -> list[dict]:
    """The actions of every button in the messages (Flex footers)."""
    out = []
    for m in messages:
        if m.get("type") == "flex":
            for part in (m["contents"].get("footer") or {}).get("contents", []):
                if part.get("type") == "button":
                    out.append(part["action"])
    return out


def postback_of(messages: list[dict], label: str) -> str:
    return next(a["data"] for a in buttons(messages) if a["label"] == label)


def member_row(db, **where) -> Member:  # type: ignore[no-untyped-def]
    with db.sessions() as s:
        return s.scalars(select(Member).filter_by(**where)).one()


def ledger_totals(db) -> dict:  # type: ignore[no-untyped-def,type-arg]
    with db.sessions() as s:
        return {"by_member": dict(s.execute(select(LedgerEntry.member_id, func.sum(LedgerEntry.amount)).group_by(LedgerEntry.member_id)).all()),
                "awards": s.scalar(select(func.count()).select_from(Award)), "entries": s.scalar(select(func.count()).select_from(LedgerEntry))}


def dashboard_counts(client) -> dict:  # type: ignore[no-untyped-def,type-arg]
    d = client.get("/api/v1/admin/dashboard", headers=ADMIN).get_json()
    return {"total": d["members"]["total"], "friends": d["members"]["friends"], "new": d["members"]["new"], "visitors": d["visitors"],
            "revenue": d["revenue"], "block_rate": d["block_rate"], "trend": d["trend"]}


def erase_in_chat(line, user: str) -> list[dict]:  # type: ignore[no-untyped-def]
    line.say(user, "刪除會員資料")
    line.tap(user, postback_of(line.last(user), "確定刪除"))
    line.tap(user, postback_of(line.last(user), "永久刪除"))
    return line.last(user)


# --- a copy of my data -------------------------------------------------------------------------

def test_my_data_link_shows_everything_and_expires(line, client, counter, make_member, clock, db, fake_line):
    user, number = make_member("王小明")
    counter.rule(amount_per_point="10", stamps_per_visit=1)
    assert counter.award(number, "R-1", amount=250, visit=True).status_code == 201
    assert client.post(f"/api/v1/admin/members/{number}/tags", json={"tag": "常客"}, headers=ADMIN).status_code == 200
    template = client.post("/api/v1/admin/coupon-templates", json={"name": "拿鐵折 30", "kind": "amount_off", "value": 30, "valid_days": 30},
                           headers=ADMIN).get_json()
    assert client.post(f"/api/v1/admin/coupon-templates/{template['id']}/issue", json={"member_no": number}, headers=ADMIN).status_code == 201

    line.say(user, "我的資料")
    link = next(a for a in buttons(line.last(user)) if a["type"] == "uri")
    assert link["uri"].startswith("https://loyalty.example.com/my-data/")
    path = urlsplit(link["uri"]).path
    assert number not in path and user not in path  # the token names nobody

    page = client.get(path)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    html = page.get_data(as_text=True)
    for shown in ("王小明", number, "0912345678", "同意紀錄", "2026-01", "常客", "拿鐵折 30", "收到的訊息", "集點卡："):
        assert shown in html, shown

    download = client.get(path + "?format=json")
    assert download.headers["Content-Disposition"].startswith("attachment;")
    data = json.loads(download.get_data(as_text=True))
    assert data["profile"]["member_no"] == number and data["profile"]["phone"] == "0912345678"
    assert data["profile"]["birthday_on"] == line.birthday.isoformat() and data["profile"]["gender"] == "female"
    assert data["consents"] == [{"kind": "terms_and_privacy", "version": "2026-01", "consented_at": data["consents"][0]["consented_at"]}]
    assert data["consents"][0]["consented_at"]
    assert data["balances"] == {"stamp": 1, "point": 25}
    assert sorted((e["currency"], e["amount"], e["receipt_id"]) for e in data["ledger"]) == [("point", 25, "R-1"), ("stamp", 1, "R-1")]
    assert [c["name"] for c in data["coupons"]] == ["拿鐵折 30"] and data["tags"] == ["常客"]
    assert [f["kind"] for f in data["follow_history"]] == ["follow"]
    assert {m["purpose"] for m in data["messages"]} >= {"award", "coupon"}
    assert any("拿鐵折 30" in t for m in data["messages"] for t in m["texts"])
    assert data["referrals"] == {"code": None, "friends_referred": [], "referred_by_code": None}

    clock.advance(minutes=16)  # the link lives 15 minutes
    gone = client.get(path)
    assert gone.status_code == 404 and "重新輸入「我的資料」" in gone.get_data(as_text=True)
    assert client.get(path[:-3] + "abc").status_code == 404


def test_my_data_page_shows_a_name_as_text(line, client, make_member, fake_line):
    user = line.user("<script>alert(1)</script>")
    line.join(user)
    line.say(user, "我的資料")
    link = next(a for a in buttons(line.last(user)) if a["type"] == "uri")
    page = client.get(urlsplit(link["uri"]).path)
    html = page.get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "script-src" not in page.headers["Content-Security-Policy"] and "default-src 'none'" in page.headers["Content-Security-Policy"]


def test_profile_card_offers_both_rights(line, make_member, fake_line):
    user, _ = make_member()
    line.tap(user, "action=profile")
    assert [a["data"] for a in buttons(line.last(user))][-2:] == ["action=my_data", "action=erase"]  # after the edits


# --- erasure in the chat -----------------------------------------------------------------------

def test_erasure_needs_two_confirmations_and_keeps_every_total(line, client, counter, make_member, db, fake_line):
    user, number = make_member("陳大文")
    other_user, other_no = make_member("林小華")
    counter.rule(amount_per_point="10", stamps_per_visit=1)
    for i, (no, amount) in enumerate([(number, 300), (number, 120), (other_no, 80)]):
        assert counter.award(no, f"R-{i}", amount=amount, visit=True).status_code == 201
    client.post(f"/api/v1/admin/members/{number}/tags", json={"tag": "VIP"}, headers=ADMIN)
    before, counts = ledger_totals(db), dashboard_counts(client)
    member_id = member_row(db, member_no=number).id

    line.say(user, "刪除會員資料")
    first = line.last(user)
    assert "無法復原" in all_text(first)
    line.tap(user, postback_of(first, "確定刪除"))
    final = line.last(user)
    assert member_row(db, member_no=number).erased_at is None  # one confirmation is not enough
    line.tap(user, postback_of(first, "確定刪除"))  # the first button again: stale, nothing moves
    assert "已失效" in all_text(line.last(user))
    line.tap(user, postback_of(final, "永久刪除"))
    assert "已刪除" in all_text(line.last(user))

    erased = member_row(db, id=member_id)
    assert erased.erased_at is not None and erased.line_user_id.startswith("erased:") and erased.member_no == number
    assert (erased.display_name, erased.phone, erased.birthday_on, erased.gender, erased.picture_url) == (None,) * 5
    assert (erased.terms_version, erased.consented_at, erased.is_reachable) == (None, None, False)
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(MemberTag).where(MemberTag.member_id == member_id)) == 0
    assert ledger_totals(db) == before  # every entry stays, with its member: balances and reports add up
    assert dashboard_counts(client) == counts

    line.tap(user, postback_of(final, "永久刪除"))  # tapped again: nothing is erased twice
    assert "已失效" in all_text(line.last(user))
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Member).where(Member.erased_at.is_not(None))) == 1
        audits = list(s.scalars(select(AuditLog).where(AuditLog.action == "member.erase")))
    assert [a.details["via"] for a in audits] == ["chat"] and "陳大文" not in json.dumps(audits[0].details, ensure_ascii=False)
    assert member_row(db, member_no=other_no).erased_at is None


def test_keeping_my_data_and_a_late_confirmation_erase_nothing(line, make_member, clock, db, fake_line):
    user, number = make_member()
    line.say(user, "刪除會員資料")
    line.tap(user, postback_of(line.last(user), "保留我的資料"))
    assert "資料都還在" in all_text(line.last(user))
    line.say(user, "刪除會員資料")
    line.tap(user, postback_of(line.last(user), "確定刪除"))
    final = line.last(user)
    clock.advance(minutes=6)  # past the five minutes a confirmation lives
    line.tap(user, postback_of(final, "永久刪除"))
    assert "已失效" in all_text(line.last(user))
    assert member_row(db, member_no=number).erased_at is None and member_row(db, member_no=number).flow is None


def test_an_erased_person_who_follows_again_is_a_new_member(line, counter, make_member, db, fake_line):
    user, number = make_member("老朋友")
    counter.rule(stamps_per_visit=1)
    counter.award(number, "R-1", visit=True)
    erase_in_chat(line, user)
    line.post(ev.unfollow_event(user))
    line.follow(user, unblocked=True)
    greeting = all_text(line.last(user))
    assert "您的會員資格與點數都還在" not in greeting and "加入會員" in greeting
    line.join(user)
    fresh = member_row(db, line_user_id=user)
    assert fresh.member_no and fresh.member_no != number and fresh.erased_at is None
    line.say(user, "集點卡")
    assert '"stamps_points"' not in all_text(line.last(user))
    with db.sessions() as s:
        assert s.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(LedgerEntry.member_id == fresh.id)) == 0


# --- the counter, the admin, segments ----------------------------------------------------------

def test_the_counter_refuses_an_erased_member(line, client, counter, make_member, db, fake_line):
    user, number = make_member()
    counter.rule(stamps_per_visit=1)
    line.say(user, "會員卡")
    qr = next(c for c in line.last(user)[0]["contents"]["body"]["contents"] if c["type"] == "image")["url"]
    token = qr.rsplit("/", 1)[1].removesuffix(".png")
    template = client.post("/api/v1/admin/coupon-templates", json={"name": "折 20", "kind": "amount_off", "value": 20, "valid_days": 30},
                           headers=ADMIN).get_json()
    coupon = client.post(f"/api/v1/admin/coupon-templates/{template['id']}/issue", json={"member_no": number}, headers=ADMIN).get_json()
    erase_in_chat(line, user)

    for body in ({"member_no": number}, {"token": token}):
        scan = client.post("/api/v1/scan", json=body, headers=counter.cashier)
        assert scan.status_code == 410 and scan.get_json()["code"] == "member_erased"
    award = counter.award(number, "R-after", visit=True)
    assert award.status_code == 410 and award.get_json()["code"] == "member_erased"
    redeem = client.post("/api/v1/coupons/redeem", json={"code": coupon["coupon"]["code"], "amount": 100}, headers=counter.cashier)
    assert redeem.status_code >= 400 and redeem.get_json()["code"] in ("member_erased", "coupon_voided")
    with db.sessions() as s:
        assert s.scalars(select(Coupon.status)).all() == ["voided"]
        assert s.scalar(select(func.count()).select_from(Award)) == 0


def test_owner_exports_and_erases_at_the_counters_request(client, make_member, db, fake_line):
    user, number = make_member("櫃檯申請")
    reader = client.post("/api/v1/admin/tokens", json={"name": "CRM", "scopes": ["members:read"]}, headers=ADMIN).get_json()["token"]
    as_reader = {"Authorization": f"Bearer {reader}"}
    assert client.get(f"/api/v1/admin/members/{number}/export", headers=as_reader).status_code == 403
    assert client.post(f"/api/v1/admin/members/{number}/erase", json={"reason": "x"}, headers=as_reader).status_code == 403

    export = client.get(f"/api/v1/admin/members/{number}/export", headers=ADMIN)
    assert export.status_code == 200 and export.get_json()["profile"]["display_name"] == "櫃檯申請"
    no_reason = client.post(f"/api/v1/admin/members/{number}/erase", json={}, headers=ADMIN)
    assert no_reason.status_code == 422 and no_reason.get_json()["code"] == "reason_required"
    done = client.post(f"/api/v1/admin/members/{number}/erase", json={"reason": "本人於信義店臨櫃申請"}, headers=ADMIN)
    assert done.status_code == 200 and done.get_json()["erased"] is True
    again = client.post(f"/api/v1/admin/members/{number}/erase", json={"reason": "重按"}, headers=ADMIN)
    assert again.status_code == 200 and again.get_json()["erased"] is False

    detail = client.get(f"/api/v1/admin/members/{number}", headers=ADMIN).get_json()
    assert detail["profile"]["erased_at"] and detail["profile"]["name"] is None and detail["profile"]["phone"] is None
    assert client.get("/api/v1/admin/members?q=櫃檯", headers=ADMIN).get_json()["total"] == 0
    assert client.post("/api/v1/admin/segments/preview", json={"rule": {}}, headers=ADMIN).get_json()["count"] == 0
    actions = [(a["action"], a["details"].get("via")) for a in client.get("/api/v1/admin/audit", headers=ADMIN).get_json()["entries"]]
    assert ("member.export", None) in actions and actions.count(("member.erase", "admin")) == 1


# --- retention ---------------------------------------------------------------------------------

def test_months_before_stays_in_the_month():
    utc = lambda *a: datetime(*a, tzinfo=UTC)  # noqa: E731 - Taipei is 8 hours ahead
    assert months_before(utc(2026, 8, 31, 4), 6).date().isoformat() == "2026-02-28"
    assert months_before(utc(2028, 8, 31, 4), 6).date().isoformat() == "2028-02-29"
    assert months_before(utc(2027, 1, 15, 4), 1).date().isoformat() == "2026-12-15"
    # 00:00 on 1 January in Taipei (still 31 December in UTC) → 00:00 on 1 December in Taipei
    assert months_before(utc(2026, 12, 31, 16), 1).isoformat() == "2026-11-30T16:00:00+00:00"


def test_retention_erases_members_blocked_and_idle_for_the_set_months(app, line, counter, make_member, clock, db, fake_line):
    counter.rule(stamps_per_visit=1)
    idle, active, back, recent = (make_member(name) for name in ("封鎖很久", "封鎖但有來", "回來了", "剛封鎖"))
    for user, _ in (idle, active, back):
        line.post(ev.unfollow_event(user))
    runner = app.test_cli_runner()
    clock.advance(days=100)
    counter.award(active[1], "R-1", visit=True)  # a purchase while blocking: active
    line.follow(back[0], unblocked=True)
    line.post(ev.unfollow_event(back[0]))  # blocked again, but recently
    line.post(ev.unfollow_event(recent[0]))
    clock.advance(days=100)
    assert "members_erased: off" in runner.invoke(args=["loyalty", "daily"]).output  # off unless set
    svc = app.extensions["loyalty"]
    svc.settings = svc.settings.with_overrides(erase_blocked_after_months=6)
    before = ledger_totals(db)
    out = runner.invoke(args=["loyalty", "daily"])
    assert out.exit_code == 0 and "members_erased: 1" in out.output, out.output
    assert member_row(db, member_no=idle[1]).erased_at is not None
    assert [member_row(db, member_no=n).erased_at for _, n in (active, back, recent)] == [None, None, None]
    assert ledger_totals(db) == before
    assert "members_erased: 0" in runner.invoke(args=["loyalty", "daily"]).output
    with db.sessions() as s:
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "member.erase")).one()
    assert (audit.actor, audit.details["via"]) == ("system:retention", "retention")


def test_erasure_takes_the_member_menu_off_their_line(app, line, client, make_member, fake_line, db):
    from models.outbox import RICHMENU_UNLINK, OutboxMessage
    from tests.test_richmenu_refollow import run_deploy

    menu = run_deploy(app).created["member-card"]
    in_chat, _ = make_member("聊天室")
    at_counter, number = make_member("櫃檯")
    assert fake_line.user_richmenus[in_chat] == menu and fake_line.user_richmenus[at_counter] == menu
    erase_in_chat(line, in_chat)
    assert client.post(f"/api/v1/admin/members/{number}/erase", json={"reason": "臨櫃申請"}, headers=ADMIN).status_code == 200
    assert in_chat not in fake_line.user_richmenus and at_counter not in fake_line.user_richmenus  # the guest menu shows again
    with db.sessions() as s:
        rows = list(s.scalars(select(OutboxMessage).where(OutboxMessage.purpose == RICHMENU_UNLINK)))
    assert [(r.status, r.messages) for r in rows] == [("sent", []), ("sent", [])]  # the LINE user ids are gone too


def test_retention_setting_is_read_and_bounded():
    import pytest

    from bot.config import ConfigError, Settings

    assert Settings.from_env({"APP_ENV": "test"}, dotenv=False).erase_blocked_after_months == 0  # off by default
    assert Settings.from_env({"APP_ENV": "test", "ERASE_BLOCKED_AFTER_MONTHS": "18"}, dotenv=False).erase_blocked_after_months == 18
    with pytest.raises(ConfigError, match="ERASE_BLOCKED_AFTER_MONTHS"):
        Settings.from_env({"APP_ENV": "test", "ERASE_BLOCKED_AFTER_MONTHS": "-1"}, dotenv=False)
