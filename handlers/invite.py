"""邀請好友 (rich menu, or typed): the member's personal invitation card.

A Flex card to forward in LINE: the member's referral code, what each side gets, a
"分享給好友" button (LINE's share link; the share target picker would need LIFF) whose text
carries the invitation link, and a button that opens the link itself:
``https://line.me/R/oaMessage/{basic id}/?邀請碼 ABC123``: a friend who taps it adds the
account and sends the code in one step. The basic id comes from LINE's Get Bot Info API,
cached for an hour by the gateway and
fetched before the event's transaction opens (``handlers.prepare``).
"""
from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote

from linebot.v3.messaging import ClipboardAction, FlexBox, FlexBubble, FlexMessage, FlexSeparator, FlexText, Message

from handlers import Context, Input, join
from handlers.messages import BRAND_COLOR, button, text, uri
from handlers.referral import describe, message_for
from handlers.texts import Texts
from models.referral import code_for
from models.referral_program import get_program, planned_gift


def invitation_links(basic_id: str, code: str, t: Texts) -> tuple[str, str]:
    """(the oaMessage link that adds the account and sends the code, LINE's share link carrying it)."""
    oa_url = f"https://line.me/R/oaMessage/{quote(basic_id)}/?{quote(message_for(code))}"
    share_url = "https://line.me/R/share?text=" + quote(t("invite_share_text", code=code, url=oa_url), safe="")
    return oa_url, share_url


def invitation_card(t: Texts, *, code: str, lines: list[str], oa_url: str, share_url: str) -> FlexMessage:
    bubble = FlexBubble(
        header=FlexBox(layout="vertical", background_color=BRAND_COLOR,
                       contents=[FlexText(text=t("invite_title"), color="#FFFFFF", weight="bold", size="lg", wrap=True)]),
        body=FlexBox(layout="vertical", spacing="sm", contents=[
            FlexText(text=t("invite_body"), size="sm", wrap=True, color="#555555"),
            *(FlexText(text=line, size="sm", wrap=True, color="#333333") for line in lines),
            FlexSeparator(margin="lg"),
            FlexText(text=t("invite_code_label"), size="xs", align="center", color="#8C8C8C", margin="lg"),
            FlexText(text=code, size="xxl", weight="bold", align="center", color=BRAND_COLOR),
        ]),
        footer=FlexBox(layout="vertical", spacing="sm", contents=[
            button(uri(t("invite_share"), share_url)),
            button(ClipboardAction(label=t("invite_copy"), clipboard_text=t("invite_share_text", code=code, url=oa_url)[:1000]), primary=False),
        ]),
    )
    return FlexMessage(alt_text=t("invite_alt", code=code), contents=bubble)


def show_invite(inp: Input, ctx: Context) -> list[Message]:
    t, session = ctx.texts, ctx.session
    if not ctx.member.is_member:
        return [text(t("invite_not_member")), join.join_invitation(t)]
    program = get_program(session)
    if not program.enabled:
        return [text(t("referral_closed"))]
    code = code_for(session, ctx.member.id, now=ctx.now)
    lines = [t(key, gift=describe(gift, t)) for key, gift in (
        ("invite_you_get", planned_gift(session, program, "referrer")), ("invite_friend_gets", planned_gift(session, program, "friend"))) if gift]
    minimum = program.min_purchase or Decimal(0)
    lines.append(t("invite_when_min", amount=f"{minimum.normalize():,f}") if minimum > 0 else t("invite_when"))
    if program.monthly_cap is not None:
        lines.append(t("invite_cap", cap=program.monthly_cap))
    oa_url, share_url = invitation_links(ctx.prepared["basic_id"], code, t)
    return [invitation_card(t, code=code, lines=lines, oa_url=oa_url, share_url=share_url)]
