"""我的優惠券: the member's usable coupons, each with its own signed QR and expiry."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from linebot.v3.messaging import FlexBox, FlexBubble, FlexCarousel, FlexImage, FlexMessage, FlexText, Message

from handlers import Context, Input, join
from handlers.messages import BRAND_COLOR, text
from models.coupon import Coupon, CouponTemplate, coupon_token, describe_value, usable_coupons

TAIPEI = ZoneInfo("Asia/Taipei")


def coupon_bubble(coupon: Coupon, template: CouponTemplate, ctx: Context) -> FlexBubble:
    t, s = ctx.texts, ctx.settings
    token = coupon_token(s.secret_key, coupon.code)
    body = [
        FlexText(text=describe_value(template), size="lg", weight="bold", color=BRAND_COLOR, wrap=True),
        FlexText(text=t("coupon_expires", date=coupon.expires_at.astimezone(TAIPEI).strftime("%Y/%m/%d %H:%M")), size="xs", color="#8C8C8C"),
    ]
    if template.min_spend > 0:
        body.append(FlexText(text=t("coupon_min_spend", amount=format(template.min_spend.normalize(), ",f")), size="xs", color="#8C8C8C"))
    body += [
        FlexImage(url=f"{s.public_base_url}/qr/coupon/{token}.png", size="lg", aspect_ratio="1:1", margin="md"),
        FlexText(text=coupon.code, size="sm", align="center", color="#333333"),
        FlexText(text=t("coupon_show_hint"), size="xxs", align="center", color="#8C8C8C"),
    ]
    return FlexBubble(
        size="kilo",
        header=FlexBox(layout="vertical", background_color=BRAND_COLOR, contents=[FlexText(text=template.name, color="#FFFFFF", weight="bold", wrap=True)]),
        body=FlexBox(layout="vertical", spacing="sm", contents=body),
    )


def show_coupons(inp: Input, ctx: Context) -> list[Message]:
    t = ctx.texts
    if not ctx.member.is_member:
        return [text(t("card_not_member")), join.join_invitation(t)]
    rows = usable_coupons(ctx.session, ctx.member.id, ctx.now)
    if not rows:
        return [text(t("coupons_none"))]
    bubbles = [coupon_bubble(c, tpl, ctx) for c, tpl in rows[:12]]
    return [FlexMessage(alt_text=t("coupons_alt", count=len(rows)), contents=FlexCarousel(contents=bubbles))]
