"""The member card: tier, balances and a short-lived QR code for the counter."""
from __future__ import annotations

from linebot.v3.messaging import Message

from handlers import Context, Input, join
from handlers.messages import member_card, postback, text
from models.card import card_summary, issue_card_token


def show_card(inp: Input, ctx: Context) -> list[Message]:
    t, member = ctx.texts, ctx.member
    if not member.is_member or member.member_no is None:
        return [text(t("card_not_member")), join.join_invitation(t)]
    settings = ctx.settings
    summary = card_summary(ctx.session, member)
    token = issue_card_token(settings.secret_key, member.member_no, now=ctx.now)
    rows = [
        (t("card_member"), member.display_name or t("name_fallback")),
        (t("card_number"), member.member_no),
        (t("card_tier"), summary.tier_name or t("tier_default")),
        (t("card_points"), f"{summary.points:,}"),
        (t("card_stamps"), f"{summary.stamps:,}"),
    ]
    return [
        member_card(
            brand=settings.brand_name,
            title=t("card_title"),
            alt=t("card_alt"),
            rows=rows,
            qr_url=f"{settings.public_base_url}/qr/{token}.png",
            member_no=member.member_no,
            hint=t("card_qr_hint", minutes=max(1, settings.card_token_ttl_seconds // 60)),
            refresh=postback(t("card_refresh"), "card"),
        )
    ]
