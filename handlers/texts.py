"""Every string a member sees, in one table (zh-TW). A brand overrides any key with a JSON file
named by BRAND_TEXTS_FILE: {"welcome": "...", ...}. Placeholders are {name}, and {amount:,} for a number
with thousands separators (models/placeholder.py: never str.format, no attribute access or other specs)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping

from models.placeholder import PlaceholderError, check, render

ZH_TW: dict[str, str] = {
    # Units: the word for a stamp (a brand may say 杯, 枚, 格…) and for a point; every text below uses
    # {stamp} and {point}, and the cashier page shows the same words (GET /api/v1/me).
    "stamp_unit": "章",
    "point_unit": "點",
    # Follow
    "welcome": "{name}您好！謝謝您加入{brand}的 LINE 好友 ☕\n加入會員即可集點、領取專屬優惠。",
    "welcome_back": "{name}，歡迎回來！您的會員資格與點數都還在。",
    "welcome_back_guest": "{name}，歡迎回來！加入會員即可集點、領取專屬優惠。",
    "join_card_title": "加入 {brand} 會員",
    "join_card_body": "免費加入，立即擁有會員卡，消費集點、生日禮與會員專屬優惠。",
    "join_button": "立即加入會員",
    "name_fallback": "朋友",
    # Join flow
    "join_already_member": "您已經是會員囉！會員編號 {member_no}。",
    "join_resume": "我們接著上次的步驟繼續 👇",
    "join_consent_title": "會員條款與隱私權政策",
    "join_consent_body": "加入會員前，請閱讀並同意會員條款與隱私權政策（版本 {version}）。我們只會將您的資料用於會員服務。",
    "join_consent_read": "閱讀條款內容",
    "join_consent_yes": "同意並繼續",
    "join_consent_no": "不同意",
    "join_consent_declined": "沒問題，您隨時可以再輸入「加入會員」重新開始。",
    "join_consent_hint": "請點選「同意並繼續」或「不同意」。",
    "join_birthday_title": "您的生日",
    "join_birthday_ask": "請選擇您的生日 🎂（生日當月有專屬禮物）",
    "join_birthday_button": "選擇生日",
    "join_birthday_bad": "看不懂這個日期 😅 請用下方按鈕選擇生日，或輸入像 1990-05-20 的格式。",
    "join_birthday_future": "生日不能是未來的日期喔，請再選一次。",
    "join_phone_ask": "請輸入您的手機號碼（例如 0912345678），方便門市查詢會員。\n不想提供可以點「略過」。",
    "join_phone_bad": "手機號碼格式不太對喔，請輸入 09 開頭的 10 位數字（例如 0912345678），或點「略過」。",
    "join_phone_in_use": "這個手機號碼在門市的集點紀錄無法轉入：已有其他 LINE 會員使用這個號碼。請輸入您自己的手機號碼，或點「略過」，並洽門市店員協助。",
    "join_claim_ask": "這個手機號碼在門市已有集點紀錄 🎁\n請輸入收據上或店員提供的 8 位數「認領碼」，即可把點數、集章與優惠券轉到您的會員帳號。\n沒有認領碼可以點「略過」，之後再到門市索取。",
    "join_claim_bad": "認領碼不正確，請再確認收據上的 8 位數字（例如 1234-5678），或點「略過」。",
    "join_claim_locked": "認領碼輸入錯誤太多次，請稍後再試，或請店員重新提供認領碼；也可以先點「略過」完成入會。",
    "join_claim_merged": "✅ 已將門市的集點紀錄轉入您的會員帳號（{entries} 筆紀錄、{coupons} 張優惠券）。",
    "join_claim_failed": "門市的集點紀錄這次沒有轉入（認領碼已更換或已被認領），請洽門市店員協助。",
    "join_gender_ask": "最後一題：請問您的性別？（可略過）",
    "join_gender_bad": "請點選下方的選項，或點「略過」。",
    "join_done": "🎉 歡迎成為 {brand} 會員！\n您的會員編號：{member_no}\n結帳時出示會員卡 QR 碼即可集點。",
    "join_cancelled": "已取消加入會員，已填寫的資料不會保存。想加入時再輸入「加入會員」即可。",
    "join_not_in_flow": "目前沒有進行中的步驟。",
    "skip": "略過",
    "cancel": "取消",
    "gender_male": "男",
    "gender_female": "女",
    "gender_other": "其他",
    # Member card
    "card_alt": "{brand} 會員卡",
    "card_title": "{brand} 會員卡",
    "card_member": "會員",
    "card_number": "會員編號",
    "card_tier": "等級",
    "card_points": "點數",
    "card_stamps": "集{stamp}",
    "card_qr_hint": "結帳時請出示此 QR 碼，{minutes} 分鐘內有效",
    "card_refresh": "更新 QR 碼",
    "card_not_member": "您還不是會員喔，加入會員後就能使用會員卡 👇",
    "tier_default": "一般會員",
    # Stamps and points
    "stamps_alt": "{brand} 集點卡：{stamps}/{size} {stamp}",
    "stamps_title": "{brand} 集點卡",
    "stamps_progress": "再集 {left} {stamp}，即可兌換「{reward}」",
    "stamps_card_full": "✅ 集滿 {size} {stamp}！「{reward}」已可兌換",
    "stamps_next_card": "新的一張已開始：目前 {n} {stamp}",
    "stamps_points": "目前點數 {points:,} {point}",
    "stamps_rewards_ready": "🎁 您有 {count} 個獎勵可兌換：{names}",
    "stamps_history_title": "最近紀錄",
    "stamps_history_empty": "還沒有紀錄，結帳時出示會員卡即可集點。",
    "stamps_award_title": "集點成功！",
    "stamps_award_body": "{store}：{what}",
    "stamps_award_stamps": "+{n} {stamp}",
    "stamps_award_points": "+{n} {point}",
    "stamps_award_reward": "🎉 集滿一張卡！已送您「{reward}」，下次結帳時告訴店員即可兌換。",
    "redeemed_title": "兌換成功！",
    "redeemed_body": "{store}：已兌換「{reward}」",
    "redeemed_points": "使用 {n:,} {point}",
    "redeemed_coupon": "{store}：已使用優惠券「{name}」（{value}）",
    "unit_stamp": "{stamp}",
    "unit_point": "{point}",
    "reason_award": "消費集點",
    "reason_card_reward": "集滿兌換 {note}",
    "reason_redeem": "兌換 {note}",
    "reason_expire": "到期",
    "reason_correction": "調整：{note}",
    "reason_other": "異動",
    "claim_done": "✅ 收據集點完成！",
    "claim_unknown": "找不到這個領取碼，請確認收據上的代碼是否正確。",
    "claim_used": "這個領取碼已經被使用過了。",
    "claim_already_yours": "這張收據您已經領取過囉！",
    "claim_expired": "這個領取碼已過期，請洽門市人員協助。",
    "claim_awarded_at_counter": "這張收據已在櫃檯集點，領取碼已失效。",
    "claim_awarded_at_counter_yours": "這張收據已在櫃檯集點到您的帳戶囉！不需要再領取。",
    "claim_invalid_amount": "這張收據的金額無法用領取碼集點，請洽門市人員協助。",
    "claim_failed": "這張收據無法用領取碼集點，請洽門市人員協助。",
    "receipt_already_awarded": "這張收據已經集點過了。",
    "menu_stamps": "集點卡",
    "coupon_received": "🎟️ 獲得優惠券「{name}」，輸入「我的優惠券」查看。",
    "tier_upgraded": "👑 恭喜升級為「{tier}」！輸入「會員權益」看看新福利。",
    # A spend the counter asked for by a typed member number, confirmed by the member
    "spend_ask_title": "請確認兌換",
    "spend_ask_points": "{store}正在為您以 {points:,} 點兌換「{what}」。\n是您本人在櫃檯嗎？請在 {minutes} 分鐘內按「確認」；不是您本人請按「取消」。",
    "spend_ask_grant": "{store}正在為您兌換集點卡獎勵「{what}」。\n是您本人在櫃檯嗎？請在 {minutes} 分鐘內按「確認」；不是您本人請按「取消」。",
    "spend_yes": "確認",
    "spend_no": "取消",
    "spend_done_points": "✅ 已兌換「{what}」，扣除 {points:,} 點，剩餘 {balance:,} 點。",
    "spend_done_grant": "✅ 已兌換「{what}」。",
    "spend_cancelled": "已取消，沒有扣除任何點數或獎勵。若不是您本人在櫃檯，請告訴門市人員。",
    "spend_expired": "這個確認已逾時，沒有扣除任何點數或獎勵。需要兌換時，請門市人員重新操作。",
    "spend_already": "這個確認已經處理過了，不會重複扣除。",
    "spend_failed_balance": "點數不足，這次兌換沒有完成，也沒有扣除任何點數。",
    "spend_failed": "這次兌換無法完成，沒有扣除任何點數或獎勵，請洽門市人員。",
    "spend_unknown": "找不到這個確認，沒有扣除任何點數或獎勵。",
    # Tiers
    "tiers_alt": "{brand} 會員等級與權益",
    "tiers_none": "目前還沒有設定會員等級。",
    "tier_current": "目前等級",
    "tier_rule_spend": "{days} 天內累積消費滿 NT${amount:,}",
    "tier_rule_points": "{days} 天內累積 {amount:,} {point}",
    "tier_rule_visits": "{days} 天內來店 {amount:,} 次",
    "tier_rule_free": "加入會員即享有",
    "tier_multiplier": "消費點數 {multiplier} 倍",
    "tier_next_spend": "再消費 NT${amount:,} 即可升級{tier}",
    "tier_next_points": "再累積 {amount:,} {point}即可升級{tier}",
    "tier_next_visits": "再來店 {amount:,} 次即可升級{tier}",
    "tier_top": "您已是最高等級，感謝您的支持！",
    "tier_keep_spend": "您的{tier}資格將於 {date} 到期，再消費 NT${amount:,} 即可保級！",
    "tier_keep_points": "您的{tier}資格將於 {date} 到期，再累積 {amount:,} {point}即可保級！",
    "tier_keep_visits": "您的{tier}資格將於 {date} 到期，再來店 {amount:,} 次即可保級！",
    "tier_until": "等級效期至 {date}",
    "tier_changed_down": "您的會員等級已調整為「{tier}」。持續消費即可再次升級！",
    "tier_renewed": "恭喜！您的「{tier}」資格已續約至 {date}。",
    # Coupons
    "coupons_alt": "您有 {count} 張優惠券",
    "coupons_none": "目前沒有可使用的優惠券。",
    "coupon_min_spend": "消費滿 NT${amount} 可用",
    "coupon_expires": "使用期限至 {date}",
    "coupon_show_hint": "結帳時出示此 QR 碼",
    "coupon_expiring": "⏰ 提醒您：優惠券「{name}」將於 {date} 到期，記得使用喔！",
    "coupon_birthday": "🎂 生日快樂！送您「{name}」，輸入「我的優惠券」即可查看。",
    "coupon_welcome": "🎁 入會禮「{name}」已放入您的優惠券夾。",
    "menu_benefits": "會員權益",
    "menu_coupons": "我的優惠券",
    # Campaign offers
    "offer_title": "會員限定優惠",
    "offer_body": "點下方按鈕領取您的專屬優惠券。",
    "offer_claim": "領取優惠券",
    "offer_claimed": "🎟️ 已領取「{name}」（{value}），輸入「我的優惠券」即可使用。",
    "offer_already": "您已經領取過「{name}」囉，輸入「我的優惠券」查看。",
    "offer_gone": "很抱歉，這個優惠已經被領完了 🙏",
    "offer_unknown": "這個優惠活動已結束或不適用於您的帳號。",
    # Help
    "help": "您可以點選下方按鈕，或輸入：\n・會員卡：出示會員卡集點\n・集點卡：看集{stamp}進度與點數\n・我的優惠券：查看可用的優惠券\n・會員權益：各等級福利\n・門市據點：地址與營業時間\n・加入會員：免費加入\n・說明：再看一次這段說明",
    "help_member": "您可以點選下方按鈕，或輸入：\n・會員卡：出示會員卡集點\n・集點卡：看集{stamp}進度與點數\n・我的優惠券：查看可用的優惠券\n・會員權益：各等級福利\n・邀請好友：分享邀請碼，雙方都有禮\n・會員資料：查看生日、手機與同意紀錄\n・門市據點：地址與營業時間\n・說明：再看一次這段說明",
    "menu_card": "會員卡",
    "menu_join": "加入會員",
    "menu_help": "說明",
    # Errors in chat
    "error_generic": "系統忙碌中，請稍後再試一次 🙏",
    # Rich menu
    "menu_invite": "邀請好友",
    "menu_profile": "會員資料",
    "menu_about": "品牌故事",
    "menu_stores": "門市據點",
    "menu_switch_failed": "選單切換失敗，請稍後再試；也可以直接輸入「說明」查看可用的功能。",
    "about": "☕ 關於 {brand}\n我們相信，一杯用心沖煮的咖啡能讓平凡的日子更美好。嚴選產地咖啡豆、每日新鮮烘焙，期待在門市與您相見。",
    "stores_title": "📍 {brand} 門市據點",
    "stores_none": "門市資訊即將公布，敬請期待！",
    "profile_alt": "{brand} 會員資料",
    "profile_title": "我的會員資料",
    "profile_name": "名稱",
    "profile_birthday": "生日",
    "profile_phone": "手機",
    "profile_gender": "性別",
    "profile_joined": "入會日期",
    "profile_unset": "未提供",
    "profile_hint": "資料需要修改嗎？結帳時告訴門市人員，我們會為您更新。",
    "profile_not_member": "您還不是會員喔，加入會員後就能查看會員資料 👇",
    # Referrals: the invitation card (邀請好友)
    "invite_alt": "{brand} 邀請卡：邀請碼 {code}",
    "invite_title": "邀請好友加入 {brand}",
    "invite_body": "把這張卡片分享給好友，好友點按鈕加入 {brand} 好友後，邀請碼會自動送出。",
    "invite_you_get": "🎁 您可獲得：{gift}",
    "invite_friend_gets": "🎁 好友可獲得：{gift}",
    "invite_when": "好友加入會員並完成首次消費後發送。",
    "invite_when_min": "好友加入會員並首次消費滿 NT${amount} 後發送。",
    "invite_cap": "每月最多 {cap} 位好友的邀請獎勵。",
    "invite_code_label": "我的邀請碼",
    "invite_share": "分享給好友",
    "invite_copy": "複製邀請訊息",
    "invite_share_text": "我在用 {brand} 的會員卡，邀請你一起加入！點連結加入好友，邀請碼 {code} 會自動送出：{url}",
    "invite_not_member": "加入會員後就能邀請好友，一起領取邀請禮 👇",
    "gift_stamps": "{n} {stamp}",
    "gift_points": "{n} {point}",
    "gift_coupon": "優惠券「{name}」",
    "reason_referral": "邀請好友獎勵",
    # Referrals: a friend sends a code
    "referral_recorded": "✅ 已收到{name}的邀請！",
    "referral_recorded_gift": "加入會員並完成首次消費後，您將獲得{gift}。",
    "referral_join_now": "點下方按鈕加入會員，邀請就會生效 👇",
    "referral_already": "您已經使用過{name}的邀請碼囉，不用再輸入一次。",
    "referral_closed": "邀請好友活動目前暫停中，敬請期待下一次活動！",
    "referral_unknown": "找不到這個邀請碼，請確認邀請碼是否正確（6 碼英數字）。",
    "referral_inactive": "這個邀請碼已經失效，請向好友確認。",
    "referral_self": "不能使用自己的邀請碼喔！把邀請卡分享給好友吧 😊",
    "referral_member": "您已經是會員囉！邀請碼僅限新朋友使用。",
    "referral_not_new": "邀請碼僅限第一次加入 {brand} 好友的新朋友，於加入好友後 {hours} 小時內使用。",
    "referral_taken": "您已經使用過其他好友的邀請碼，每位新朋友只能使用一次邀請碼。",
    "referral_cap": "這位好友本月的邀請名額已滿，下個月再試試吧！",
    # Referrals: what happens next
    "referral_joined_friend": "🎉 {name}的邀請已生效，謝謝您加入！",
    "referral_joined_referrer": "👏 您邀請的{name}已加入會員！對方完成首次消費後，您將獲得邀請獎勵。",
    "referral_rewarded_referrer": "🎁 您邀請的{name}完成了首次消費，送您{gift}，謝謝您的分享！",
    "referral_rewarded_friend": "🎁 感謝您的首次消費！{name}邀請您的禮物{gift}已送達。",
    "referral_capped_referrer": "您邀請的{name}完成了首次消費，不過您本月的邀請獎勵已達上限（{cap} 位），這次沒有獎勵喔。",
    "referral_capped_friend": "感謝您的首次消費！這次的邀請禮名額已滿，無法發送，敬請見諒 🙏",
}


class Texts:
    """Looks up a key and formats it; unknown placeholders fail loudly in tests, not in chat."""

    def __init__(self, overrides: Mapping[str, str] | None = None, **defaults: str) -> None:
        self._table = {**ZH_TW, **(overrides or {})}
        self._defaults = {"stamp": self._table["stamp_unit"], "point": self._table["point_unit"], **defaults}

    @classmethod
    def load(cls, path: str | None, **defaults: str) -> "Texts":
        overrides = json.loads(Path(path).read_text(encoding="utf-8")) if path else {}
        unknown = set(overrides) - set(ZH_TW)
        if unknown:
            raise ValueError(f"{path}: unknown text keys {sorted(unknown)}")
        for key, value in overrides.items():
            if not isinstance(value, str):
                raise ValueError(f"{path}: {key} is not a text")
            try:
                check(value, None, grouping=True)  # a placeholder other than {name} or {name:,} stops the start
            except PlaceholderError as exc:
                raise ValueError(f"{path}: {key}: {exc}") from exc
        return cls(overrides, **defaults)

    def __call__(self, key: str, **values: object) -> str:
        return render(self._table[key], {**self._defaults, **values}, grouping=True, strict=True)
