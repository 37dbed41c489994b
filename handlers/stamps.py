"""The stamp card: progress, points, rewards ready, and the latest ledger entries."""
from __future__ import annotations

import logging
import re
from zoneinfo import ZoneInfo

from linebot.v3.messaging import FlexBox, FlexBubble, FlexComponent, FlexMessage, FlexSeparator, FlexText, Message
from sqlalchemy.orm import Session

from handlers import Context, Input, join
from handlers.messages import BRAND_COLOR, build, button, postback, text
from handlers.texts import Texts
from models.claim import redeem_claim
from models.errors import DomainError
from models.items import bought_in
from models.checkout import Checkout
from models.ledger import LedgerEntry, balance, recent_entries
from models.member import Member
from models.reward import list_items, open_grants
from models.rule import EarningRule, get_rule
from models.store import Store

TAIPEI = ZoneInfo("Asia/Taipei")
CLAIM_RE = re.compile(r"^(?:領取|claim)\s*([A-Za-z0-9-]{8,12})$", re.IGNORECASE)
PER_ROW = 5
log = logging.getLogger(__name__)

# The reply (a text key) to each refusal of a receipt claim; one not listed gets ``claim_failed``.
CLAIM_REPLIES = {
    "claim_unknown": "claim_unknown",
    "claim_used": "claim_used",
    "claim_already_yours": "claim_already_yours",
    "claim_expired": "claim_expired",
    "claim_awarded_at_counter": "claim_awarded_at_counter",
    "claim_awarded_at_counter_yours": "claim_awarded_at_counter_yours",
    "receipt_already_awarded": "receipt_already_awarded",
    "invalid_amount": "claim_invalid_amount",  # a code made for more than an award takes (before creation checked it)
}


def _stamp(filled: bool) -> FlexBox:
    return build(FlexBox,
        layout="vertical",
        width="40px",
        height="40px",
        corner_radius="20px",
        background_color=BRAND_COLOR if filled else "#EEEEEE",
        justify_content="center",
        align_items="center",
        contents=[build(FlexText, text="☕" if filled else "・", size="md", align="center", color="#FFFFFF" if filled else "#BBBBBB")],
    )


def stamp_grid(filled: int, size: int) -> list[FlexComponent]:
    """Rows of at most PER_ROW, balanced: 8 stamps are 4 + 4, 10 are 5 + 5, 7 are 4 + 3 (not 5 + 3 or 5 + 2)."""
    rows: list[FlexComponent] = []
    per_row = -(-size // -(-size // PER_ROW)) if size else PER_ROW
    for start in range(0, size, per_row):
        cells = [_stamp(i < filled) for i in range(start, min(start + per_row, size))]
        rows.append(build(FlexBox, layout="horizontal", spacing="sm", margin="sm", justify_content="center", contents=cells))
    return rows


SHOWN_ITEMS = 3  # a purchase's row names at most this many of its items


def bought_text(lines: list[tuple[str, int]], t: Texts) -> str:
    """「拿鐵 ×2、可頌 ×1」, shortened past SHOWN_ITEMS: 「拿鐵 ×2、可頌 ×1、司康 ×1 等 5 項」."""
    shown = "、".join(t("history_item", name=name, qty=qty) for name, qty in lines[:SHOWN_ITEMS])
    return shown if len(lines) <= SHOWN_ITEMS else t("history_items_more", items=shown, n=len(lines))


def describe(entry: LedgerEntry, t: Texts, bought: dict[int, list[tuple[str, int]]] | None = None) -> str:
    """The history row's words; a purchase with line items says what was bought."""
    lines = (bought or {}).get(entry.award_id or 0) if entry.reason == "award" else None
    if lines:
        return t("reason_award_items", items=bought_text(lines, t))
    key = f"reason_{entry.reason}"
    try:
        return t(key, note=entry.note or "")
    except KeyError:
        return t("reason_other")


def _same_event(a: LedgerEntry, b: LedgerEntry) -> bool:
    """One purchase writes a stamp entry and a point entry: the history shows them as one row."""
    return a.award_id is not None and a.award_id == b.award_id and a.reason == b.reason


def history_rows(entries: list[LedgerEntry], t: Texts, *, limit: int | None = None,
                 bought: dict[int, list[tuple[str, int]]] | None = None) -> list[FlexComponent]:
    groups: list[list[LedgerEntry]] = []
    for e in entries:
        if groups and _same_event(groups[-1][0], e):
            groups[-1].append(e)
        else:
            groups.append([e])
    rows: list[FlexComponent] = []
    for group in groups[:limit]:
        first = group[0]
        day = first.created_at.astimezone(TAIPEI).strftime("%m/%d")
        amounts = "、".join(f"{e.amount:+,} {t('unit_stamp' if e.currency == 'stamp' else 'unit_point')}"
                           for e in sorted(group, key=lambda e: e.currency != "stamp"))
        rows.append(
            build(FlexBox,
                layout="horizontal",
                contents=[
                    build(FlexText, text=day, size="xs", color="#8C8C8C", flex=2),
                    build(FlexText, text=describe(first, t, bought), size="xs", color="#555555", flex=5, wrap=True),
                    build(FlexText, text=amounts, size="xs", align="end", flex=5, wrap=True,
                             color="#2E7D32" if first.amount > 0 else "#C62828"),
                ],
            )
        )
    return rows


def stamp_card(session: Session, member: Member, rule: EarningRule, t: Texts, *, history: int = 10,
               headline: list[FlexComponent] | None = None, completed: bool = False, catalogue: bool = False) -> FlexMessage:
    """The card with its progress; ``completed``: the award that filled it, shown full with its
    reward ready (the balance has already started the next card: what was carried over is said);
    ``catalogue``: a 兌換目錄 button (postback action=catalogue) under it."""
    stamps = balance(session, member.id, "stamp")
    points = balance(session, member.id, "point")
    size = max(1, rule.card_size)
    filled = size if completed else min(stamps, size)
    body: list[FlexComponent] = list(headline or [])
    body += stamp_grid(filled, size)
    if completed:
        body.append(build(FlexText, text=t("stamps_card_full", size=size, reward=rule.reward_name), size="sm", wrap=True, margin="md", color="#C05621", weight="bold"))
        if stamps:
            body.append(build(FlexText, text=t("stamps_next_card", n=stamps), size="sm", wrap=True, color="#333333"))
    else:
        body.append(build(FlexText, text=t("stamps_progress", left=size - filled, reward=rule.reward_name), size="sm", wrap=True, margin="md", color="#333333"))
    body.append(build(FlexText, text=t("stamps_points", points=points), size="sm", color="#333333"))
    grants = open_grants(session, member.id)
    if grants:
        names = "、".join(sorted({g.name for g in grants}))
        body.append(build(FlexText, text=t("stamps_rewards_ready", count=len(grants), names=names), size="sm", wrap=True, color="#C05621", margin="md"))
    if history:
        entries = recent_entries(session, member.id, limit=history * 2)  # a purchase is two entries, one row
        bought = bought_in(session, [e.award_id for e in entries if e.award_id is not None and e.reason == "award"])
        body.append(build(FlexSeparator, margin="lg"))
        body.append(build(FlexText, text=t("stamps_history_title"), weight="bold", size="sm", margin="md"))
        body += history_rows(entries, t, limit=history, bought=bought) or [build(FlexText, text=t("stamps_history_empty"), size="xs", color="#8C8C8C", wrap=True)]
    bubble = build(FlexBubble,
        header=build(FlexBox, layout="vertical", background_color=BRAND_COLOR,
                       contents=[build(FlexText, text=t("stamps_title"), color="#FFFFFF", weight="bold", size="lg")]),
        body=build(FlexBox, layout="vertical", spacing="sm", contents=body),
        footer=build(FlexBox, layout="vertical", contents=[button(postback(t("catalogue_button"), "catalogue"), primary=False)]) if catalogue else None,
    )
    return build(FlexMessage, alt_text=t("stamps_alt", stamps=filled, size=size), contents=bubble)


def award_headline(done: Checkout, store_name: str, rule: EarningRule, t: Texts) -> list[FlexComponent]:
    result = done.award
    parts = []
    if result.stamps:
        parts.append(t("stamps_award_stamps", n=result.stamps))
    if result.points:
        parts.append(t("stamps_award_points", n=result.points))
    lines: list[FlexComponent] = [
        build(FlexText, text=t("stamps_award_title"), weight="bold", size="lg", color=BRAND_COLOR),
        build(FlexText, text=t("stamps_award_body", store=store_name, what="、".join(parts) or "0"), size="sm", wrap=True),
    ]
    if result.rewards and rule.reward_kind != "coupon":
        lines.append(build(FlexText, text=t("stamps_award_reward", reward=rule.reward_name), size="sm", wrap=True, color="#C05621"))
    for coupon_name in done.coupon_names:
        lines.append(build(FlexText, text=t("coupon_received", name=coupon_name), size="sm", wrap=True, color="#C05621"))
    if done.tier_change is not None and done.tier_change.kind == "upgrade" and not done.tier_change.announced_by_journey:
        lines.append(build(FlexText, text=t("tier_upgraded", tier=done.tier_change.to_tier.name), size="sm", wrap=True, weight="bold", color="#B8860B"))
    lines.append(build(FlexSeparator, margin="md"))
    return lines


def award_messages(session: Session, member: Member, done: Checkout, store_name: str, t: Texts) -> list[Message]:
    """The push a member receives after an award at the counter."""
    rule = get_rule(session)
    headline = award_headline(done, store_name, rule, t)
    return [stamp_card(session, member, rule, t, history=0, headline=headline, completed=done.award.rewards > 0)]


def redemption_messages(session: Session, member: Member, *, store_name: str, t: Texts, reward: str | None = None,
                        points: int = 0, coupon: tuple[str, str] | None = None) -> list[Message]:
    """The push after a redemption at the counter: what was redeemed (a points reward, a full
    card's reward, or a coupon as (name, value)), then the card with the new balances."""
    if coupon is not None:
        what = t("redeemed_coupon", store=store_name, name=coupon[0], value=coupon[1])
    else:
        what = t("redeemed_body", store=store_name, reward=reward or "")
    lines: list[FlexComponent] = [
        build(FlexText, text=t("redeemed_title"), weight="bold", size="lg", color=BRAND_COLOR),
        build(FlexText, text=what, size="sm", wrap=True),
    ]
    if points:
        lines.append(build(FlexText, text=t("redeemed_points", n=points), size="sm", wrap=True, color="#C62828"))
    lines.append(build(FlexSeparator, margin="md"))
    return [stamp_card(session, member, get_rule(session), t, history=0, headline=lines)]


def show_stamps(inp: Input, ctx: Context) -> list[Message]:
    t = ctx.texts
    if not ctx.member.is_member:
        return [text(t("card_not_member")), join.join_invitation(t)]
    card = stamp_card(ctx.session, ctx.member, get_rule(ctx.session), t, catalogue=bool(list_items(ctx.session)))
    return [card]


def claim(inp: Input, ctx: Context) -> list[Message]:
    """A receipt claim code sent from the pre-filled LINE message."""
    t = ctx.texts
    if not ctx.member.is_member:
        return [text(t("card_not_member")), join.join_invitation(t)]
    match = CLAIM_RE.match(inp.text or "")
    raw = match.group(1) if match else ""
    rule = get_rule(ctx.session)
    try:
        with ctx.session.begin_nested():
            result = redeem_claim(ctx.session, raw_code=raw, member=ctx.member, now=ctx.now)
    except DomainError as err:  # every refusal gets a reply about the receipt, never the generic apology
        if err.code not in CLAIM_REPLIES:
            log.warning("receipt claim refused with %s (member %s)", err.code, ctx.member.id)
        return [text(t(CLAIM_REPLIES.get(err.code, "claim_failed")))]
    store = ctx.session.get(Store, result.store_id)
    headline = award_headline(result.checkout, store.name if store else ctx.settings.brand_name, rule, t)
    card = stamp_card(ctx.session, ctx.member, rule, t, history=0, headline=headline, completed=result.checkout.award.rewards > 0)
    return [text(t("claim_done")), card]


def is_claim(text_: str | None) -> bool:
    return bool(text_ and CLAIM_RE.match(text_.strip()))
