"""Following again links a member's rich menu: a deploy links only reachable members, and a tier
change's link is skipped while the member blocks the account, so the re-follow puts it right
(through the outbox, after the event's transaction commits, as joining and tier changes do)."""
from __future__ import annotations

import re

from sqlalchemy import select

from bot.dev import lineevents as ev
from bot.jobs.daily import run_daily
from models.member import Member
from models.outbox import RICHMENU, OutboxMessage
from richmenus.deploy import deploy, prepare
from tests.conftest import all_text

USER_LINK = re.compile(r"^/v2/bot/user/[^/]+/richmenu/[^/]+$")


def run_deploy(app):  # type: ignore[no-untyped-def]
    svc = app.extensions["loyalty"]
    return deploy(svc.line, svc.db, now=svc.now, echo=lambda _: None, menus=prepare())


def links_of(fake_line, user) -> list[str]:  # type: ignore[no-untyped-def]
    """The rich menu ids linked to this user one by one, in order."""
    return [r.path.rsplit("/", 1)[1] for r in fake_line.requests(USER_LINK, method="POST") if f"/user/{user}/" in r.path]


def richmenu_rows(db, user) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    with db.sessions() as s:
        member_id = s.scalar(select(Member.id).where(Member.line_user_id == user))
        return [(r.messages[0]["richMenuId"], r.status) for r in s.scalars(
            select(OutboxMessage).where(OutboxMessage.member_id == member_id, OutboxMessage.purpose == RICHMENU).order_by(OutboxMessage.id))]


def test_a_member_blocked_during_the_first_deploy_gets_the_member_menu_on_following_again(app, line, make_member, fake_line, db):
    user, _ = make_member()  # joined before any deploy: nothing to link then
    line.post(ev.unfollow_event(user))
    report = run_deploy(app)
    assert report.linked == {} and user not in fake_line.user_richmenus  # the deploy skips blocked members
    line.follow(user, unblocked=True)
    assert "歡迎回來" in all_text(line.last(user))
    menu = report.created["member-card"]
    assert fake_line.user_richmenus[user] == menu
    assert links_of(fake_line, user) == [menu]
    assert richmenu_rows(db, user) == [(menu, "sent")]


def test_a_tier_member_gets_the_tiers_variant_on_following_again(app, line, tiers, counter, make_member, fake_line):
    user, number = make_member()
    counter.award(number, "R-1", amount=10000)  # gold, before any deploy: no menu to link yet
    line.post(ev.unfollow_event(user))
    report = run_deploy(app)
    line.follow(user, unblocked=True)
    assert fake_line.user_richmenus[user] == report.created["tier-gold"]


def test_a_tier_change_missed_while_blocked_is_linked_on_following_again(app, line, tiers, counter, make_member, fake_line, db, clock):
    report = run_deploy(app)
    user, number = make_member()
    counter.award(number, "R-1", amount=10000)
    assert fake_line.user_richmenus[user] == report.created["tier-gold"]
    line.post(ev.unfollow_event(user))
    clock.advance(days=366)
    run_daily(app.extensions["loyalty"])  # gold ends while the member blocks: the relink is skipped
    assert fake_line.user_richmenus[user] == report.created["tier-gold"]
    assert richmenu_rows(db, user)[-1] == (report.created["member-card"], "skipped")
    line.follow(user, unblocked=True)
    assert fake_line.user_richmenus[user] == report.created["member-card"]
    assert richmenu_rows(db, user)[-1] == (report.created["member-card"], "sent")


def test_a_guest_following_again_keeps_the_default_menu(app, line, fake_line):
    run_deploy(app)
    guest = line.user()
    line.follow(guest)
    line.post(ev.unfollow_event(guest))
    line.follow(guest, unblocked=True)
    assert "加入會員" in all_text(line.last(guest))
    assert links_of(fake_line, guest) == [] and guest not in fake_line.user_richmenus


def test_following_again_without_deployed_menus_links_nothing(line, make_member, fake_line, db):
    user, _ = make_member()
    line.post(ev.unfollow_event(user))
    line.follow(user, unblocked=True)
    assert fake_line.requests(USER_LINK) == [] and richmenu_rows(db, user) == []
