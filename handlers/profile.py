"""會員資料: what the programme holds about the member, with how to have it changed."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from linebot.v3.messaging import FlexBox, FlexBubble, FlexMessage, FlexSeparator, FlexText, Message

from handlers import Context, Input, join
from handlers.messages import BRAND_COLOR, button, label_value, postback, text

TAIPEI = ZoneInfo("Asia/Taipei")


def mask_phone(phone: str | None) -> str | None:
    """0912345678 -> 0912-***-678: enough to recognise, not to read out."""
    if not phone:
        return None
    return f"{phone[:4]}-***-{phone[-3:]}" if len(phone) >= 8 else "***"


def show_profile(inp: Input, ctx: Context) -> list[Message]:
    t, member = ctx.texts, ctx.member
    if not member.is_member or member.member_no is None:
        return [text(t("profile_not_member")), join.join_invitation(t)]
    unset = t("profile_unset")
    joined = member.joined_at.astimezone(TAIPEI).strftime("%Y/%m/%d") if member.joined_at else unset
    rows = [
        (t("profile_name"), member.display_name or t("name_fallback")),
        (t("card_number"), member.member_no),
        (t("profile_birthday"), member.birthday_on.strftime("%Y/%m/%d") if member.birthday_on else unset),
        (t("profile_phone"), mask_phone(member.phone) or unset),
        (t("profile_gender"), t(f"gender_{member.gender}") if member.gender else unset),
        (t("profile_joined"), joined),
    ]
    bubble = FlexBubble(
        header=FlexBox(layout="vertical", background_color=BRAND_COLOR,
                       contents=[FlexText(text=t("profile_title"), color="#FFFFFF", weight="bold", size="lg")]),
        body=FlexBox(layout="vertical", spacing="sm", contents=[
            *(label_value(label, value) for label, value in rows),
            FlexSeparator(margin="lg"),
            FlexText(text=t("profile_hint"), size="xs", color="#8C8C8C", wrap=True, margin="lg"),
        ]),
        footer=FlexBox(layout="vertical", spacing="sm", contents=[
            button(postback(t("profile_my_data"), "my_data"), primary=False),
            button(postback(t("profile_erase"), "erase"), primary=False),
        ]),
    )
    return [FlexMessage(alt_text=t("profile_alt"), contents=bubble)]
