"""The join flow: a table of named steps, its state in the ``conversation`` row.

    加入會員 ─► consent ─► birthday ─► phone (optional) ─► [claim] ─► gender (optional) ─► done
                  │ 不同意 → declined        │                 │ only when the phone is a pre-member's:
                  │                          │                 │ its claim code (optional), merged at done
                  │                          └ a pre-member's phone another LINE member gave → refused, asked again
    at any step: 取消 → cancelled (answers discarded)
                 input the step does not understand → friendly hint + the same question
                 加入會員 again → resume at the current step

Each step asks one question and parses one answer; answers are stored in the
conversation row in the same transaction as the step change, and copied onto
the member when the flow completes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Callable
from zoneinfo import ZoneInfo

from linebot.v3.messaging import Message, PostbackAction

from handlers import Context, Input
from handlers.messages import action_bubble, date_picker, postback, text, uri
from handlers.texts import Texts
from models.conversation import Conversation, advance, end_conversation, get_conversation, start_conversation
from models.coupon import CouponTemplate, issue_for_trigger
from models.member import Member, complete_join
from models.errors import Conflict
from models.premember import check_claim, line_holder, merge_premember, normalise_phone, waiting_premember
from models.throttle import TooManyAttempts, count_use

FLOW = "join"
STEP_ACTION = "join_step"  # postback action of the flow's own buttons
TAIPEI = ZoneInfo("Asia/Taipei")
SKIP = "__skip__"


class Reject(Exception):
    """The answer does not fit the step; ``key`` names the friendly reply."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class Step:
    name: str
    ask: Callable[[Context], list[Message]]
    parse: Callable[[Input, Context], Any]
    optional: bool = False
    applies: Callable[[dict[str, Any], Context], bool] | None = None  # None: always asked


# --- questions -------------------------------------------------------------------------

def _cancel(t: Texts) -> PostbackAction:
    return postback(t("cancel"), STEP_ACTION, v="cancel")


def _skip(t: Texts) -> PostbackAction:
    return postback(t("skip"), STEP_ACTION, v=SKIP)


def ask_consent(ctx: Context) -> list[Message]:
    t, s = ctx.texts, ctx.settings
    return [
        action_bubble(
            t("join_consent_title"),
            t("join_consent_body", version=s.terms_version),
            [
                postback(t("join_consent_yes"), STEP_ACTION, v="yes"),
                postback(t("join_consent_no"), STEP_ACTION, v="no"),
                uri(t("join_consent_read"), f"{s.public_base_url}/terms?version={s.terms_version}"),
            ],
        )
    ]


def ask_birthday(ctx: Context) -> list[Message]:
    t = ctx.texts
    today = ctx.now.astimezone(TAIPEI).date()
    picker = date_picker(
        t("join_birthday_button"), STEP_ACTION, initial=date(1990, 1, 1), max_=today, min_=date(1900, 1, 1)
    )
    return [action_bubble(t("join_birthday_title"), t("join_birthday_ask"), [picker, _cancel(t)])]


def ask_phone(ctx: Context) -> list[Message]:
    t = ctx.texts
    return [text(t("join_phone_ask"), quick=[_skip(t), _cancel(t)])]


def ask_claim(ctx: Context) -> list[Message]:
    t = ctx.texts
    return [text(t("join_claim_ask"), quick=[_skip(t), _cancel(t)])]


def ask_gender(ctx: Context) -> list[Message]:
    t = ctx.texts
    choices = [postback(t(f"gender_{g}"), STEP_ACTION, v=g) for g in ("male", "female", "other")]
    return [text(t("join_gender_ask"), quick=[*choices, _skip(t), _cancel(t)])]


# --- answers ---------------------------------------------------------------------------

def _value(inp: Input) -> str:
    """A button's value, or what the member typed."""
    if inp.action == STEP_ACTION:
        return inp.params.get("date") or inp.params.get("v", "")
    return inp.text or ""


def parse_consent(inp: Input, ctx: Context) -> Any:
    value = _value(inp)
    if value in ("yes", "同意", ctx.texts("join_consent_yes")):
        return {"terms_version": ctx.settings.terms_version, "consented_at": ctx.now.isoformat()}
    if value in ("no", ctx.texts("join_consent_no")):
        raise Reject("declined")
    raise Reject("join_consent_hint")


BIRTHDAY_RE = re.compile(r"^(\d{4})[-/.年]?(\d{1,2})[-/.月]?(\d{1,2})日?$")


def parse_birthday(inp: Input, ctx: Context) -> Any:
    match = BIRTHDAY_RE.match(_value(inp).replace(" ", ""))
    if not match:
        raise Reject("join_birthday_bad")
    try:
        born = date(*(int(g) for g in match.groups()))
    except ValueError as exc:
        raise Reject("join_birthday_bad") from exc
    if born > ctx.now.astimezone(TAIPEI).date():
        raise Reject("join_birthday_future")
    if born.year < 1900:
        raise Reject("join_birthday_bad")
    return born.isoformat()


def parse_phone(inp: Input, ctx: Context) -> Any:
    phone = normalise_phone(_value(inp))
    if phone is None:
        raise Reject("join_phone_bad")
    if waiting_premember(ctx.session, phone) is not None and line_holder(ctx.session, phone, other_than=ctx.member.id) is not None:
        raise Reject("join_phone_in_use")  # a pre-member's phone another LINE member gave: never two people merged
    return phone


CLAIM_TRIES, CLAIM_WINDOW = 5, timedelta(hours=1)


def has_premember(answers: dict[str, Any], ctx: Context) -> bool:
    return bool(answers.get("phone")) and waiting_premember(ctx.session, answers["phone"]) is not None


def parse_claim(inp: Input, ctx: Context) -> Any:
    """The pre-member's claim code: 5 tries an hour per pre-member (whoever types them), so a
    stranger who knows the phone cannot walk the 10^8 codes. Checked here, merged at done."""
    convo = get_conversation(ctx.session, ctx.member)
    phone = ((convo.data or {}) if convo else {}).get("phone")
    pre = waiting_premember(ctx.session, phone) if phone else None
    if pre is None:
        return None  # claimed or gone meanwhile: nothing to take over
    verify_claim(ctx, pre, _value(inp))
    return {"premember_id": pre.member_id, "code_hash": pre.claim_code_hash}


def verify_claim(ctx: Context, pre: Any, typed: str) -> None:
    """The claim code typed for ``pre``, counted against its 5 tries an hour (joining and the profile's
    phone change share them); Reject join_claim_locked or join_claim_bad."""
    try:
        count_use(ctx.session, f"premember-claim:{pre.member_id}", limit=CLAIM_TRIES, window=CLAIM_WINDOW, now=ctx.now)
    except TooManyAttempts as exc:
        raise Reject("join_claim_locked") from exc
    if not check_claim(ctx.session, pre, typed):
        raise Reject("join_claim_bad")


GENDERS = {"male": "male", "female": "female", "other": "other"}


def parse_gender(inp: Input, ctx: Context) -> Any:
    value = _value(inp)
    typed = {ctx.texts(f"gender_{g}"): g for g in GENDERS}
    if value in GENDERS:
        return value
    if value in typed:
        return typed[value]
    raise Reject("join_gender_bad")


STEPS: list[Step] = [
    Step("consent", ask_consent, parse_consent),
    Step("birthday", ask_birthday, parse_birthday),
    Step("phone", ask_phone, parse_phone, optional=True),
    Step("claim", ask_claim, parse_claim, optional=True, applies=has_premember),
    Step("gender", ask_gender, parse_gender, optional=True),
]
BY_NAME = {s.name: s for s in STEPS}


def _next(step: Step, answers: dict[str, Any], ctx: Context) -> Step | None:
    for later in STEPS[STEPS.index(step) + 1:]:
        if later.applies is None or later.applies(answers, ctx):
            return later
    return None


# --- entry points ----------------------------------------------------------------------

def join_invitation(t: Texts) -> Message:
    return action_bubble(t("join_card_title"), t("join_card_body"), [postback(t("join_button"), "join")])


def start(inp: Input, ctx: Context) -> list[Message]:
    member = ctx.member
    if member.is_member:
        return [text(ctx.texts("join_already_member", member_no=member.member_no))]
    first = STEPS[0]
    start_conversation(ctx.session, member, flow=FLOW, step=first.name, now=ctx.now)
    return first.ask(ctx)


def _is_cancel(inp: Input, ctx: Context) -> bool:
    if inp.action == STEP_ACTION:
        return inp.params.get("v") == "cancel"
    return (inp.text or "") in (ctx.texts("cancel"), "cancel")


def _is_skip(inp: Input, ctx: Context) -> bool:
    if inp.action == STEP_ACTION:
        return inp.params.get("v") == SKIP
    return (inp.text or "") in (ctx.texts("skip"), "skip")


def on_input(inp: Input, ctx: Context, convo: Conversation) -> list[Message]:
    t = ctx.texts
    step = BY_NAME.get(convo.step, STEPS[0])
    if _is_cancel(inp, ctx):
        end_conversation(ctx.session, convo)
        return [text(t("join_cancelled"))]
    if inp.action in ("join",) or inp.text == t("menu_join"):
        return [text(t("join_resume")), *step.ask(ctx)]
    if step.optional and _is_skip(inp, ctx):
        answer = None
    elif inp.action not in (None, STEP_ACTION):  # another feature's button mid-flow
        return [text(t("join_resume")), *step.ask(ctx)]
    else:
        try:
            answer = step.parse(inp, ctx)
        except Reject as rejected:
            if rejected.key == "declined":
                end_conversation(ctx.session, convo)
                return [text(t("join_consent_declined"))]
            return [text(t(rejected.key)), *step.ask(ctx)]
    answers = {**(convo.data or {}), step.name: answer}
    nxt = _next(step, answers, ctx)
    if nxt is not None:
        advance(ctx.session, convo, step=nxt.name, now=ctx.now, **{step.name: answer})
        return nxt.ask(ctx)
    return _finish(ctx, convo, answers)


def _finish(ctx: Context, convo: Conversation, answers: dict[str, Any]) -> list[Message]:
    from handlers import card, referral
    from models.richmenu import link_member_menu

    consent = answers["consent"]
    member = complete_join(
        ctx.session,
        ctx.member,
        now=ctx.now,
        birthday_on=date.fromisoformat(answers["birthday"]),
        terms_version=consent["terms_version"],
        consented_at=datetime.fromisoformat(consent["consented_at"]),
        phone=answers.get("phone"),
        gender=answers.get("gender"),
    )
    claimed = _take_over(ctx, member, answers.get("claim"))
    end_conversation(ctx.session, convo)
    link_member_menu(ctx.session, member, now=ctx.now)  # the member menu (or the tier's), right after this event commits
    welcome = issue_for_trigger(ctx.session, trigger="welcome", member_id=member.id, occasion="welcome", now=ctx.now)
    done = text(ctx.texts("join_done", member_no=member.member_no))
    gifts = [text(ctx.texts("coupon_welcome", name=_template_name(ctx, c.template_id))) for c in welcome[:1]]
    return [done, *claimed, *card.show_card(Input(), ctx), *gifts, *referral.on_joined(ctx, member)]


def _take_over(ctx: Context, member: Member, claim: dict[str, Any] | None) -> list[Message]:
    """The pre-member whose claim code the member gave becomes theirs, in this event's transaction."""
    if not claim:
        return []
    try:
        merged = merge_premember(ctx.session, member=member, premember_id=int(claim["premember_id"]), code_hash=claim["code_hash"], now=ctx.now)
    except Conflict:
        return [text(ctx.texts("join_claim_failed"))]
    return [text(ctx.texts("join_claim_merged", entries=merged.entries, coupons=merged.coupons))]


def _template_name(ctx: Context, template_id: int) -> str:
    template = ctx.session.get(CouponTemplate, template_id)
    return template.name if template else ""


def stale_button(inp: Input, ctx: Context) -> list[Message]:
    """A join button tapped after the flow ended: say so, and offer what makes sense."""
    from handlers import help

    if ctx.member.is_member:
        return [text(ctx.texts("join_already_member", member_no=ctx.member.member_no))]
    return [text(ctx.texts("join_not_in_flow")), *help.show_help(inp, ctx)]
