"""Click tracking per member in the OpenAPI document (bot/api/admin/campaigns.py, bot/web/redirect.py); bot/api/openapi/document.py
merges these paths and schemas."""
from __future__ import annotations

from typing import Any

from bot.api.openapi.schemas import MONEY, READ, TIME, _obj, op, path_param, query_param

CAMPAIGN_ID = path_param("campaign_id", "integer")
NO_CAMPAIGN = {"404": "No such campaign (campaign_not_found)"}

CLICK_SCHEMAS: dict[str, Any] = {
    "CampaignClicks": _obj(
        ["tracked", "unique_clickers", "clicks", "links", "after_click"],
        doc="Clicks per member through the bot's /r/<token> redirect: a campaign whose message has web links is sent one push per member",
        tracked={"type": "boolean", "description": "false: the message had no web link (sent by multicast, nothing to count)"},
        unique_clickers={"type": "integer"}, clicks={"type": "integer", "description": "every click, repeats included"},
        click_rate={"type": ["number", "null"], "description": "unique clickers ÷ sent"},
        links={"type": "array", "items": _obj(id={"type": "integer"}, position={"type": "integer"}, url={"type": "string"}, label={"type": ["string", "null"]},
                                              clicks={"type": "integer"}, unique_clickers={"type": "integer"}, click_rate={"type": ["number", "null"]})},
        after_click=_obj(doc="Clickers who, after their first click and within the window, bought or redeemed the campaign's coupon",
                         buyers={"type": "integer"}, revenue=MONEY, coupons_redeemed={"type": "integer"},
                         conversion={"type": ["number", "null"], "description": "buyers ÷ unique clickers"})),
    "CampaignClickers": _obj(
        ["total", "page", "per_page", "clickers"], total={"type": "integer"}, page={"type": "integer"}, per_page={"type": "integer"},
        clickers={"type": "array", "items": _obj(
            member_no={"type": ["string", "null"]}, display_name={"type": ["string", "null"], "description": "null once erased"},
            first_click_at=TIME, clicks={"type": "integer"}, links={"type": "integer", "description": "distinct links clicked"},
            bought_after_click={**MONEY, "description": "NT$ of awards after the first click, within the window"})}),
}

CLICK_PATHS: dict[str, Any] = {
    "/api/v1/admin/campaigns/{campaign_id}/clicks": {"get": op(
        "Who clicked the campaign's links (the bot's /r/<token> redirect), first clickers first", auth="admin", scope=READ, ok="CampaignClickers", params=[
            CAMPAIGN_ID, query_param("page", {"type": "integer", "default": 1, "minimum": 1, "maximum": 10000}, "Page, from 1"),
            query_param("per_page", {"type": "integer", "default": 50, "minimum": 1, "maximum": 500}, "Clickers per page"),
            query_param("days", {"type": "integer", "default": 14, "minimum": 1, "maximum": 365}, "Attribution window in days from the start")],
        errors={**NO_CAMPAIGN, "422": "invalid_page or invalid_days"})},
}
