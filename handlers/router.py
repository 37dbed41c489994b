"""Which handler answers which input: an active conversation first, then commands, then help."""
from __future__ import annotations

from linebot.v3.messaging import Message

from handlers import Context, Handler, Input, brand, card, catalogue, confirm, coupons, help, invite, join, menu, offers, privacy, profile, profile_edit, referral, stamps, tiers
from models.conversation import get_conversation

# Typed commands (members type them or rich menu "message" actions send them).
COMMANDS: dict[str, Handler] = {
    "會員卡": card.show_card,
    "我的會員卡": card.show_card,
    "加入會員": join.start,
    "集點卡": stamps.show_stamps,
    "我的點數": stamps.show_stamps,
    "兌換目錄": catalogue.show_catalogue,
    "點數兌換": catalogue.show_catalogue,
    "我的優惠券": coupons.show_coupons,
    "優惠券": coupons.show_coupons,
    "會員權益": tiers.show_benefits,
    "說明": help.show_help,
    "help": help.show_help,
    "邀請好友": invite.show_invite,
    "會員資料": profile.show_profile,
    "我的資料": privacy.show_export,
    "刪除會員資料": privacy.start_erase,
    "品牌故事": brand.show_about,
    "門市據點": brand.show_stores,
    "門市": brand.show_stores,
}

# Postback actions (rich menu and buttons).
POSTBACKS: dict[str, Handler] = {
    "card": card.show_card,
    "join": join.start,
    "stamps": stamps.show_stamps,
    catalogue.ACTION: catalogue.show_catalogue,
    "coupons": coupons.show_coupons,
    offers.CLAIM: offers.claim_offer,
    "benefits": tiers.show_benefits,
    "help": help.show_help,
    "invite": invite.show_invite,
    "profile": profile.show_profile,
    privacy.EXPORT: privacy.show_export,
    privacy.ERASE: privacy.start_erase,
    privacy.CONFIRM: privacy.confirm,
    privacy.KEEP: privacy.keep,
    profile_edit.EDIT: profile_edit.start,
    "about": brand.show_about,
    "stores": brand.show_stores,
    brand.LOCATION: brand.send_location,
    menu.TAB: menu.switch_tab,
    confirm.CONFIRM: confirm.on_confirm,
    confirm.CANCEL: confirm.on_cancel,
}


def _command(inp: Input) -> Handler | None:
    return POSTBACKS.get(inp.action) if inp.action is not None else COMMANDS.get((inp.text or "").lower())


def needs_basic_id(inp: Input) -> bool:
    """Whether this input may show the invitation card, whose link needs the account's basic id."""
    return _command(inp) is invite.show_invite


def shows_card(inp: Input) -> bool:
    """Whether this input asks for the member card (unless a conversation takes it first)."""
    return _command(inp) is card.show_card


def route(inp: Input, ctx: Context) -> list[Message]:
    if referral.is_code(inp.text):  # a friend's referral code, even in the middle of joining
        return referral.use_code(inp, ctx)
    if inp.action in (confirm.CONFIRM, confirm.CANCEL):  # the counter is waiting, whatever else is going on
        return POSTBACKS[inp.action](inp, ctx)
    convo = get_conversation(ctx.session, ctx.member)
    if convo is not None and convo.flow == join.FLOW:
        return join.on_input(inp, ctx, convo)
    if convo is not None and convo.flow == profile_edit.FLOW:
        return profile_edit.on_input(inp, ctx, convo)
    if inp.action is not None:
        if inp.action == join.STEP_ACTION:  # a button from a finished or cancelled flow
            return join.stale_button(inp, ctx)
        if inp.action == profile_edit.STEP_ACTION:
            return profile_edit.stale_button(inp, ctx)
        return POSTBACKS.get(inp.action, help.show_help)(inp, ctx)
    if stamps.is_claim(inp.text):
        return stamps.claim(inp, ctx)
    return COMMANDS.get((inp.text or "").lower(), help.show_help)(inp, ctx)
