"""An owner's everyday setup in the console (headless Chromium against the real app): console
accounts (the last owner kept, a new account, a new password, disabling it), the points rewards
catalogue, a store's POS key shown once and copied, then revoked, and the referral programme;
refusals appear in the page. Screenshots: artifacts/screenshots/admin-18…21-*.png."""
from __future__ import annotations

import re

import pytest

from tests.e2e.admin_helpers import EMAIL, expect, make_account, shoot, sign_in
from tests.e2e.admin_helpers import console  # noqa: F401  (fixture)

pytestmark = pytest.mark.timeout(240)


def test_an_owner_sets_up_accounts_rewards_pos_keys_and_referrals(console, live_url, app, client, counter):  # noqa: F811
    check = expect()
    make_account(app, "owner")
    coupon = client.post("/api/v1/admin/coupon-templates", json={"name": "好友見面禮 50 元", "kind": "amount_off", "value": 50, "valid_days": 30},
                         headers=counter.admin)
    assert coupon.status_code == 201, coupon.get_json()
    console.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_url)
    sign_in(console, live_url, "/admin/settings/users")
    dialog = console.get_by_role("dialog")

    # ── console accounts ──
    check(console.get_by_role("link", name="後台帳號")).to_have_attribute("aria-current", "page")
    accounts = console.get_by_role("table", name="後台帳號")
    me = accounts.get_by_role("row", name=re.compile(EMAIL))
    check(me).to_contain_text("（您）")
    me.get_by_role("button", name="停用").click()
    check(dialog).to_contain_text("您會立即登出")
    dialog.get_by_role("button", name="停用").click()
    check(console.get_by_role("region", name="後台帳號").get_by_role("alert")).to_have_text(re.compile("至少要保留一個啟用中的品牌管理者帳號"))

    add = console.get_by_role("region", name="新增帳號")
    add.get_by_label("電子郵件（登入帳號）").fill("ana@brand.tw")
    add.get_by_label("姓名").fill("安娜")
    add.get_by_label("角色").select_option("marketer")
    add.get_by_label("密碼").fill("short")
    add.get_by_role("button", name="建立帳號").click()
    check(add.get_by_role("alert")).to_have_text(re.compile("^密碼至少需要 8 個字元"))
    check(add.get_by_label("密碼")).to_have_attribute("aria-invalid", "true")
    add.get_by_label("密碼").fill("ana-pass-1")
    add.get_by_role("button", name="建立帳號").click()
    ana = accounts.get_by_role("row", name=re.compile("ana@brand.tw"))
    check(ana).to_contain_text("行銷人員")
    check(ana).to_contain_text("啟用")

    ana.get_by_role("button", name="重設密碼").click()
    dialog.get_by_label("新密碼").fill("short")
    dialog.get_by_role("button", name="設定新密碼").click()
    check(dialog.get_by_role("alert")).to_have_text(re.compile("^密碼至少需要 8 個字元"))  # the dialog stays open with the reason
    dialog.get_by_label("新密碼").fill("ana-pass-2")
    dialog.get_by_role("button", name="設定新密碼").click()
    check(console.get_by_role("status")).to_have_text("已為 ana@brand.tw 設定新密碼")
    login = {"email": "ana@brand.tw", "password": "ana-pass-2"}
    assert client.post("/api/v1/admin/auth/login", json=login).status_code == 200

    accounts.get_by_role("row", name=re.compile("ana@brand.tw")).get_by_role("button", name="停用").click()
    dialog.get_by_role("button", name="停用").click()
    check(accounts.get_by_role("row", name=re.compile("ana@brand.tw"))).to_contain_text("已停用")
    assert client.post("/api/v1/admin/auth/login", json=login).status_code == 401
    shoot(console, "18-settings-users")

    # ── points rewards ──
    console.get_by_role("link", name="點數兌換").click()
    add = console.get_by_role("region", name="新增兌換商品")
    add.get_by_label("商品名稱").fill("手工餅乾")
    add.get_by_label("所需點數").fill("0")
    add.get_by_role("button", name="儲存").click()
    check(add.get_by_role("alert")).to_have_text("所需點數需為 1 – 1,000,000 的整數")
    add.get_by_label("所需點數").fill("30")
    add.get_by_role("button", name="儲存").click()
    rewards = console.get_by_role("table", name="點數兌換")
    check(rewards).to_contain_text("30 點")
    rewards.get_by_role("row", name=re.compile("手工餅乾")).get_by_role("button", name="編輯").click()
    edit = console.get_by_role("region", name="編輯「手工餅乾」")
    edit.get_by_label("所需點數").fill("25")
    edit.get_by_role("button", name="儲存").click()
    check(rewards).to_contain_text("25 點")
    rewards.get_by_role("row", name=re.compile("手工餅乾")).get_by_role("button", name="下架").click()
    check(rewards.get_by_role("row", name=re.compile("手工餅乾"))).to_contain_text("已下架")
    assert client.get("/api/v1/rewards", headers=counter.cashier).get_json()["rewards"] == []
    shoot(console, "19-settings-rewards")

    # ── POS keys: the whole key once, copied, then revoked ──
    console.get_by_role("link", name="POS 金鑰").click()
    store = console.get_by_role("region", name="台北信義店 的 POS 金鑰")
    check(store).to_contain_text("尚無金鑰")
    store.get_by_label("名稱").fill("櫃檯一號")
    store.get_by_role("button", name="建立金鑰").click()
    check(dialog).to_contain_text("這是唯一一次顯示完整金鑰")
    secret = dialog.locator("#newApiKey").input_value()
    assert secret.startswith("pos_")
    dialog.get_by_role("button", name="複製").click()
    check(dialog.get_by_role("button", name="已複製 ✓")).to_be_visible()
    assert console.evaluate("navigator.clipboard.readText()") == secret
    pos = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=pos).get_json()["store"]["code"] == "TPE01"
    shoot(console, "20-settings-pos-key", full=False)
    dialog.get_by_role("button", name="我已妥善保存").click()
    key_row = store.get_by_role("row", name=re.compile("櫃檯一號"))
    check(key_row).to_contain_text("使用中")
    on_page = "() => document.body.innerText + [...document.querySelectorAll('input')].map((i) => i.value).join(' ')"
    assert secret.split("_", 2)[2] not in console.evaluate(on_page)  # never on the page again
    key_row.get_by_role("button", name="撤銷").click()
    dialog.get_by_role("button", name="撤銷").click()
    check(store.get_by_role("row", name=re.compile("櫃檯一號"))).to_contain_text("已撤銷")
    assert client.get("/api/v1/me", headers=pos).status_code == 401

    # ── referral programme ──
    console.get_by_role("link", name="推薦好友").click()
    programme = console.get_by_role("region", name="推薦好友")
    programme.get_by_label("新朋友期限（小時）").fill("0")
    programme.get_by_role("button", name="儲存").click()
    check(programme.get_by_role("alert")).to_have_text("新朋友期限需為 1–720 小時")
    programme.get_by_label("新朋友期限（小時）").fill("48")
    referrer = programme.get_by_role("group", name="邀請人獲得")
    referrer.get_by_label("獎勵").select_option("points")
    referrer.get_by_label("數量").fill("50")
    friend = programme.get_by_role("group", name="新朋友獲得")
    friend.get_by_label("獎勵").select_option("coupon")
    friend.get_by_label("優惠券範本").select_option(label="好友見面禮 50 元")
    programme.get_by_label("最低消費（NT$）").fill("150")
    programme.get_by_label("每人每月獎勵上限").fill("")
    programme.get_by_role("button", name="儲存").click()
    check(console.get_by_role("status")).to_have_text("已儲存")
    check(console.get_by_role("region", name="推薦好友").get_by_label("新朋友期限（小時）")).to_have_value("48")
    got = client.get("/api/v1/admin/referral-program", headers=counter.admin).get_json()
    assert (got["referrer_reward"], got["friend_reward"], got["min_purchase"], got["monthly_cap"], got["new_friend_hours"]) == (
        {"kind": "points", "amount": 50}, {"kind": "coupon", "coupon_template_id": coupon.get_json()["id"]}, "150", None, 48)
    shoot(console, "21-settings-referral")

    console.locator(".side .lang").get_by_role("button", name="EN").click()
    check(console.get_by_role("link", name="Console accounts")).to_be_visible()
    check(console.get_by_role("region", name="Referrals").get_by_label("New friend within (hours)")).to_have_value("48")


def test_an_owner_revokes_a_token_and_signs_a_cashier_out(console, live_url, app, client, counter):  # noqa: F811
    check = expect()
    make_account(app, "owner")
    sign_in(console, live_url, "/admin/settings/tokens")
    dialog = console.get_by_role("dialog")
    form = console.get_by_role("region", name="建立權杖")
    form.get_by_label("名稱").fill("CRM 同步")
    form.get_by_label("有效天數").fill("30")
    form.get_by_label("分眾與推播").check()
    form.get_by_role("button", name="建立權杖").click()
    plain = dialog.locator("#newToken").input_value()
    auth = {"Authorization": f"Bearer {plain}"}
    assert plain.startswith("adm_") and client.get("/api/v1/admin/members", headers=auth).status_code == 200
    dialog.get_by_role("button", name="我已妥善保存").click()
    row = console.get_by_role("table", name="API 權杖").get_by_role("row", name=re.compile("CRM 同步"))
    check(row).to_contain_text("查看會員、分眾與推播")
    check(row).to_contain_text("有效")
    shoot(console, "22-tokens", full=False)
    row.get_by_role("button", name="撤銷").click()
    dialog.get_by_role("button", name="撤銷").click()
    check(row).to_contain_text("已撤銷")
    assert client.get("/api/v1/admin/members", headers=auth).status_code == 401

    console.get_by_role("link", name="門市與人員").click()
    cashier = console.get_by_role("table", name="台北信義店 的人員").get_by_role("row", name=re.compile("cashier-tpe01"))
    cashier.get_by_role("button", name="全部登出").click()
    dialog.get_by_role("button", name="全部登出").click()
    check(console.get_by_role("status")).to_have_text("cashier-tpe01 已在所有裝置登出")
    assert client.get("/api/v1/me", headers=counter.cashier).status_code == 401
    cashier.get_by_role("button", name="停用").click()
    dialog.get_by_role("button", name="停用").click()
    check(cashier.get_by_role("button", name="啟用")).to_be_visible()
    login = {"username": "cashier-tpe01", "password": "correct horse"}
    assert client.post("/api/v1/auth/login", json=login).status_code == 401
    shoot(console, "23-staff", full=False)
