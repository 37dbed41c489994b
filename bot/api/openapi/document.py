"""GET /openapi.json: the cashier, POS and admin API, described as OpenAPI 3.1.

The operations are listed here; their schemas, shared responses and security schemes live in
bot/api/openapi/schemas.py. tests/test_cashier_api.py checks that every /api route is listed."""
from __future__ import annotations

from typing import Any

from flask import Blueprint

from bot.api.openapi.console import CONSOLE_PATHS, CONSOLE_SCHEMAS
from bot.api.openapi.imports import IMPORT_PATHS, IMPORT_SCHEMAS
from bot.api.openapi.marketing import MARKETING_SCHEMAS
from bot.api.openapi.corrections import APPROVAL, CORRECTION_PATHS, CORRECTION_SCHEMAS, WAITING
from bot.api.openapi.privacy import PRIVACY_PATHS, PRIVACY_SCHEMAS
from bot.api.openapi.products import PRODUCT_PATHS, PRODUCT_SCHEMAS
from bot.api.openapi.affinity import AFFINITY_PATHS, AFFINITY_SCHEMAS
from bot.api.openapi.rules import RULE_SCHEMAS
from bot.api.openapi.schemas import CAMPAIGNS, CORRECTION_422, PURCHASE_422, READ, RESPONSES, SCHEMAS, SECURITY_SCHEMES, SETTINGS, op, path_param, query_param, ref
from bot.api.openapi.clicks import CLICK_PATHS, CLICK_SCHEMAS
from bot.api.openapi.segments import SEGMENT_PATHS, SEGMENT_SCHEMAS
from bot.api.openapi.settings import SETTINGS_MORE_PATHS, SETTINGS_MORE_SCHEMAS
from bot.api.openapi.shift import SHIFT_PATHS, SHIFT_SCHEMAS
from models.member_list import DEFAULT_SORT, sort_keys

bp = Blueprint("openapi", __name__)

MEMBER_NO = path_param("member_no", description="The member number")
STORE_CODE = path_param("code", description="The store code")
SEGMENT_ID = path_param("segment_id", "integer")
CAMPAIGN_ID = path_param("campaign_id", "integer")
NO_MEMBER = {"404": "No such member (member_not_found)"}
ERASED = {"410": "member_erased: the member's data was erased at their request; nothing can be earned or spent (they may join again as a new member)"}
NO_CAMPAIGN = {"404": "No such campaign (campaign_not_found)"}
SLOW = {"503": "query_too_slow: the rule's query ran past SEGMENT_QUERY_TIMEOUT_MS on PostgreSQL (details.timeout_ms); "
               "narrow the rule, or try again later"}
TOO_LARGE = "rule_too_large (details.limit, details.max: see SegmentRule)"
PAGING = [
    query_param("page", {"type": "integer", "minimum": 1, "maximum": 100_000, "default": 1}, "Page number, from 1"),
    query_param("per_page", {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}, "Members per page"),
]
RULE_QUERY = {"name": "rule", "in": "query", "required": False, "content": {"application/json": {"schema": ref("SegmentRule")}},
              "description": "Only members matching this segment rule, JSON-encoded (URL-escaped)"}
MEMBER_SORT = query_param("sort", {"type": "string", "enum": sort_keys(), "default": DEFAULT_SORT},
                          "Order by joined_at, name, points, stamps, tier (rank) or last_visit_at; a leading - sorts descending. "
                          "Members with no visit come last either way; ties: the newest member first")
FUNNEL_CSV = {"text/csv": {"schema": {"type": "string"}, "example": "\ufeffstep,group,members,share_of_sent,note\ntargeted,target,1200,1.0000,\n"
                                                                    "opened,target,,,LINE shows no count under 20 users\n"}}
MEMBERS_CSV = {"text/csv": {"schema": {"type": "string"}, "example": "\ufeffmember_no,name,phone,gender,tier,points,stamps,last_visit_at,joined_at,reachable\n"
                                                                     "1000001,王小明,0912345678,male,金卡,120,3,2026-11-02T03:00:00+00:00,2026-01-02T10:00:00+00:00,True\n"}}
CSV = {"text/csv": {"schema": {"type": "string"}, "example": "\ufeffmember_no,name,phone,gender,birthday_on,joined_at,reachable\n"
                                                             "1000001,王小明,0912345678,male,1990-05-01,2026-01-02T10:00:00+00:00,True\n"}}


def admin(summary: str, scope: str, **kw: Any) -> dict[str, Any]:
    return op(summary, auth="admin", scope=scope, **kw)


COUNTER_PATHS: dict[str, Any] = {
    "/api/v1/auth/login": {"post": op("Staff sign-in; returns a bearer token for the cashier page", body="Login", auth="none", errors=("422",))},
    "/api/v1/me": {"get": op("Who is signed in, and for which store")},
    "/api/v1/scan": {"post": op("Look up a member by card QR token, member number or phone", body="MemberRef", ok="MemberSummary", errors={
        "404": "member_not_found", "422": "member_required; invalid_phone", "409": "phone_ambiguous: several members gave this phone (details.matches): "
        "scan the card or type the member number", "429": "too_many_lookups: more than 30 phone look-ups by this account, or 120 at this store, in 10 minutes", **ERASED})},
    "/api/v1/premembers": {"post": op("Start collecting for a customer not in LINE yet, by phone: a pre-member and its claim code", body="PrememberRequest",
        status="201", ok_text="Created", also={"200": ("The phone's pre-member, with a new claim code (the old one stops working)", "Object")},
        errors={"409": "phone_in_use: a member in LINE gave this phone", "422": "invalid_phone", "429": "too_many_lookups"}, description=(
        "Awards by the pre-member's member_no or phone go to its own ledger; it cannot spend. Show or print claim_code: when the customer "
        "joins in LINE with this phone and types the code, the pre-member's ledger, coupons and tier become the member's, once."))},
    "/api/v1/awards": {"post": op("Award stamps/points for a receipt (idempotent on store + receipt_id)", body="AwardRequest", status="201", errors={
        "404": "", "422": PURCHASE_422 + "; member_required (neither token nor member_no)",
        "409": "repeat_visit: the brand's rule (repeat_visit_minutes, policy refuse) and the member's last award was within it (details: "
               "minutes_ago, within, policy); with policy warn the award stands and says award.repeat_visit. "
               "receipt_already_awarded: this store's receipt_id was already awarded to another member, or for another amount or visit "
               "(details: the original amount and visit). Repeating the same purchase answers 200, replayed: true. "
               "receipt_already_has_claim: the receipt has an open claim code for another amount or visit (details: the code's amount "
               "and visit). Awarding the code's purchase uses the code up: scanned later, it awards nothing. member_merged: the pre-member joined in LINE "
               "while this award waited; send it again (its member_no and phone now name the member). phone_ambiguous: several members gave the phone", **ERASED})},
    "/api/v1/rewards": {"get": op("The points rewards catalogue")},
    "/api/v1/redemptions": {"post": op("Redeem a catalogue reward for points (idempotent on store + request_id)", body="RedemptionRequest", status="201", errors={
        "404": "", "422": "", "409": "premember_cannot_spend: a pre-member (not in LINE yet) only collects. confirmation_required: the member was identified by a typed member_no or phone, which cannot spend; the member was pushed a 確認 / 取消 message in LINE (details.confirmation: id, status, expires_at, poll; details.reachable). Poll GET /api/v1/confirmations/{id}: the member's 確認 performs this spend once. Sending the card's QR token instead spends at once. insufficient_balance (details: balance, needed, currency); request_id_reused: this store's request_id was "
                                   "already used for another member or reward; request_in_progress: a request with this request_id is still "
                                   "being processed, retry it. Repeating the same redemption answers 200, replayed: true", **ERASED})},
    "/api/v1/grants/{grant_id}/use": {"post": op("Hand over a stamp-card reward", body="MemberRef", params=[path_param("grant_id", "integer")], errors={
        "404": "grant_not_found", "422": "", "409": "premember_cannot_spend: a pre-member (not in LINE yet) only collects. confirmation_required: the member was identified by a typed member_no or phone, which cannot spend; the member was pushed a 確認 / 取消 message in LINE (details.confirmation: id, status, expires_at, poll; details.reachable). Poll GET /api/v1/confirmations/{id}: the member's 確認 performs this spend once. Sending the card's QR token instead spends at once. grant_used: already handed over", **ERASED})},
    "/api/v1/confirmations/{confirmation_id}": {"get": op("A member's confirmation of a spend asked for by a typed member number", params=[path_param("confirmation_id", "integer")],
        errors={"404": "confirmation_unknown (another store's, or none)"}, description=(
        "confirmation.status: pending (waiting for the member), confirmed (the spend was done: redemption or grant, and member), failed "
        "(the spend was refused when the member confirmed: outcome_code, e.g. insufficient_balance), cancelled (the member declined), "
        "expired (not confirmed within a few minutes). Nothing is spent unless it is confirmed."))},
    "/api/v1/confirmations/{confirmation_id}/cancel": {"post": op("Stop waiting for the member: a pending confirmation is cancelled", params=[path_param("confirmation_id", "integer")],
        errors={"404": "confirmation_unknown (another store's, or none)"}, description=(
        "A 確認 tapped afterwards spends nothing. A confirmation already decided is answered as it is (check confirmation.status)."))},
    "/api/v1/corrections": {"post": op("Manager's compensating ledger entry", body="CorrectionRequest", status="201", also=WAITING,
                                       description=APPROVAL, errors={
        "403": "", "404": "", "409": "insufficient_balance (a negative correction past the balance)", "422": CORRECTION_422, **ERASED})},
    "/api/v1/members/{member_no}/ledger": {"get": op("A member's last 50 ledger entries", params=[MEMBER_NO], errors=("404",))},
    "/api/v1/claims": {"post": op("One-time receipt claim code and its LINE link (idempotent on store + receipt_id)", body="ClaimRequest", ok="Claim",
                                  status="201", ok_text="Created", also={"200": ("The code made earlier for this receipt and purchase (replayed: true)", "Claim")},
                                  errors={"422": PURCHASE_422 + " (a code is made for exactly what an award takes)",
                                          "409": "receipt_already_has_claim: this store's receipt_id already has a code for another amount or "
                                                            "visit (details: the original amount and visit); receipt_already_awarded: the receipt was "
                                                            "already awarded at the counter (details: its amount and visit), so a code could not award it"})},
    "/api/v1/coupons/check": {"post": op("Check a coupon for this store and amount without redeeming it", body="CouponRef", errors=("404", "409", "422"))},
    "/api/v1/coupons/lookup": {"post": op("What a scanned or typed coupon is: value, conditions, expiry, state, member", body="CouponRef", ok="CouponLookup",
                                          errors={"404": "coupon_not_found", "409": "coupon_token_invalid", "422": "coupon_required"}, description=(
        "Answers for a coupon in any state. usable: it can be redeemed at this store now (given the minimum spend, needs_amount); "
        "problem: otherwise the code redeem would refuse with (coupon_already_redeemed, coupon_expired, coupon_voided, coupon_wrong_store, "
        "coupon_not_yet_valid); can_void: it was redeemed at this store and its redemption was never voided (a manager may void it)."))},
    "/api/v1/coupons/redeem": {"post": op("Redeem a coupon exactly once", body="CouponRef", errors=("404", "409", "422"), description=(
        "409 codes: coupon_expired, coupon_voided, coupon_wrong_store, coupon_min_spend, coupon_already_redeemed, coupon_token_invalid; "
        "member_erased (the coupon's member was erased)."))},
    "/api/v1/coupons/void-redemption": {"post": op("Manager: undo a redemption (recorded)", body="VoidRequest", errors={
        "403": "manager_only, or coupon_wrong_store (another store redeemed it)", "404": "", "422": "reason_required, coupon_required",
        "409": "coupon_not_redeemed, coupon_token_invalid; coupon_void_limit: this coupon's redemption was voided once already (details: voids, limit), "
               "so a void and a new redemption cannot repeat"}, description=(
        "A coupon's redemption can be voided once; the coupon is usable again, and its next redemption is final. "
        "Each void is a coupon event (kind voided, with the reason) and an entry in GET /api/v1/admin/audit "
        "(actor staff:<id>:<username>, details: coupon, reason, store)."))},
}

SETTINGS_PATHS: dict[str, Any] = {
    "/api/v1/admin/tiers": {"get": admin("List tiers", SETTINGS), "post": admin("Create a tier", SETTINGS, body="Tier", status="201", errors=("409", "422"))},
    "/api/v1/admin/tiers/{code}": {"put": admin("Change a tier", SETTINGS, body="Tier", params=[path_param("code", description="The tier code")], errors=("404", "422"))},
    "/api/v1/admin/coupon-templates": {"get": admin("List coupon templates", SETTINGS),
                                       "post": admin("Create a coupon template", SETTINGS, body="CouponTemplate", status="201", errors=("422",))},
    "/api/v1/admin/coupon-templates/{template_id}/issue": {"post": admin(
        "Issue a coupon to a member by hand", CAMPAIGNS, body="IssueRequest", ok="IssuedCoupon", status="201", ok_text="Issued (the member is told on LINE)",
        also={"200": ("Already issued for this occasion (created: false)", "IssuedCoupon")}, params=[path_param("template_id", "integer")],
        errors={"404": "No such template or member (template_not_found, member_not_found)",
                "422": "Not issued (coupon_inactive, coupon_member_limit, coupon_out_of_stock), or invalid_member_no, invalid_occasion"})},
    "/api/v1/admin/coupons/{code}/void": {"post": admin("Withdraw an unused coupon", CAMPAIGNS, body="CouponVoidRequest", params=[path_param("code", description="The coupon code")],
                                                        errors=("404", "409", "422"))},
    "/api/v1/admin/stores": {"get": admin("List stores", SETTINGS), "post": admin("Create a store", SETTINGS, body="Store", status="201", errors=("409", "422"))},
    "/api/v1/admin/stores/{code}": {"put": admin(
        "Change a store: its name and what 門市據點 shows in chat (address, hours, phone, location, map link)", SETTINGS,
        body="StoreUpdate", ok="StoreInfo", params=[STORE_CODE], errors={
            "404": "No such store (store_not_found)",
            "422": "invalid_json, or invalid_store (details.field: name, address, hours, phone, latitude, longitude, map_url, "
                   "or an unknown field; latitude and longitude go together)"})},
    "/api/v1/admin/stores/{code}/staff": {
        "get": admin("List a store's staff", SETTINGS, params=[STORE_CODE], errors=("404",)),
        "post": admin("Add staff to a store", SETTINGS, body="StaffRequest", status="201", params=[STORE_CODE], errors=("404", "409", "422")),
    },
    "/api/v1/admin/earning-rule": {"get": admin("The earning rules", SETTINGS, ok="EarningRule"),
                                   "put": admin("Change the earning rules", SETTINGS, body="EarningRule", ok="EarningRule", errors=("422",))},
    "/api/v1/admin/tokens": {
        "post": admin("Create a scoped admin token (shown once)", SETTINGS, body="TokenRequest", ok="TokenCreated", status="201",
                      description="Send it as `Authorization: Bearer adm_…`; it can call the routes of its scopes only. One made through "
                                  "a console user's session is revoked when that user is disabled or changes their password.",
                      errors={"422": "invalid_token: name missing, scopes not a non-empty list of the scopes, or expires_in_days "
                                     "out of 1–3650 (details.field)"}),
        "get": admin("List admin tokens, newest first (revoked and expired ones too; never their secrets)", SETTINGS, ok="TokenList",
                     params=[query_param("sessions", {"type": "string", "enum": ["0", "1"]}, "1: console sign-in sessions too")]),
    },
    "/api/v1/admin/tokens/{token_id}": {"delete": admin(
        "Revoke a token (or a console session): refused from the next request on", SETTINGS, ok="TokenInfo",
        params=[path_param("token_id", "integer")], errors={"404": "token_not_found"})},
    **{f"/api/v1/admin/stores/{{code}}/staff/{{username}}/{action}": {"post": admin(
        summary, SETTINGS, ok="StaffAccount", body=body, params=[STORE_CODE, path_param("username")],
        errors={"404": "store_not_found, staff_not_found", **({"422": "weak_password (details.field)"} if body else {})})}
       for action, summary, body in (
           ("disable", "Disable a staff account: refused at once on every device", None),
           ("enable", "Enable a staff account again", None),
           ("password", "Set a staff member's new password; signs them out everywhere", "PasswordRequest"),
           ("sign-out", "Sign a staff member out on every device", None))},
    "/api/v1/admin/audit": {"get": admin("The audit log: the 100 newest admin changes", SETTINGS, ok="AuditLog")},
}

MEMBER_PATHS: dict[str, Any] = {
    "/api/v1/admin/members": {"get": admin(
        "Search and list members with balances, tier and last visit", READ, ok="MemberPage", params=[
            query_param("q", {"type": "string"}, "Name contains, phone contains, or the exact member number"), *PAGING, RULE_QUERY, MEMBER_SORT],
        description="Joined members, newest first unless `sort` says otherwise. Filter with `rule` (e.g. a tier or reachable condition).",
        errors={"422": f"invalid_page (page 1–100,000, per_page 1–500), invalid_sort (details.allowed), invalid_rule (not JSON, or "
                       f"details.path points at the bad part), or {TOO_LARGE}", **SLOW})},
    "/api/v1/admin/members.csv": {"get": admin(
        "Export the members list, filtered and sorted as the list is, as CSV", READ, ok_content=MEMBERS_CSV, ok_text=(
            "UTF-8 CSV with a BOM (Excel), `Content-Disposition: attachment; filename=members.csv`: every member the list would page "
            "through. Columns: member_no, name, phone, gender, tier, points, stamps, last_visit_at, joined_at, reachable. A text cell "
            "that starts with =, +, -, @, a tab or a carriage return starts with a single quote instead (OWASP CSV injection)."),
        params=[query_param("q", {"type": "string"}, "As for the list"), RULE_QUERY, MEMBER_SORT],
        errors={"422": f"invalid_sort, invalid_rule, or {TOO_LARGE}", **SLOW})},
    "/api/v1/admin/members/{member_no}": {"get": admin(
        "A member's profile, balances, ledger, coupons, tags, RFM/NES and messages", READ, ok="MemberDetail", params=[MEMBER_NO], errors=NO_MEMBER)},
    "/api/v1/admin/members/{member_no}/tags": {"post": admin(
        "Add a manual tag to a member", CAMPAIGNS, body="TagRequest", ok="MemberTags", ok_text="The member's tags now", params=[MEMBER_NO],
        description="The tag is created if new; adding it twice is harmless.",
        errors={**NO_MEMBER, "422": "invalid_tag (1–60 characters), or rule_tag (a rule tag is kept by its rule)"})},
    "/api/v1/admin/members/{member_no}/tags/{tag}": {"delete": admin(
        "Remove a manual tag from a member", CAMPAIGNS, ok="MemberTags", ok_text="The member's tags now", params=[MEMBER_NO, path_param("tag")],
        errors={"404": "No such member or tag (member_not_found, tag_not_found)", "422": "rule_tag (a rule tag is kept by its rule)"})},
    "/api/v1/admin/tags": {
        "get": admin("List tags, manual and rule", READ, ok="TagList"),
        "post": admin("Create a rule tag", CAMPAIGNS, body="RuleTagRequest", ok="Tag", status="201",
                      description="Members matching the rule are tagged now and on every recompute; members who stop matching lose the tag.",
                      errors={"422": f"invalid_json, invalid_name, invalid_rule (details.path), {TOO_LARGE}, or tag_exists", **SLOW}),
    },
    "/api/v1/admin/segments/preview": {"post": admin(
        "Count the members a rule selects, with a sample", READ, body="PreviewRequest", ok="SegmentPreview",
        errors={"422": f"invalid_json, invalid_rule (details.path points at the bad part), or {TOO_LARGE}", **SLOW})},
    "/api/v1/admin/segments": {
        "get": admin("List saved segments", READ, ok="SegmentList"),
        "post": admin("Save a segment (a named rule)", CAMPAIGNS, body="SegmentRequest", ok="SegmentCreated", status="201",
                      errors={"422": f"invalid_json, invalid_name, invalid_rule (details.path), {TOO_LARGE}, or segment_exists", **SLOW}),
    },
    "/api/v1/admin/segments/{segment_id}/members.csv": {"get": admin(
        "Export a segment's members as CSV", READ, params=[SEGMENT_ID], ok_content=CSV, ok_text=(
            "UTF-8 CSV with a BOM (Excel), `Content-Disposition: attachment; filename=segment-<id>.csv`. "
            "Columns: member_no, name, phone, gender, birthday_on, joined_at, reachable. A text cell that starts with =, +, -, @, "
            "a tab or a carriage return (a display name is anyone's text) starts with a single quote instead, so a spreadsheet "
            "shows it as text and never runs it as a formula (OWASP CSV injection)."),
        description="The segment's rule is evaluated now; members in member-number order.",
        errors={"404": "No such segment (segment_not_found)", **SLOW})},
    "/api/v1/admin/segments/recompute": {"post": admin(
        "Recompute RFM/NES stats and refresh rule tags", CAMPAIGNS, ok="Recompute",
        description="Scores every member who ever bought (RFM over the window RFM_WINDOW_DAYS; members whose purchases are all older "
                    "score 1 and are 一般挽留), NES against the purchase cycle (PURCHASE_CYCLE_DAYS), then the rule tags. No body. "
                    "The daily job, the scheduler (hourly) and every campaign's start recompute too.")},
    "/api/v1/admin/segments/overview": {"get": admin("The RFM grid, the NES funnel and when they were computed", READ, ok="SegmentOverview")},
    "/api/v1/admin/dashboard": {"get": admin(
        "The dashboard for a period", READ, params=[
            query_param("from", {"type": "string", "format": "date"}, "First day (Asia/Taipei), default 29 days before `to`"),
            query_param("to", {"type": "string", "format": "date"}, "Last day (Asia/Taipei), default today")],
        description=("Members (total, reachable, new, new_reachable: joined in the period and not blocking the account), visitors, regulars (2+ visits in the period), returning rate (visitors with 2+ visits "
                     "up to the period's end: again in it, or before it), block rate (members who blocked in the period ÷ members who were "
                     "friends at some point of it; `blocked_now` is today's count), revenue, distributions by gender, age and visit frequency, the RFM grid, the NES funnel, "
                     "a day-by-day trend (new members, visits, revenue), the top stores, `segments`: when they were computed, the rule "
                     "for high per dimension and the action hint per class, and `campaign_blocks`: per campaign that sent in the period, "
                     "per Taipei send day, the members sent to, those who blocked within 24 hours of the message (the campaign report's rule), "
                     "the rate and whether the 24 hours are over (`settled`); and per Monday–Sunday week (clipped to the period) the "
                     "unfollows and how many came within 24 hours of any campaign's message (`share`: null without unfollows)."),
        errors={"422": "invalid_period (dates like 2026-11-01, from ≤ to, at most a year)"})},
}

CAMPAIGN_PATHS: dict[str, Any] = {
    "/api/v1/admin/campaigns": {
        "post": admin("Compose a campaign (a draft)", CAMPAIGNS, body="CampaignRequest", ok="CampaignCreated", status="201",
                      description="Nothing is sent until POST …/send. The estimate counts joined, reachable members.",
                      errors={"422": "invalid_json, invalid_campaign (details.field: name, kind, content, holdout_pct, segment_id, scheduled_at), "
                                     f"invalid_rule, or {TOO_LARGE}", **SLOW}),
        "get": admin("List campaigns", READ, ok="CampaignList"),
    },
    "/api/v1/admin/campaigns/{campaign_id}": {
        "get": admin("A campaign with its report", READ, ok="CampaignDetail", params=[CAMPAIGN_ID], errors=NO_CAMPAIGN),
        "put": admin("Rewrite a draft with the whole composition", CAMPAIGNS, body="CampaignRequest", ok="CampaignCreated", params=[CAMPAIGN_ID],
                     description="The console's 下一步 saves its composition once (POST) and rewrites that draft on every later review, "
                                 "so one composition leaves one draft. The body is the whole composition, as for POST.",
                     errors={**NO_CAMPAIGN, "409": "campaign_not_draft (scheduled, sending, sent or cancelled: compose a new one)",
                             "422": "invalid_json, invalid_campaign (details.field), invalid_rule, or " + TOO_LARGE, **SLOW})},
    "/api/v1/admin/campaigns/{campaign_id}/estimate": {"get": admin(
        "Audience and messages against the remaining monthly LINE quota", READ, ok="QuotaEstimate", params=[CAMPAIGN_ID], errors={**NO_CAMPAIGN, **SLOW})},
    "/api/v1/admin/campaigns/{campaign_id}/send": {"post": admin(
        "Send now, or schedule for scheduled_at", CAMPAIGNS, body="SendRequest", ok="CampaignSending", status="202", ok_text="Scheduled, or sending started",
        params=[CAMPAIGN_ID], description="Send `{}` normally. Over the remaining quota it needs `{\"confirm_over_quota\": true}`.",
        errors={**NO_CAMPAIGN, "409": "over_quota (details: the estimate; confirm or narrow the target), or campaign_not_draft",
                "422": "invalid_json (send a JSON object, {} is enough)", **SLOW})},
    "/api/v1/admin/campaigns/{campaign_id}/cancel": {"post": admin(
        "Cancel a draft or scheduled campaign", CAMPAIGNS, ok="Campaign", params=[CAMPAIGN_ID], description="No body.",
        errors={**NO_CAMPAIGN, "409": "campaign_not_cancellable (already sending, sent or cancelled)"})},
    "/api/v1/admin/campaigns/{campaign_id}/report": {"get": admin(
        "Delivery, coupons, revenue and uplift against the holdout", READ, ok="CampaignReport", params=[
            CAMPAIGN_ID, query_param("days", {"type": "integer", "default": 14, "minimum": 1, "maximum": 365},
                                     "Attribution window in days from the start (values outside 1–365 are clamped)")],
        errors={**NO_CAMPAIGN, "422": "invalid_days (not a whole number)"})},
    "/api/v1/admin/campaigns/{campaign_id}/report.csv": {"get": admin(
        "The campaign's funnel as CSV: target against holdout", READ, ok_content=FUNNEL_CSV, ok_text=(
            "UTF-8 CSV with a BOM. Rows: targeted, sent, opened and clicked (LINE's unique users; empty with a note when LINE "
            "shows no count: under 20 users, or not fetched yet); for a campaign sent with tracked links clicked_tracked (members "
            "who clicked through the bot's redirect), redeemed_after_click, bought_after_click and link_N (each link's clickers, "
            "its URL as the note); blocked_within_24h, coupons_redeemed, bought (target), held_out and "
            "bought (holdout). share_of_sent: the target row's members ÷ sent."),
        params=[CAMPAIGN_ID, query_param("days", {"type": "integer", "default": 14, "minimum": 1, "maximum": 365}, "Attribution window in days from the start")],
        errors={**NO_CAMPAIGN, "422": "invalid_days (not a whole number)"})},
}

JOURNEY_KIND = path_param("kind", description="welcome, birthday, winback, tier_up, tier_expiring, card_almost_full or coupon_expiring")
NO_JOURNEY = {"404": "No such journey (journey_not_found)"}
DAYS = query_param("days", {"type": "integer", "default": 14, "minimum": 1, "maximum": 365},
                   "Attribution window in days after each message (values outside 1–365 are clamped)")
JOURNEY_PATHS: dict[str, Any] = {
    "/api/v1/admin/journeys": {"get": admin(
        "List the automations with their reports", READ, ok="JourneyList", params=[DAYS],
        description="Every kind is listed; a kind never configured is created switched off with a default message.",
        errors={"422": "invalid_days (not a whole number)"})},
    "/api/v1/admin/journeys/{kind}": {"put": admin(
        "Switch an automation on or off, or edit it", CAMPAIGNS, body="JourneyUpdate", ok="Journey", params=[JOURNEY_KIND], errors={
            **NO_JOURNEY, "422": "invalid_json, invalid_journey (details.field: an unknown field, text, coupon_template_id, …), invalid_rule, "
                                 f"or {TOO_LARGE}"})},
    "/api/v1/admin/journeys/{kind}/report": {"get": admin(
        "An automation's report: triggered, sent, skipped (why), coupons, revenue", READ, ok="JourneyReport", params=[JOURNEY_KIND, DAYS],
        errors={**NO_JOURNEY, "422": "invalid_days (not a whole number)"})},
}

PERIOD = [query_param(name, {"type": "string", "format": "date"}, f"{what} (Asia/Taipei day, included); left out: unbounded")
          for name, what in (("from", "First day"), ("to", "Last day"))]
REFERRAL_PATHS: dict[str, Any] = {
    "/api/v1/admin/referral-program": {
        "get": admin("The referral programme: rewards, qualifying purchase, monthly cap", SETTINGS, ok="ReferralProgram"),
        "put": admin("Change the referral programme", SETTINGS, body="ReferralProgram", ok="ReferralProgram",
                     errors={"422": "invalid_json, or invalid_referral_program (details.field names the bad field)"})},
    "/api/v1/admin/referrals": {"get": admin(
        "Referrals per referrer and in total over a period", READ, ok="ReferralReport", params=PERIOD,
        description="invited: codes recorded; joined: friends who completed joining; purchased: first qualifying purchases "
                    "(rewarded or not); rewarded: referrals that issued rewards. Each is counted on the day it happened.",
        errors={"422": "invalid_period (details.field: from or to is not a date, or from is after to)"})},
}

PATHS: dict[str, Any] = {**COUNTER_PATHS, **SHIFT_PATHS, **CORRECTION_PATHS, **SETTINGS_PATHS, **SETTINGS_MORE_PATHS, **MEMBER_PATHS, **CAMPAIGN_PATHS, **JOURNEY_PATHS, **REFERRAL_PATHS, **CONSOLE_PATHS, **SEGMENT_PATHS, **PRIVACY_PATHS, **CLICK_PATHS, **PRODUCT_PATHS, **IMPORT_PATHS, **AFFINITY_PATHS}

TAGS = [  # (name, description, path prefixes); the first match names an operation's group
    ("Counter", "The cashier page and POS integrations: staff token or POS key", ("/api/v1/auth", "/api/v1/me", "/api/v1/scan", "/api/v1/awards", "/api/v1/rewards",
                                                                                "/api/v1/redemptions", "/api/v1/grants", "/api/v1/confirmations", "/api/v1/correction", "/api/v1/members", "/api/v1/claims", "/api/v1/shift", "/api/v1/premembers",
                                                                                "/api/v1/products")),
    ("Coupons", "Checking, redeeming and voiding coupons at the counter", ("/api/v1/coupons",)),
    ("Console", "Admin console: sign-in, who am I, the forms' choices", ("/api/v1/admin/auth", "/api/v1/admin/lookups")),
    ("Members", "Admin: members, tags, balance adjustments and their approval, data export and erasure", ("/api/v1/admin/members", "/api/v1/admin/tags",
                                                                              "/api/v1/admin/correction-requests")),
    ("Segments", "Admin: segment rules, RFM/NES, exports", ("/api/v1/admin/segments",)),
    ("Campaigns", "Admin: compose, estimate, send and report", ("/api/v1/admin/campaigns",)),
    ("Journeys", "Admin: automations (welcome, birthday, win-back, …)", ("/api/v1/admin/journeys",)),
    ("Referrals", "Admin: the member-get-member programme and its report", ("/api/v1/admin/referral",)),
    ("Products", "Admin: the product catalogue receipt line items are matched to, and the unknown SKUs to map", ("/api/v1/admin/products",)),
    ("Settings", "Admin: stores, staff, POS keys, rules, rewards, tiers, coupon templates, console accounts, tokens, audit", ("/api/v1/admin",)),
]


def _tagged(paths: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path, ops in paths.items():
        name = next((n for n, _, prefixes in TAGS if path.startswith(prefixes)), None)
        out[path] = {method: ({**o, "tags": [name]} if name else o) for method, o in ops.items()}
    return out


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Loyalty bot: cashier, POS and admin API", "version": "1",
                 "description": "Errors are always `{code, message, details}`; clients key on `code`. Browse it at [/docs](/docs).\n\n"
                                "A JSON body is read strictly: NaN or Infinity, a number past 64 bits or past a float, nesting deeper "
                                "than 64, a NUL or an unpaired surrogate anywhere is 422 `invalid_json` (`details.path`, a JSON pointer, "
                                "and `details.field`); a top-level name the body's schema does not list is 422 `unknown_field` "
                                "(`details.fields`: every unknown name; `details.allowed`). A NUL in a query value is 422 `invalid_query`."},
        "tags": [{"name": n, "description": d} for n, d, _ in TAGS],
        "paths": _tagged(PATHS),
        "components": {"schemas": {**SCHEMAS, **MARKETING_SCHEMAS, **RULE_SCHEMAS, **CONSOLE_SCHEMAS, **SETTINGS_MORE_SCHEMAS, **CORRECTION_SCHEMAS, **SEGMENT_SCHEMAS, **PRIVACY_SCHEMAS, **SHIFT_SCHEMAS, **CLICK_SCHEMAS, **PRODUCT_SCHEMAS, **IMPORT_SCHEMAS, **AFFINITY_SCHEMAS}, "responses": RESPONSES, "securitySchemes": SECURITY_SCHEMES},
    }


@bp.get("/openapi.json")
def openapi_json():  # type: ignore[no-untyped-def]
    return document()
