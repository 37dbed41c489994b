"""Editing 會員資料 in chat: phone, gender, and the birthday once. A one-question flow per field,
its state in the ``conversation`` row (as join's), so a half-finished edit survives redeliveries
and other workers.

    會員資料 ─► [修改手機] ─► phone ─► saved (or 清除手機號碼 → removed)
                              └► a waiting pre-member's phone ─► phone_claim: its claim code ─► merged, then saved
                                 (another LINE member's too → refused, asked again; no code → 取消, nothing changes)
             ─► [修改性別] ─► gender ─► saved (or 不提供 → removed)
             ─► [修改生日] ─► birthday ─► birthday_confirm ─► saved, the one change used up
    at any step: 取消 → nothing changes
                 input the step does not understand → friendly hint + the same question
                 another feature's button → a reminder + the same question
"""
from __future__ import annotations

from datetime import date

from linebot.v3.messaging import Message, PostbackAction

from handlers import Context, Input
from handlers.join import BIRTHDAY_RE, TAIPEI, Reject, verify_claim
from handlers.messages import action_bubble, date_picker, postback, text
from handlers.texts import Texts
from models.conversation import Conversation, advance, end_conversation, start_conversation
from models.errors import Conflict, DomainError
from models.premember import line_holder, merge_premember, waiting_premember
from models.profile import GENDERS, change_birthday, change_gender, change_phone, may_change_birthday, normalise_phone

FLOW = "profile"
EDIT = "profile_edit"  # postback: action=profile_edit&field=phone|gender|birthday (the 會員資料 buttons)
STEP_ACTION = "profile_step"  # postback of the flow's own buttons (v=…, or the date picker's date)
FIELDS = ("phone", "gender", "birthday")
CLEAR = "__clear__"


def _cancel(t: Texts) -> PostbackAction:
    return postback(t("cancel"), STEP_ACTION, v="cancel")


def _today(ctx: Context) -> date:
    return ctx.now.astimezone(TAIPEI).date()


def ask(ctx: Context, step: str, convo: Conversation | None = None) -> list[Message]:
    t, member = ctx.texts, ctx.member
    if step == "phone":
        quick = [_cancel(t)] + ([postback(t("profile_phone_clear"), STEP_ACTION, v=CLEAR)] if member.phone else [])
        return [text(t("profile_phone_ask"), quick=quick)]
    if step == "phone_claim":
        return [text(t("profile_claim_ask"), quick=[_cancel(t)])]
    if step == "gender":
        choices = [postback(t(f"gender_{g}"), STEP_ACTION, v=g) for g in GENDERS]
        return [text(t("profile_gender_ask"), quick=[*choices, postback(t("profile_gender_clear"), STEP_ACTION, v=CLEAR), _cancel(t)])]
    if step == "birthday":
        picker = date_picker(t("join_birthday_button"), STEP_ACTION, initial=member.birthday_on or date(1990, 1, 1),
                             max_=_today(ctx), min_=date(1900, 1, 1))
        body = t("profile_birthday_ask_change" if member.birthday_on else "profile_birthday_ask")
        return [action_bubble(t("profile_birthday_title"), body, [picker, _cancel(t)])]
    chosen = date.fromisoformat((convo.data if convo else {}).get("birthday", "1990-01-01"))
    key = "profile_birthday_confirm_change" if member.birthday_on else "profile_birthday_confirm"
    return [action_bubble(t("profile_birthday_title"), t(key, date=chosen.strftime("%Y/%m/%d")),
                          [postback(t("profile_birthday_yes"), STEP_ACTION, v="yes"), _cancel(t)])]


def start(inp: Input, ctx: Context) -> list[Message]:
    """A 會員資料 button: ask the field's question (or refuse a second birthday change)."""
    from handlers import profile

    t, member = ctx.texts, ctx.member
    field = inp.params.get("field", "")
    if not member.is_member:
        return profile.show_profile(inp, ctx)
    if field not in FIELDS:
        return [text(t("profile_edit_unknown")), *profile.show_profile(inp, ctx)]
    if field == "birthday" and not may_change_birthday(member):
        return [text(t("profile_birthday_used"))]
    convo = start_conversation(ctx.session, member, flow=FLOW, step=field, now=ctx.now)
    advance(ctx.session, convo, step=field, now=ctx.now)  # a flow already open moves to this field
    return ask(ctx, field)


def _value(inp: Input) -> str:
    if inp.action == STEP_ACTION:
        return inp.params.get("date") or inp.params.get("v", "")
    return (inp.text or "").strip()


def _done(ctx: Context, convo: Conversation, key: str, **values: str) -> list[Message]:
    from handlers import profile

    end_conversation(ctx.session, convo)
    return [text(ctx.texts(key, **values)), *profile.show_profile(Input(), ctx)]


def on_input(inp: Input, ctx: Context, convo: Conversation) -> list[Message]:
    t, member = ctx.texts, ctx.member
    step = convo.step
    value = _value(inp)
    if (inp.action == STEP_ACTION and value == "cancel") or (inp.action is None and value in (t("cancel"), "cancel")):
        end_conversation(ctx.session, convo)
        return [text(t("profile_edit_cancelled"))]
    if inp.action == EDIT:
        return start(inp, ctx)
    if inp.action not in (None, STEP_ACTION):  # another feature's button mid-edit
        return [text(t("profile_edit_resume")), *ask(ctx, step, convo)]
    try:
        if step == "phone":
            if value == CLEAR and inp.action == STEP_ACTION:
                change_phone(ctx.session, member, phone=None, now=ctx.now)
                return _done(ctx, convo, "profile_phone_cleared")
            phone = normalise_phone(value)
            if phone is None:
                return [text(t("profile_phone_bad")), *ask(ctx, step, convo)]
            pre = waiting_premember(ctx.session, phone)
            if pre is not None and pre.member_id != member.id:  # collected at the counter: as joining, only with its claim code
                if line_holder(ctx.session, phone, other_than=member.id) is not None:
                    return [text(t("profile_phone_in_use")), *ask(ctx, step, convo)]
                advance(ctx.session, convo, step="phone_claim", now=ctx.now, phone=phone)
                return ask(ctx, "phone_claim", convo)
            change_phone(ctx.session, member, phone=phone, now=ctx.now)
            return _done(ctx, convo, "profile_saved")
        if step == "phone_claim":
            return _claim(ctx, convo, value)
        if step == "gender":
            typed = {t(f"gender_{g}"): g for g in GENDERS}
            if value == CLEAR and inp.action == STEP_ACTION:
                change_gender(ctx.session, member, gender=None, now=ctx.now)
                return _done(ctx, convo, "profile_saved")
            gender = value if value in GENDERS else typed.get(value)
            if gender is None:
                return [text(t("profile_gender_bad")), *ask(ctx, step, convo)]
            change_gender(ctx.session, member, gender=gender, now=ctx.now)
            return _done(ctx, convo, "profile_saved")
        if step == "birthday":
            born = _parse_date(value)
            if born is None or not date(1900, 1, 1) <= born <= _today(ctx):
                return [text(t("profile_birthday_bad")), *ask(ctx, step, convo)]
            if born == member.birthday_on:
                return _done(ctx, convo, "profile_birthday_same")
            advance(ctx.session, convo, step="birthday_confirm", now=ctx.now, birthday=born.isoformat())
            return ask(ctx, "birthday_confirm", convo)
        if step == "birthday_confirm":
            if not (inp.action == STEP_ACTION and value == "yes") and value != t("profile_birthday_yes"):
                return [text(t("profile_birthday_confirm_hint")), *ask(ctx, step, convo)]
            born = date.fromisoformat(convo.data["birthday"])
            change_birthday(ctx.session, member, birthday_on=born, now=ctx.now, today=_today(ctx))
            return _done(ctx, convo, "profile_birthday_saved", date=born.strftime("%Y/%m/%d"))
    except DomainError as err:
        if err.code == "birthday_change_used":
            end_conversation(ctx.session, convo)
            return [text(t("profile_birthday_used"))]
        raise
    end_conversation(ctx.session, convo)  # a step this version does not know: start again from 會員資料
    return [text(t("profile_edit_unknown"))]


def _claim(ctx: Context, convo: Conversation, typed: str) -> list[Message]:
    """The claim code of the pre-member whose phone the member gave: the right one merges it (in this
    event's transaction, the member's row locked by the event) and saves the phone; a wrong one asks
    again (5 tries an hour per pre-member, shared with joining); too many end the edit unchanged."""
    t, member, phone = ctx.texts, ctx.member, (convo.data or {}).get("phone", "")
    pre = waiting_premember(ctx.session, phone)
    if pre is None:  # claimed or gone meanwhile: nothing to take over, the phone is just saved
        change_phone(ctx.session, member, phone=phone, now=ctx.now)
        return _done(ctx, convo, "profile_saved")
    try:
        verify_claim(ctx, pre, typed)
    except Reject as rejected:
        if rejected.key == "join_claim_locked":
            end_conversation(ctx.session, convo)
            return [text(t("profile_claim_locked"))]
        return [text(t("profile_claim_bad")), *ask(ctx, "phone_claim", convo)]
    try:
        merged = merge_premember(ctx.session, member=member, premember_id=pre.member_id, code_hash=pre.claim_code_hash or "", now=ctx.now)
    except Conflict:
        end_conversation(ctx.session, convo)
        return [text(t("profile_claim_failed"))]
    change_phone(ctx.session, member, phone=phone, now=ctx.now)
    return _done(ctx, convo, "profile_claim_merged", entries=str(merged.entries), coupons=str(merged.coupons))


def _parse_date(value: str) -> date | None:
    match = BIRTHDAY_RE.match(value.replace(" ", ""))
    if not match:
        return None
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def stale_button(inp: Input, ctx: Context) -> list[Message]:
    """A button of an edit that already ended (saved, cancelled, or redelivered afterwards)."""
    from handlers import profile

    return [text(ctx.texts("profile_edit_not_in_flow")), *profile.show_profile(inp, ctx)]
