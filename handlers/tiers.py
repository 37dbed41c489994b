"""會員權益: every tier as a carousel card, the member's own highlighted, with progress to the next."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from linebot.v3.messaging import FlexBox, FlexBubble, FlexCarousel, FlexComponent, FlexMessage, FlexText, Message
from sqlalchemy.orm import Session

from handlers import Context, Input
from handlers.messages import text
from handlers.texts import Texts
from models.member import Member
from models.tier import Tier, all_tiers, current_tier, shortfall, tier_color

TAIPEI = ZoneInfo("Asia/Taipei")


def _amount(value: Decimal) -> int:
    return int(value.to_integral_value())


def rule_text(tier: Tier, t: Texts) -> str:
    if tier.threshold <= 0:
        return t("tier_rule_free")
    return t(f"tier_rule_{tier.metric}", days=tier.window_days, amount=_amount(tier.threshold))


def progress_text(session: Session, member: Member, tiers: list[Tier], now: datetime, t: Texts) -> str:
    current = current_tier(session, member, tiers)
    higher = [x for x in tiers if current is None or x.rank > current.rank]
    if not higher:
        return t("tier_top")
    nxt = higher[0]
    return t(f"tier_next_{nxt.metric}", amount=_amount(shortfall(session, member.id, nxt, now)), tier=nxt.name)


def keep_text(session: Session, member: Member, tier: Tier, now: datetime, t: Texts) -> str:
    assert member.tier_until is not None
    day = member.tier_until.astimezone(TAIPEI).strftime("%Y/%m/%d")
    missing = shortfall(session, member.id, tier, member.tier_until)  # what counts when the period ends
    return t(f"tier_keep_{tier.metric}", tier=tier.name, date=day, amount=_amount(missing))


def tier_bubble(tier: Tier, *, mine: bool, note: str | None, t: Texts) -> FlexBubble:
    body: list[FlexComponent] = [FlexText(text=rule_text(tier, t), size="sm", color="#555555", wrap=True)]
    if tier.earn_multiplier != 1:
        body.append(FlexText(text=t("tier_multiplier", multiplier=format(tier.earn_multiplier.normalize(), "f")), size="sm", wrap=True))
    body += [FlexText(text=f"・{b}", size="sm", wrap=True, color="#333333") for b in tier.benefits[:8]]
    if note:
        body.append(FlexText(text=note, size="sm", wrap=True, weight="bold", color="#C05621", margin="lg"))
    header: list[FlexComponent] = [FlexText(text=tier.name, color="#FFFFFF", weight="bold", size="xl")]
    if mine:
        header.append(FlexText(text=f"★ {t('tier_current')}", color="#FFFFFF", size="xs"))
    return FlexBubble(
        size="kilo",
        header=FlexBox(layout="vertical", background_color=tier_color(tier), contents=header),
        body=FlexBox(layout="vertical", spacing="sm", contents=body),
    )


def show_benefits(inp: Input, ctx: Context) -> list[Message]:
    t, session = ctx.texts, ctx.session
    tiers = all_tiers(session)[:12]
    if not tiers:
        return [text(t("tiers_none"))]
    mine = current_tier(session, ctx.member, tiers) if ctx.member.is_member else None
    note = progress_text(session, ctx.member, tiers, ctx.now, t) if ctx.member.is_member else None
    bubbles = [tier_bubble(x, mine=(mine is not None and x.id == mine.id), note=note if mine is not None and x.id == mine.id else None, t=t) for x in tiers]
    order = sorted(range(len(bubbles)), key=lambda i: 0 if mine is not None and tiers[i].id == mine.id else 1)
    return [FlexMessage(alt_text=t("tiers_alt"), contents=FlexCarousel(contents=[bubbles[i] for i in order]))]
