"""The cashier and POS API (/api/v1): sign in, scan, award, redeem, claim codes, corrections.

Each route parses input, makes one domain call, serialises, commits; pushes go out after commit.
"""
from __future__ import annotations

from datetime import timedelta

from dataclasses import replace

from flask import Blueprint, g

from bot.api.util import decimal_str, json_body, parse_amount, parse_int, parse_str
from bot.api.auth import client_address, current_actor, issue_staff_token, require_actor
from bot.api.confirmation import ask_member
from bot.api.corrections import counter_person, submitted_answer
from bot.jobs.outbox import enqueue_award_push, enqueue_redemption_push, send_after_response
from bot.services import services
from models.card import read_card_token
from models.claim import award_at_counter, create_claim, format_code
from models.errors import Conflict, InvalidInput
from models.correction import submit_correction
from models.ledger import recent_entries
from models.journey import runs_queued_in
from models.outbox import queued_in
from models.member import Member, get_by_member_no, refuse_erased
from models.premember import create_premember, format_claim, lookup_phone, require_phone
from models.confirmation import Asked, redeem_or_ask, use_or_ask
from models.reward import list_items
from models.rule import get_rule
from models.shift import check_repeat_visit
from models.store import Actor, AuthError, Staff, Store, authenticate_staff
from models.throttle import count_use
from bot.api.serialize import entry_json, member_summary

bp = Blueprint("cashier_api", __name__, url_prefix="/api/v1")


def identify(body: dict) -> tuple[Member, Actor]:  # type: ignore[type-arg]
    """The member named by a card QR token, by a member number typed by hand, or by a phone number
    (``phone``, or a phone typed into ``member_no``: member numbers never start with 0 or +), and
    the caller acting on them with that identification (``Actor.identified_by``: qr, number or
    phone), which every entry the request writes records and which decides whether it may spend."""
    svc, method = services(), "number"
    token, number, phone = body.get("token"), body.get("member_no"), body.get("phone")
    typed = number.strip() if isinstance(number, str) else ""
    if isinstance(token, str) and token.strip():
        number = read_card_token(
            svc.settings.secret_key, token.strip(), now=svc.now(), max_age=svc.settings.card_token_ttl_seconds
        )
        method = "qr"
    elif typed[:1] in ("0", "+") or (phone is not None and not typed):
        return _by_phone(typed or phone), current_actor().identifying("phone")
    elif typed:
        _count_typed_number()
    if not isinstance(number, str) or not number.strip():
        raise InvalidInput("Send the card's token, a member_no or a phone", code="member_required")
    member = refuse_erased(get_by_member_no(g.db, number.strip()))  # 410 member_erased; the award refuses again under the lock
    return member, current_actor().identifying(method)


PHONE_STAFF_LIMIT, PHONE_STORE_LIMIT, PHONE_WINDOW = 30, 120, timedelta(minutes=10)


def count_phone_lookup() -> None:
    """A phone number is personal and guessable: look-ups by phone count per credential (30 in
    10 minutes) and per store (120), committed at once like a typed number's."""
    actor, svc = current_actor(), services()
    try:
        for key, limit in ((f"phone:{actor.kind}:{actor.staff_id or actor.api_key_id}", PHONE_STAFF_LIMIT),
                           (f"phone-store:{actor.store_id}", PHONE_STORE_LIMIT)):
            count_use(g.db, key, limit=limit, window=PHONE_WINDOW, now=svc.now(), what="phone look-ups",
                      hint="scan the member's QR code or type the member number, or wait")
    finally:
        g.db.commit()


def _by_phone(raw: object) -> Member:
    """The one member with this phone (404 member_not_found, 409 phone_ambiguous), rate-limited and
    audited (a phone_lookup row, committed even when refused)."""
    phone = require_phone(raw)
    count_phone_lookup()
    svc = services()
    try:
        return lookup_phone(g.db, phone=phone, actor=current_actor(), secret=svc.settings.secret_key, now=svc.now())
    finally:
        g.db.commit()


def refuse_premember_spend(member: Member) -> None:
    """A pre-member has no LINE to confirm a spend in: it spends after joining."""
    if not member.in_line:
        raise Conflict("This customer collects before joining in LINE: spending starts once they join with the claim code",
                       code="premember_cannot_spend")


def summary_for(member: Member, actor: Actor | None) -> dict:  # type: ignore[type-arg]
    """The member as the counter sees them: coupon codes only to a caller who scanned the card."""
    out = member_summary(g.db, member, services().now(), coupon_codes=actor is not None and actor.identified_by == "qr")
    out["in_line"] = member.in_line
    return out


TYPED_LIMIT, TYPED_WINDOW = 300, timedelta(minutes=10)


def _count_typed_number() -> None:
    """A member number sent instead of a QR token counts against the credential: 300 in 10 minutes
    (the cashier page sends the number with each action after a scan), more than any till needs,
    far fewer than walking 90 million random numbers takes. Committed at once (the route has only
    read so far), so a refusal or a wrong number still counts."""
    actor, svc = current_actor(), services()
    who = f"typed:{actor.kind}:{actor.staff_id or actor.api_key_id}"
    try:
        count_use(g.db, who, limit=TYPED_LIMIT, window=TYPED_WINDOW, now=svc.now())
    finally:
        g.db.commit()


@bp.post("/auth/login")
def login():  # type: ignore[no-untyped-def]
    body = json_body()
    staff = authenticate_staff(g.db, str(body.get("username", "")), str(body.get("password", "")), address=client_address(), now=services().now())
    g.db.commit()  # a failure counts even though the answer is a refusal; a success clears this address's count
    if staff is None:
        raise AuthError("Wrong username or password", code="invalid_credentials")
    store = g.db.get(Store, staff.store_id)
    return {
        "token": issue_staff_token(staff),
        "staff": {"id": staff.id, "name": staff.display_name, "role": staff.role},
        "store": {"code": store.code, "name": store.name},
        "units": units(),
    }


def units() -> dict[str, str]:
    """The words the member sees for a stamp and a point (the text table), for the cashier page."""
    t = services().texts
    return {"stamp": t("stamp_unit"), "point": t("point_unit")}


@bp.get("/me")
@require_actor
def me():  # type: ignore[no-untyped-def]
    actor = current_actor()
    store = g.db.get(Store, actor.store_id)
    staff = g.db.get(Staff, actor.staff_id) if actor.staff_id else None
    return {
        "kind": actor.kind,
        "role": actor.role,
        "staff": {"id": staff.id, "name": staff.display_name} if staff else None,
        "store": {"code": store.code, "name": store.name},
        "units": units(),
    }


@bp.post("/scan")
@require_actor
def scan():  # type: ignore[no-untyped-def]
    member, actor = identify(json_body())
    return summary_for(member, actor)


@bp.post("/awards")
@require_actor
def create_award():  # type: ignore[no-untyped-def]
    body, svc = json_body(), services()
    member, actor = identify(body)  # earning by a typed number is allowed: it only adds
    amount = parse_amount(body.get("amount"))
    visit = body.get("visit", False)
    if not isinstance(visit, bool):
        raise InvalidInput("visit must be true or false", code="invalid_visit")
    receipt_id = parse_str(body, "receipt_id", max_len=64)
    repeat = check_repeat_visit(g.db, member_id=member.id, store_id=actor.store_id, receipt_id=receipt_id or "", rule=get_rule(g.db), now=svc.now())
    done = award_at_counter(g.db, member=member, receipt_id=receipt_id or "", amount=amount, visit=visit, actor=actor, now=svc.now())
    result = done.award
    if not result.replayed:
        enqueue_award_push(g.db, member, done, actor.store_id)
    summary = summary_for(member, actor)
    queued, runs = queued_in(g.db), runs_queued_in(g.db)
    g.db.commit()
    if queued or runs:
        send_after_response(queued, runs)
    payload = {
        "award": {
            "id": result.award_id,
            "receipt_id": result.receipt_id,
            "stamps": result.stamps,
            "points": result.points,
            "rewards_issued": result.rewards,
            "capped": result.capped,
            "replayed": result.replayed,
            "tier_change": {"kind": done.tier_change.kind, "tier": done.tier_change.to_tier.code} if done.tier_change else None,
            "coupons_issued": done.coupon_names,
            "repeat_visit": repeat.json() if repeat else None,
        },
        "member": summary,
    }
    return payload, (200 if result.replayed else 201)


@bp.get("/rewards")
@require_actor
def rewards():  # type: ignore[no-untyped-def]
    return {"rewards": [{"id": i.id, "name": i.name, "points_cost": i.points_cost} for i in list_items(g.db)]}


@bp.post("/redemptions")
@require_actor
def redeem():  # type: ignore[no-untyped-def]
    """By QR: spent at once. By a typed number: 409 confirmation_required, the member asked in LINE."""
    body = json_body()
    member, actor = identify(body)
    refuse_premember_spend(member)
    result = redeem_or_ask(
        g.db, member_id=member.id, item_id=parse_int(body, "reward_id"),
        request_id=parse_str(body, "request_id", max_len=64) or "", actor=actor, now=services().now(),
    )
    if isinstance(result, Asked):
        return ask_member(member, result)
    summary = summary_for(member, actor)
    pushed = None if result.replayed else enqueue_redemption_push(g.db, member, actor.store_id, reward=result.reward_name, points=result.points)
    g.db.commit()
    if pushed:
        send_after_response([pushed])
    out = {"redemption": {"id": result.redemption_id, "reward": result.reward_name, "points": result.points, "replayed": result.replayed}, "member": summary}
    return out, (200 if result.replayed else 201)


@bp.post("/grants/<int:grant_id>/use")
@require_actor
def use_reward_grant(grant_id: int):  # type: ignore[no-untyped-def]
    member, actor = identify(json_body())
    refuse_premember_spend(member)
    grant = use_or_ask(g.db, grant_id=grant_id, member_id=member.id, actor=actor, now=services().now())
    if isinstance(grant, Asked):
        return ask_member(member, grant)
    summary = summary_for(member, actor)
    pushed = enqueue_redemption_push(g.db, member, actor.store_id, reward=grant.name)
    g.db.commit()
    if pushed:
        send_after_response([pushed])
    return {"grant": {"id": grant.id, "name": grant.name, "used_at": grant.used_at.isoformat()}, "member": summary}


@bp.post("/corrections")
@require_actor
def create_correction():  # type: ignore[no-untyped-def]
    """Applied now (201), or above CORRECTION_APPROVAL_* a request for a second manager (202 approval_required).
    A manager's correction by a typed number needs no confirmation: it is audited by its reason."""
    body, now = json_body(), services().now()
    member, actor = identify(body)
    me = replace(counter_person(), actor=actor)
    currency = parse_str(body, "currency", max_len=8)
    done = submit_correction(
        g.db, member=member, currency=currency or "", amount=parse_int(body, "amount"), note=parse_str(body, "reason", max_len=200) or "",
        by=me, now=now, rule=get_rule(g.db), approval_over=services().settings.correction_approval_over,
    )
    answer = submitted_answer(done, now, me, member=summary_for(member, actor))
    g.db.commit()
    return answer


@bp.get("/members/<member_no>/ledger")
@require_actor
def member_ledger(member_no: str):  # type: ignore[no-untyped-def]
    member = get_by_member_no(g.db, member_no)
    return {"entries": [entry_json(e) for e in recent_entries(g.db, member.id, limit=50)], "member": summary_for(member, None)}


@bp.post("/claims")
@require_actor
def create_claim_code():  # type: ignore[no-untyped-def]
    body, actor, svc = json_body(), current_actor(), services()
    visit = body.get("visit", False)
    if not isinstance(visit, bool):
        raise InvalidInput("visit must be true or false", code="invalid_visit")
    issued = create_claim(
        g.db, receipt_id=parse_str(body, "receipt_id", max_len=64) or "", amount=parse_amount(body.get("amount")),
        visit=visit, actor=actor, now=svc.now(),
    )
    g.db.commit()
    from bot.web.claim_links import claim_links

    claim = issued.claim
    return {
        "code": format_code(claim.code),
        "receipt_id": claim.receipt_id,
        "amount": decimal_str(claim.amount),
        "visit": claim.visit,
        "expires_at": claim.expires_at.isoformat(),
        "claimed": claim.claimed_at is not None,
        "replayed": issued.replayed,
        **claim_links(claim.code),
    }, (200 if issued.replayed else 201)


@bp.post("/premembers")
@require_actor
def create_premember_route():  # type: ignore[no-untyped-def]
    """A customer not in LINE yet starts collecting by phone: 201 a pre-member and its claim code to
    show or print (200 for a phone that already has one: a new code, the old one void); 409
    phone_in_use when a member in LINE gave this phone. Counted and audited as a phone look-up."""
    phone = require_phone(json_body().get("phone"))
    count_phone_lookup()
    svc, actor = services(), current_actor().identifying("phone")
    try:
        issued = create_premember(g.db, phone=phone, actor=actor, secret=svc.settings.secret_key, now=svc.now())
    except Conflict:
        g.db.commit()  # the audit row of the refusal
        raise
    summary = summary_for(issued.member, actor)
    g.db.commit()
    return {"member": summary, "claim_code": format_claim(issued.claim_code), "created": issued.created}, (201 if issued.created else 200)
