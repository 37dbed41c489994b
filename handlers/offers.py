"""Campaign messages, and the claim button of a coupon offer (multicast cannot personalise,
so the message carries a button and a tap issues that member's own coupon, once)."""
from __future__ import annotations

from typing import Any

from linebot.v3.messaging import FlexContainer, FlexMessage, ImageMessage, Message, TextMessage
from sqlalchemy import select

from handlers import Context, Input, join
from handlers.messages import TEXT_LIMIT, action_bubble, line_length, postback, text
from handlers.texts import Texts
from models.campaign import Campaign, CampaignRecipient
from models.coupon import CouponTemplate, describe_value, issue

CLAIM = "claim_offer"


def campaign_messages(kind: str, content: dict[str, Any], *, campaign_id: int, texts: Texts) -> list[Message]:
    """SDK messages for a campaign; raises (KeyError, ValueError, TypeError) on malformed content."""
    if kind == "text":  # sent as written: a campaign's text has no placeholders (multicast cannot personalise)
        body = str(content["text"])
        if line_length(body) > TEXT_LIMIT:
            raise ValueError(f"text is at most {TEXT_LIMIT:,} characters")
        return [TextMessage(text=body)]
    if kind == "image":
        return [ImageMessage(original_content_url=content["url"], preview_image_url=content.get("preview_url") or content["url"])]
    if kind == "flex":
        return [FlexMessage(alt_text=str(content["alt_text"]), contents=FlexContainer.from_dict(content["contents"]))]
    title = str(content.get("title") or texts("offer_title"))
    body = str(content.get("text") or texts("offer_body"))
    button = postback(texts("offer_claim"), CLAIM, display_text=texts("offer_claim"), c=str(campaign_id))
    return [action_bubble(title, body, [button], alt=title)]


def claim_offer(inp: Input, ctx: Context) -> list[Message]:
    t, session = ctx.texts, ctx.session
    if not ctx.member.is_member:
        return [text(t("card_not_member")), join.join_invitation(t)]
    try:
        campaign_id = int(inp.params.get("c", ""))
    except ValueError:
        return [text(t("offer_unknown"))]
    campaign = session.get(Campaign, campaign_id)
    invited = session.scalar(select(CampaignRecipient.group).where(
        CampaignRecipient.campaign_id == campaign_id, CampaignRecipient.member_id == ctx.member.id))
    if campaign is None or campaign.coupon_template_id is None or invited != "target":
        return [text(t("offer_unknown"))]
    template = session.get(CouponTemplate, campaign.coupon_template_id)
    if template is None:
        return [text(t("offer_unknown"))]
    result = issue(session, template=template, member_id=ctx.member.id, source="campaign", occasion=f"campaign:{campaign_id}", now=ctx.now)
    if result.coupon is None:
        return [text(t("offer_gone" if result.reason == "out_of_stock" else "offer_unknown"))]
    if not result.created:
        return [text(t("offer_already", name=template.name))]
    return [text(t("offer_claimed", name=template.name, value=describe_value(template)))]
