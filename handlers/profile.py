"""會員資料: what the programme holds about the member, with buttons to change it (handlers/profile_edit.py)."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from linebot.v3.messaging import FlexBox, FlexBubble, FlexMessage, FlexSeparator, FlexText, Message

from handlers import Context, Input, join
from handlers.messages import BRAND_COLOR, button, label_value, postback, text
from models.profile import may_change_birthday

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
    from handlers.profile_edit import EDIT

    edits = [postback(t("profile_edit_phone"), EDIT, field="phone"), postback(t("profile_edit_gender"), EDIT, field="gender")]
    birthday_open = may_change_birthday(member)
    if birthday_open:
        edits.append(postback(t("profile_edit_birthday" if member.birthday_on else "profile_set_birthday"), EDIT, field="birthday"))
    bubble = FlexBubble(
        header=FlexBox(layout="vertical", background_color=BRAND_COLOR,
                       contents=[FlexText(text=t("profile_title"), color="#FFFFFF", weight="bold", size="lg")]),
        body=FlexBox(layout="vertical", spacing="sm", contents=[
            *(label_value(label, value) for label, value in rows),
            FlexSeparator(margin="lg"),
            FlexText(text=t("profile_hint" if birthday_open else "profile_hint_birthday_used"), size="xs", color="#8C8C8C", wrap=True, margin="lg"),
        ]),
        footer=FlexBox(layout="vertical", spacing="sm", contents=[
            *(button(a, primary=False) for a in edits),
            button(postback(t("profile_my_data"), "my_data"), primary=False),
            button(postback(t("profile_erase"), "erase"), primary=False),
        ]),
    )
    return [FlexMessage(alt_text=t("profile_alt"), contents=bubble)]
