"""Campaigns, journeys (automations) and referrals in the OpenAPI document: their schemas
(bot/api/openapi/document.py lists their paths and merges these with the others)."""
from __future__ import annotations

from typing import Any

from bot.api.openapi.schemas import AMOUNT, COUNTS, MONEY, TIME, TIME_OR_NULL, _list_of, _obj, ref
from models.campaign import KINDS
from models.journey import KINDS as JOURNEY_KINDS
from models.limits import MAX_REFERRAL_POINTS, MAX_REFERRAL_STAMPS

CAMPAIGN_STATUS = {"type": "string", "enum": ["draft", "scheduled", "sending", "sent", "cancelled"],
                   "description": "draft → scheduled → sending → sent, or cancelled (only a draft or scheduled campaign)"}
CAMPAIGN_SCHEMAS: dict[str, Any] = {
    "TextContent": _obj(["text"], doc="kind text", text={"type": "string", "maxLength": 5000, "description": "Sent as written (no placeholders); at most LINE's 5,000 characters"}),
    "ImageContent": _obj(["url"], doc="kind image", url={"type": "string", "format": "uri", "description": "https JPEG/PNG"},
                         preview_url={"type": "string", "format": "uri", "description": "default: url"}),
    "FlexContent": _obj(["alt_text", "contents"], doc="kind flex", alt_text={"type": "string"},
                        contents={"type": "object", "description": "A LINE Flex container (bubble or carousel)"}),
    "CouponOfferContent": _obj(["coupon_template_id"], doc="kind coupon_offer: a card with a claim button that issues the coupon once",
                               coupon_template_id={"type": "integer"}, title={"type": "string", "description": "default: the bot's offer_title text"},
                               text={"type": "string", "description": "default: the bot's offer_body text"}),
    "CampaignRequest": _obj(
        ["name", "kind", "content"], name={"type": "string", "minLength": 1}, kind={"type": "string", "enum": list(KINDS)},
        content={"description": "The message; its shape depends on kind. LINE's SDK models check it (422 invalid_campaign).",
                 "anyOf": [ref("TextContent"), ref("ImageContent"), ref("FlexContent"), ref("CouponOfferContent")]},
        rule=ref("TargetRule"), segment_id={"type": "integer", "description": "Target a saved segment: its rule is used instead of rule"},
        holdout_pct={"type": "integer", "minimum": 0, "maximum": 50, "default": 0, "description": "Share of the audience kept out, as the control group of the report"},
        scheduled_at={**TIME, "description": "With a time zone (e.g. 2026-12-01T10:00:00+08:00). Left out: sent when POST …/send is called"},
    ),
    "Campaign": _obj(
        ["id", "name", "kind", "status"], id={"type": "integer"}, name={"type": "string"}, kind={"type": "string", "enum": list(KINDS)}, content={"type": "object"},
        rule={"type": ["object", "null"]}, segment_id={"type": ["integer", "null"]}, holdout_pct={"type": "integer"}, status=CAMPAIGN_STATUS,
        scheduled_at=TIME_OR_NULL, created_at=TIME, started_at=TIME_OR_NULL, finished_at=TIME_OR_NULL,
    ),
    "CampaignList": {**_list_of("campaigns", "Campaign"), "description": "The 200 newest, newest first"},
    "AudienceEstimate": _obj(["audience", "holdout_estimate", "messages_estimate"], audience={"type": "integer", "description": "Joined, reachable members the rule selects"},
                             holdout_estimate={"type": "integer"}, messages_estimate={"type": "integer"}),
    "QuotaEstimate": {"allOf": [ref("AudienceEstimate"), _obj(
        ["quota", "over_quota"], over_quota={"type": "boolean", "description": "More messages than the month has left"},
        quota=_obj(limit={"type": ["integer", "null"], "description": "null: no monthly limit"}, used={"type": "integer"}, remaining={"type": ["integer", "null"]}))]},
    "CampaignCreated": {"allOf": [ref("Campaign"), _obj(["estimate"], estimate=ref("AudienceEstimate"))]},
    "SendRequest": _obj(confirm_over_quota={"type": "boolean", "default": False, "description": "Must be true to send over the remaining monthly quota"}),
    "CampaignSending": {"allOf": [ref("Campaign"), _obj(["estimate"], estimate=ref("QuotaEstimate"))]},
    "GroupOutcome": _obj(members={"type": "integer"}, buyers={"type": "integer"}, conversion={"type": "number"}, revenue=MONEY, revenue_per_member=MONEY),
    "CampaignReport": _obj(
        status=CAMPAIGN_STATUS,
        segments=_obj(doc="The member stats (RFM, NES, rule tags) the audience was chosen on: recomputed when the campaign started",
                      computed_at={**TIME_OR_NULL, "description": "null: chosen before this was recorded, or not started"},
                      age_seconds={"type": ["integer", "null"], "description": "How old those stats were when the campaign started"}),
        targeted={"type": "integer"}, held_out={"type": "integer"}, sent={"type": "integer"}, failed={"type": "integer"},
        skipped={**COUNTS, "description": "Per reason: capped (frequency cap), unreachable"}, pending={"type": "integer"},
        coupons=_obj(claimed={"type": "integer"}, redeemed={"type": "integer"}, revenue=MONEY), window_days={"type": "integer"},
        target=ref("GroupOutcome"), holdout=ref("GroupOutcome"), clicks=ref("CampaignClicks"),
        uplift=_obj(doc="Target minus holdout; null without a holdout", conversion_points={"type": ["number", "null"]},
                    revenue_per_member={"type": ["string", "null"]}),
    ),
    "CampaignDetail": {"allOf": [ref("Campaign"), _obj(["report"], report=ref("CampaignReport"))]},
}

JOURNEY_FIELDS: dict[str, Any] = {
    "enabled": {"type": "boolean"},
    "text": {"type": "string", "minLength": 1, "maxLength": 1000, "description": (
        "The message; placeholders {brand} {name} {tier} {reward} {coupon}, replaced by their values and nothing else ({{ and }} are a literal brace). Anything else in braces (another name, attribute or index access, a format spec or conversion such as {name:>9} or {name!r}, a lone brace) is 422 invalid_journey with details.field text and details.placeholder. The message sent is cut at LINE's 5,000 characters")},
    "coupon_template_id": {"type": ["integer", "null"], "description": "A coupon issued with the message (null: none)"},
    "delay_minutes": {"type": "integer", "minimum": 0, "maximum": 86400, "description": "Wait this long after the trigger"},
    "days_before": {"type": "integer", "minimum": 0, "maximum": 60, "description": "birthday, tier_expiring, coupon_expiring: how many days ahead"},
    "condition": {**ref("TargetRule"), "description": "Sent only to members matching this rule when the run is due (null: everyone)"},
    "target_nes": {"type": "array", "items": {"type": "string", "enum": ["S1", "S2", "S3"]}, "minItems": 1, "uniqueItems": True, "description": (
        "winback only: the NES stages it reaches (default S1 and S2; S3 is over three purchase cycles since the last visit). "
        "Listed only on the win-back; 422 invalid_journey (details.field target_nes) on any other journey or an empty list")},
}
JOURNEY_KIND = {"type": "string", "enum": list(JOURNEY_KINDS), "description": (
    "welcome (joined), birthday, winback (lapsed: the NES stages in target_nes; skipped if the member came back), tier_up, tier_expiring, "
    "card_almost_full (one stamp short), coupon_expiring")}
PURCHASE_CYCLE = _obj(
    ["days", "source"], doc="The brand's purchase cycle, which NES (and so the win-back) measures lapses in",
    days={"type": "integer", "minimum": 1}, source={"type": "string", "enum": ["data", "default", "override"], "description": (
        "data: the median gap between a member's consecutive purchases across the brand (at least min_gaps gaps); "
        "default: 30 days (fewer gaps); override: PURCHASE_CYCLE_DAYS")},
    gaps={"type": "integer", "description": "Gaps the median was taken over"}, median_days={"type": ["number", "null"]},
    min_gaps={"type": "integer"}, sampled={"type": "boolean", "description": (
        "Over 200,000 awards (PostgreSQL): the gaps of every k-th member, whole histories, the same members every time")})
JOURNEY_SCHEMAS: dict[str, Any] = {
    "Journey": _obj(["kind", "enabled", "text", "service"], kind=JOURNEY_KIND, **JOURNEY_FIELDS, service={"type": "boolean", "description": (
        "A service message (tier_up, tier_expiring, coupon_expiring, and birthday with a coupon): not counted against and not held "
        "by MARKETING_PER_WEEK; quiet hours still hold it")}, updated_at=TIME),
    "JourneyUpdate": {**_obj(doc="Only the fields sent are changed", **JOURNEY_FIELDS), "additionalProperties": False},
    "JourneyReport": _obj(
        triggered={"type": "integer"}, sent={"type": "integer"}, pending={"type": "integer"},
        skipped={**COUNTS, "description": ("Per reason: capped, unreachable, condition, came_back, disabled; tier_expiring: qualified "
                                            "(kept the tier before it was sent), period_over, reminded (by the daily job); "
                                            "coupon_expiring: used, voided, expired, reminded; tier_up, tier_expiring: tier_changed "
                                            "(no longer in the tier the message is about)")},
        coupons_redeemed={"type": "integer", "description": "The journey's coupons redeemed within window_days after their message"},
        coupon_revenue={**MONEY, "description": "Purchase amounts entered when those coupons were redeemed"},
        revenue_within_days={**MONEY, "description": "NT$ members spent within window_days after a message"}, window_days={"type": "integer"},
        line=_obj(
            doc=("LINE's statistics for the journey's aggregation unit (journey_<kind>) over `period` (LINE's UTC+9 days: the last 31 at most), "
                 "fetched by the insights job at most every 12 hours. Any count is null when LINE withholds it (under 20 users), never 0"),
            unit={"type": "string"}, impressions={"type": ["integer", "null"], "description": "Times the message was shown"},
            unique_impressions={"type": ["integer", "null"]}, unique_clicks={"type": ["integer", "null"]},
            clicks={"type": "array", "items": {"type": "object"}, "description": "Per URL: url, clicks, unique_clicks (null under 20 users)"},
            recipients={"type": ["integer", "null"], "description": "Members the journey sent to in the period (the rates' denominator)"},
            open_rate={"type": ["number", "null"]}, click_rate={"type": ["number", "null"]},
            period={"type": ["object", "null"]}, fetched_at=TIME_OR_NULL,
            note={"type": ["string", "null"], "enum": [None, "not_fetched", "too_few_recipients", "below_minimum", "error"], "description": (
                "not_fetched: LINE's figures come hours after sending and the job has not asked yet; too_few_recipients: under 20 members "
                "received it in the period, so LINE shows no count; below_minimum: fewer than 20 users opened it; error: the call failed")})),
    "JourneyList": _obj(["journeys", "purchase_cycle"], purchase_cycle=PURCHASE_CYCLE, journeys={"type": "array", "items": {"allOf": [ref("Journey"), _obj(["report"], report=ref("JourneyReport"))]}}),
}

REFERRAL_COUNTS = {s: {"type": "integer"} for s in ("invited", "joined", "purchased", "rewarded")}
REFERRAL_SCHEMAS: dict[str, Any] = {
    "ReferralReward": {"description": "What one side gets on the friend's first qualifying purchase; null: nothing", "oneOf": [
        {"type": "null"},
        _obj(["kind", "amount"], kind={"type": "string", "enum": ["stamps", "points"]}, amount={
            "type": "integer", "minimum": 1, "maximum": MAX_REFERRAL_POINTS,
            "description": f"stamps: 1 to {MAX_REFERRAL_STAMPS}; points: 1 to {MAX_REFERRAL_POINTS:,}"}),
        _obj(["kind", "coupon_template_id"], kind={"const": "coupon"}, coupon_template_id={"type": "integer"})]},
    "ReferralProgram": _obj(
        doc="PUT changes only the fields sent", enabled={"type": "boolean", "description": "Off: codes are refused and nothing is rewarded"},
        referrer_reward=ref("ReferralReward"), friend_reward=ref("ReferralReward"),
        min_purchase={**AMOUNT, "description": "A purchase qualifies from this NT$ amount; 0: any paid purchase or visit"},
        monthly_cap={"type": ["integer", "null"], "minimum": 1, "description": "Rewarded referrals per referrer per Taipei calendar month (null: no cap)"},
        new_friend_hours={"type": "integer", "minimum": 1, "maximum": 720, "description": "A code counts only this long after the friend's first follow"},
        updated_at={**TIME_OR_NULL, "readOnly": True}),
    "ReferralReport": _obj(
        ["totals", "referrers"], doc="Each stage counted when it happened within the period",
        **{"from": {"type": ["string", "null"], "format": "date"}, "to": {"type": ["string", "null"], "format": "date"}},
        totals=_obj(**REFERRAL_COUNTS, referrers={"type": "integer", "description": "Referrers with any activity"}),
        referrers={"type": "array", "description": "Most rewarded first (at most 500)", "items": _obj(
            member_no={"type": ["string", "null"]}, name={"type": ["string", "null"]}, code={"type": ["string", "null"]}, **REFERRAL_COUNTS)}),
}

MARKETING_SCHEMAS: dict[str, Any] = {**CAMPAIGN_SCHEMAS, **JOURNEY_SCHEMAS, **REFERRAL_SCHEMAS}
