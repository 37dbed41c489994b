"""Tiers through time with a controllable clock: upgrade at once, keep, downgrade at the period's end, remind once."""
from __future__ import annotations

import pytest

from sqlalchemy import select

from models.member import Member
from models.tier import TierChange
from tests.conftest import all_text


def tier_of(client, counter, number):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/scan", json={"member_no": number}, headers=counter.cashier).get_json()["tier"]


def changes(db, number):  # type: ignore[no-untyped-def]
    with db.sessions() as s:
        member_id = s.scalar(select(Member.id).where(Member.member_no == number))
        return [(c.kind, c.reason.split(":")[0]) for c in s.scalars(select(TierChange).where(TierChange.member_id == member_id).order_by(TierChange.id))]


def test_upgrade_happens_with_the_award_that_crosses_the_line(client, counter, tiers, make_member, fake_line, db):
    user, number = make_member()
    counter.rule(amount_per_point="10", stamps_per_visit=0)
    assert tier_of(client, counter, number) == "一般會員"
    counter.award(number, "R-1", amount=2500)
    assert tier_of(client, counter, number) == "一般會員"
    resp = counter.award(number, "R-2", amount=600).get_json()
    assert resp["award"]["tier_change"] == {"kind": "upgrade", "tier": "silver"}
    assert resp["award"]["points"] == 60  # the award that qualifies is earned at the old rate
    assert tier_of(client, counter, number) == "銀卡"
    assert "恭喜升級為「銀卡」" in all_text(fake_line.messages_to(user)[-1]["messages"])
    assert counter.award(number, "R-3", amount=100).get_json()["award"]["points"] == 15  # 1.5x from now on
    assert changes(db, number) == [("upgrade", "qualified")]


@pytest.mark.usefixtures("business_hours")  # the daily job's pushes are sent now, not held by quiet hours
def test_keep_downgrade_and_one_reminder_through_a_year(app, client, counter, tiers, make_member, fake_line, clock, db):
    user, number = make_member()
    counter.award(number, "R-1", amount=3200)  # silver until now + 365 days
    runner = app.test_cli_runner()
    clock.advance(days=300)
    counter.award(number, "R-2", amount=500)  # inside the window: helps keep silver
    clock.advance(days=40)  # 25 days before the period ends: reminder window (30 days)
    out = runner.invoke(args=["loyalty", "daily"])
    assert out.exit_code == 0, out.output
    reminders = [d for d in fake_line.messages_to(user) if "即可保級" in all_text(d["messages"])]
    assert len(reminders) == 1
    # at the period's end only the NT$500 still counts: NT$2,500 short of silver
    assert "再消費 NT$2,500 即可保級" in all_text(reminders[0]["messages"])
    runner.invoke(args=["loyalty", "daily"])
    assert len([d for d in fake_line.messages_to(user) if "即可保級" in all_text(d["messages"])]) == 1  # once
    clock.advance(days=26)  # the period ended; the first purchase left the window: 500 < 3,000
    runner.invoke(args=["loyalty", "daily"])
    assert tier_of(client, counter, number) == "一般會員"
    assert "已調整為「一般會員」" in all_text(fake_line.messages_to(user)[-1]["messages"])
    assert changes(db, number) == [("upgrade", "qualified"), ("downgrade", "period end")]
    runner.invoke(args=["loyalty", "daily"])
    assert changes(db, number) == [("upgrade", "qualified"), ("downgrade", "period end")]  # twice is harmless


def test_period_end_renews_when_still_qualified(app, client, counter, tiers, make_member, clock, db, fake_line):
    user, number = make_member()
    counter.award(number, "R-1", amount=3000)
    clock.advance(days=200)
    counter.award(number, "R-2", amount=3000)
    clock.advance(days=150)
    app.test_cli_runner().invoke(args=["loyalty", "daily"])
    assert not [d for d in fake_line.messages_to(user) if "即可保級" in all_text(d["messages"])]  # already kept
    clock.advance(days=16)
    app.test_cli_runner().invoke(args=["loyalty", "daily"])
    assert tier_of(client, counter, number) == "銀卡"
    assert changes(db, number) == [("upgrade", "qualified"), ("renew", "period end")]


def test_no_downgrade_before_the_period_ends(app, client, counter, tiers, make_member, clock):
    _, number = make_member()
    counter.award(number, "R-1", amount=3000)
    clock.advance(days=364)
    app.test_cli_runner().invoke(args=["loyalty", "daily"])
    assert tier_of(client, counter, number) == "銀卡"


def test_benefits_carousel_highlights_own_tier_and_progress(line, client, counter, tiers, make_member, fake_line):
    user, number = make_member()
    counter.award(number, "R-1", amount=3400)
    line.say(user, "會員權益")
    message = line.last(user)[0]
    assert message["type"] == "flex" and message["contents"]["type"] == "carousel"
    first = all_text([message["contents"]["contents"][0]])
    assert "銀卡" in first and "目前等級" in first and "再消費 NT$6,600 即可升級金卡" in first
    assert len(message["contents"]["contents"]) == 3
    line.say(user, "會員卡")
    assert "銀卡" in all_text(line.last(user))


def test_tier_admin_validation(client, counter, tiers):
    bad = client.post("/api/v1/admin/tiers", json={"code": "x", "name": "X", "rank": 5, "metric": "age"}, headers=counter.admin)
    assert bad.status_code == 422 and bad.get_json()["details"]["field"] == "metric"
    dup = client.post("/api/v1/admin/tiers", json={"code": "gold", "name": "G", "rank": 9}, headers=counter.admin)
    assert dup.status_code == 409 and dup.get_json()["code"] == "tier_exists"
    changed = client.put("/api/v1/admin/tiers/gold", json={"threshold": 8000}, headers=counter.admin)
    assert changed.status_code == 200 and changed.get_json()["threshold"] == "8000"


def test_tier_change_links_the_tiers_rich_menu(app, client, counter, tiers, make_member, fake_line):
    from io import BytesIO

    from linebot.v3.messaging import RichMenuArea, RichMenuBounds, RichMenuRequest, RichMenuSize, PostbackAction
    from PIL import Image

    line_api = app.extensions["loyalty"].line
    menu = line_api.api.create_rich_menu(RichMenuRequest(
        size=RichMenuSize(width=2500, height=843), selected=False, name="silver", chat_bar_text="銀卡選單",
        areas=[RichMenuArea(bounds=RichMenuBounds(x=0, y=0, width=2500, height=843), action=PostbackAction(data="action=card"))],
    )).rich_menu_id
    png = BytesIO()
    Image.new("RGB", (2500, 843), "#8A8D91").save(png, format="PNG")
    line_api.blob.set_rich_menu_image(menu, png.getvalue(), _headers={"Content-Type": "image/png"})
    client.put("/api/v1/admin/tiers/silver", json={"richmenu_id": menu}, headers=counter.admin)
    user, number = make_member()
    counter.award(number, "R-1", amount=3000)
    assert fake_line.user_richmenus.get(user) == menu
