"""Consumers in chat: follow, unfollow, re-follow, and every step of the join flow."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from models.conversation import Conversation
from models.member import FollowLog, Member, is_valid_member_no
from tests.conftest import all_text


def member(db, user_id: str) -> Member:  # type: ignore[no-untyped-def]
    with db.sessions() as s:
        return s.scalars(select(Member).where(Member.line_user_id == user_id)).one()


def step(db, user_id: str) -> str | None:  # type: ignore[no-untyped-def]
    with db.sessions() as s:
        m = s.scalars(select(Member).where(Member.line_user_id == user_id)).one()
        convo = s.get(Conversation, m.id)
        return convo.step if convo else None


def test_follow_records_profile_and_greets_with_join_button(line, db, fake_line):
    user = line.user("王小美")
    line.follow(user)
    m = member(db, user)
    assert m.display_name == "王小美" and m.is_reachable and not m.is_member
    assert len(fake_line.requests(path=f"/v2/bot/profile/{user}")) == 1
    sent = all_text(line.replies(user))
    assert "王小美您好" in sent and "立即加入會員" in sent and "action=join" in sent


def test_follow_without_profile_still_records_friend(line, db, fake_line):
    from bot.dev import lineevents as ev

    user = ev.new_user_id()  # LINE gives no profile for this user (404)
    assert line.follow(user).status_code == 200
    assert member(db, user).display_name is None
    assert "朋友您好" in all_text(line.replies(user))


def test_unfollow_marks_unreachable_and_keeps_history(line, db):
    user = line.user()
    line.join(user)
    line.post(__import__("bot.dev.lineevents", fromlist=["x"]).unfollow_event(user))
    m = member(db, user)
    assert not m.is_reachable and m.unfollowed_at is not None
    assert m.is_member and m.member_no  # membership kept
    with db.sessions() as s:
        kinds = [k for k in s.scalars(select(FollowLog.kind).where(FollowLog.member_id == m.id).order_by(FollowLog.id))]
    assert kinds == ["follow", "unfollow"]


def test_refollow_welcomes_back_with_membership_intact(line, db):
    from bot.dev import lineevents as ev

    user = line.user("阿華")
    line.join(user)
    number = member(db, user).member_no
    line.post(ev.unfollow_event(user))
    line.follow(user, unblocked=True)
    m = member(db, user)
    assert m.is_reachable and m.member_no == number
    assert "歡迎回來" in all_text(line.last(user)) and "會員資格" in all_text(line.last(user))


def test_complete_join_flow_gives_member_number_and_card(line, db, clock):
    user = line.user("林小姐")
    line.follow(user)
    line.tap(user, "action=join")
    assert step(db, user) == "consent"
    assert "會員條款" in all_text(line.last(user))
    line.tap(user, "action=join_step&v=yes")
    assert step(db, user) == "birthday"
    assert '"mode": "date"' in all_text(line.last(user))
    line.tap(user, "action=join_step", {"date": "1992-02-29"})
    assert step(db, user) == "phone"
    line.say(user, "0912-345-678")
    assert step(db, user) == "gender"
    line.tap(user, "action=join_step&v=female")
    m = member(db, user)
    assert step(db, user) is None
    assert m.is_member and is_valid_member_no(m.member_no or "")
    assert (m.birthday_on, m.phone, m.gender) == (date(1992, 2, 29), "0912345678", "female")
    assert m.terms_version == "2026-01" and m.consented_at == clock.now
    done = all_text(line.last(user))
    assert m.member_no in done and "會員卡" in done and "/qr/" in done


def test_optional_steps_can_be_skipped(line, db):
    user = line.user()
    line.follow(user)
    line.say(user, "加入會員")
    line.say(user, "同意")
    line.say(user, "1988/7/1")
    line.say(user, "略過")
    line.tap(user, "action=join_step&v=__skip__")
    m = member(db, user)
    assert m.is_member and m.phone is None and m.gender is None and m.birthday_on == date(1988, 7, 1)


def test_bad_phone_gets_friendly_reply_and_same_question(line, db):
    user = line.user()
    line.follow(user)
    line.tap(user, "action=join")
    line.tap(user, "action=join_step&v=yes")
    line.tap(user, "action=join_step", {"date": "1990-01-01"})
    line.say(user, "12345")
    assert step(db, user) == "phone"
    reply = all_text(line.last(user))
    assert "格式不太對" in reply and "請輸入您的手機號碼" in reply
    assert member(db, user).phone is None


def test_future_birthday_is_refused(line, db, clock):
    user = line.user()
    line.follow(user)
    line.tap(user, "action=join")
    line.tap(user, "action=join_step&v=yes")
    line.tap(user, "action=join_step", {"date": (clock.today() + timedelta(days=1)).isoformat()})
    assert step(db, user) == "birthday"
    assert "未來" in all_text(line.last(user))
    line.say(user, "生日快樂")
    assert step(db, user) == "birthday"
    assert "看不懂" in all_text(line.last(user))


def test_cancel_mid_flow_discards_answers(line, db):
    user = line.user()
    line.follow(user)
    line.tap(user, "action=join")
    line.tap(user, "action=join_step&v=yes")
    line.tap(user, "action=join_step", {"date": "1990-01-01"})
    line.say(user, "取消")
    m = member(db, user)
    assert step(db, user) is None and not m.is_member and m.birthday_on is None
    assert "已取消" in all_text(line.last(user))


def test_declining_consent_ends_the_flow(line, db):
    user = line.user()
    line.follow(user)
    line.tap(user, "action=join")
    line.tap(user, "action=join_step&v=no")
    assert step(db, user) is None and not member(db, user).is_member


def test_join_resumes_where_it_stopped(line, db):
    user = line.user()
    line.follow(user)
    line.tap(user, "action=join")
    line.tap(user, "action=join_step&v=yes")
    line.say(user, "會員卡")  # another command mid-flow: treated as an answer, gently refused
    assert step(db, user) == "birthday"
    line.tap(user, "action=join")
    assert step(db, user) == "birthday"
    assert "接著上次" in all_text(line.last(user))


def test_consent_step_repeats_on_unrelated_text(line, db):
    user = line.user()
    line.follow(user)
    line.tap(user, "action=join")
    line.say(user, "你好")
    assert step(db, user) == "consent"
    assert "同意並繼續" in all_text(line.last(user))


def test_already_member_is_told_so(line, db):
    user = line.user()
    line.join(user)
    line.say(user, "加入會員")
    assert "已經是會員" in all_text(line.last(user))


def test_other_text_gets_help_with_quick_replies(line):
    user = line.user()
    line.follow(user)
    line.say(user, "今天有開嗎")
    last = line.last(user)
    assert last[0]["type"] == "text" and "quickReply" in last[0]
    labels = [i["action"]["label"] for i in last[0]["quickReply"]["items"]]
    assert "會員卡" in labels and "加入會員" in labels
