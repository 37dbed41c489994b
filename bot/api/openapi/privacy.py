"""Member data rights in the OpenAPI document: an owner's export and erasure of one member
(bot/api/admin/privacy.py). bot/api/openapi/document.py merges these paths and schemas."""
from __future__ import annotations

from typing import Any

from bot.api.openapi.schemas import SETTINGS, TIME, TIME_OR_NULL, _obj, op, path_param

ROWS = {"type": "array", "items": {"type": "object"}}
TEXT_OR_NULL = {"type": ["string", "null"]}

PRIVACY_SCHEMAS: dict[str, Any] = {
    "MemberExport": _obj(
        ["exported_at", "profile", "consents", "balances", "ledger", "coupons", "tags", "referrals", "messages"],
        "Everything the programme holds about the member (the same data the member's own 我的資料 link shows)",
        exported_at=TIME,
        profile=_obj(member_no=TEXT_OR_NULL, display_name=TEXT_OR_NULL, picture_url=TEXT_OR_NULL, language=TEXT_OR_NULL,
                     birthday_on={"type": ["string", "null"], "format": "date"}, phone=TEXT_OR_NULL, gender=TEXT_OR_NULL,
                     followed_at=TIME, unfollowed_at=TIME_OR_NULL, reachable={"type": "boolean"}, joined_at=TIME_OR_NULL,
                     erased_at=TIME_OR_NULL),
        consents={"type": "array", "items": _obj(kind={"type": "string"}, version={"type": "string"}, consented_at=TIME_OR_NULL)},
        balances=_obj(stamp={"type": "integer"}, point={"type": "integer"}),
        ledger=ROWS, coupons=ROWS, rewards=ROWS, redemptions=ROWS,
        tier=_obj(current=TEXT_OR_NULL, since=TIME_OR_NULL, until=TIME_OR_NULL, history=ROWS),
        tags={"type": "array", "items": {"type": "string"}},
        referrals=_obj(code=TEXT_OR_NULL, friends_referred={**ROWS, "description": "what happened to each referral, not who the friend is"},
                       referred_by_code=TEXT_OR_NULL),
        follow_history=ROWS,
        messages={"type": "array", "items": _obj(purpose={"type": "string"}, status={"type": "string"}, created_at=TIME,
                                                 sent_at=TIME_OR_NULL, texts={"type": "array", "items": {"type": "string"}})},
        marketing_messages=ROWS),
    "EraseRequest": _obj(["reason"], reason={"type": "string", "minLength": 1, "maxLength": 200,
                                             "description": "Why (recorded in the audit log), e.g. 本人臨櫃申請"}),
    "Erased": _obj(["member_no", "erased_at", "erased"], member_no={"type": "string"}, erased_at=TIME,
                   erased={"type": "boolean", "description": "false: the member was erased before (nothing changed)"}),
}

MEMBER_NO = path_param("member_no", description="The member number")
PRIVACY_PATHS: dict[str, Any] = {
    "/api/v1/admin/members/{member_no}/export": {"get": op(
        "A copy of everything held about one member (a member who asks at the counter)", auth="admin", scope=SETTINGS,
        ok="MemberExport", params=[MEMBER_NO], description="Recorded in the audit log (`member.export`).",
        errors={"404": "No such member (member_not_found)"})},
    "/api/v1/admin/members/{member_no}/erase": {"post": op(
        "Erase one member's personal data (a member who asks at the counter)", auth="admin", scope=SETTINGS, body="EraseRequest",
        ok="Erased", params=[MEMBER_NO],
        description=("Name, picture, language, birthday, phone, gender and consent are emptied and the LINE user id becomes a "
                     "tombstone, so the same LINE user following again is a new member. The member number, ledger, awards, "
                     "coupons (unused ones withdrawn) and referrals stay, anonymous, so balances and reports add up. From then on "
                     "the counter answers 410 `member_erased`. Recorded in the audit log (`member.erase`, with the reason and "
                     "the balances at the erasure). Erasing again changes nothing (`erased: false`)."),
        errors={"404": "No such member (member_not_found)", "422": "reason_required"})},
}
