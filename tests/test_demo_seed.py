"""`make demo` seeds a believable café through the domain's own functions: tiers with a menu for the
top one, coupon templates, automations switched on, and members with a year of history, so the
dashboard, RFM/NES, 會員權益 and the welcome coupon all show something on a fresh demo."""
from __future__ import annotations

from sqlalchemy import func, select

from bot.dev import demo
from tests.conftest import ADMIN_TOKEN, all_text

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_the_demo_is_a_cafe_with_a_year_of_members(app, client, db):
    from models.journey import Journey, JourneyRun
    from models.ledger import LedgerEntry, balances
    from models.member import Member
    from models.outbox import OutboxMessage

    demo.seed(app, members=40)

    tiers = client.get("/api/v1/admin/tiers", headers=ADMIN).get_json()["tiers"]
    assert [t["name"] for t in sorted(tiers, key=lambda t: t["rank"])] == ["一般會員", "銀卡會員", "金卡會員"]
    templates = client.get("/api/v1/admin/coupon-templates", headers=ADMIN).get_json()["templates"]
    assert {"welcome", "birthday", "stamp_card", "tier_upgrade"} <= {t["trigger"] for t in templates}
    with db.sessions() as s:
        assert set(s.scalars(select(Journey.kind).where(Journey.enabled.is_(True)))) >= {"welcome", "birthday", "winback", "tier_up"}
        assert s.scalar(select(func.count()).select_from(JourneyRun)) == 0  # history made no automations' sends
        assert s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")) == 0
        members = list(s.scalars(select(Member).where(Member.joined_at.is_not(None))))
        assert len(members) == 40
        for member in members:  # every balance is the sum of its ledger, and never negative
            for currency, held in balances(s, member.id).items():
                total = s.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                    LedgerEntry.member_id == member.id, LedgerEntry.currency == currency))
                assert held == total >= 0
        assert any(m.tier_id for m in members), "a year of purchases lifts someone above 一般會員"

    board = client.get("/api/v1/admin/dashboard", headers=ADMIN).get_json()
    assert board["members"]["total"] == 40
    assert board["visitors"] > 0 and board["regulars"] > 0 and float(board["revenue"]) > 0  # the last 30 days
    assert sum(1 for day in board["trend"] if day["visits"]) > 10
    assert {s["code"] for s in board["top_stores"]} == {"DEMO", "DEMO2"}
    overview = client.get("/api/v1/admin/segments/overview", headers=ADMIN).get_json()
    assert sum(overview["rfm"].values()) > 20  # most members bought in the last year
    assert sum(overview["nes"].values()) > 20

    demo.seed(app, members=40)  # a second start leaves the café as it was
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Member)) == 40


def test_the_empty_option_starts_with_the_store_only(app, client, db):
    from models.member import Member

    demo.seed(app, empty=True)
    assert client.get("/api/v1/admin/tiers", headers=ADMIN).get_json()["tiers"] == []
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Member)) == 0
    assert client.post("/api/v1/auth/login", json={"username": "cashier", "password": "demo1234"}).status_code == 200


def test_a_new_friend_on_the_demo_gets_the_welcome_coupon_and_sees_the_tiers(app, line, business_hours):
    demo.seed(app, members=5)
    user = line.user("小安")
    line.join(user)
    assert "新會員 NT$50 折價券" in all_text(line.replies(user))
    line.say(user, "會員權益")
    benefits = all_text(line.last(user))
    assert "目前還沒有設定會員等級" not in benefits
    assert "銀卡會員" in benefits and "金卡會員" in benefits
