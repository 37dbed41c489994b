"""The admin console (/admin) in headless Chromium against the real app: sign in, read the dashboard,
find a member and change tags and balance, build a segment, send a campaign to the fake LINE server
and read its report, and the settings pages. Every page is saved as artifacts/screenshots/admin-*.png."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from tests.e2e.admin_helpers import TABLET, expect, make_account, open_page, shoot, shop_history, sign_in
from tests.e2e.admin_helpers import console  # noqa: F401  (fixture)

pytestmark = pytest.mark.timeout(240)


def test_sign_in_and_read_the_dashboard(console, live_url, app, client, counter, make_member, clock):  # noqa: F811
    check = expect()
    shop_history(client, counter, make_member, clock)
    make_account(app, "marketer")
    console.goto(f"{live_url}/admin/dashboard")
    console.get_by_label("電子郵件").fill("mkt@brand.tw")
    console.get_by_label("密碼").fill("wrong password")
    console.get_by_role("button", name="登入").click()
    check(console.get_by_role("alert")).to_have_text("電子郵件或密碼錯誤")
    shoot(console, "01-sign-in-refused", full=False)
    sign_in(console, live_url, "/admin/dashboard")
    check(console).to_have_url(f"{live_url}/admin/dashboard")
    check(console.get_by_role("heading", name=re.compile("儀表板"))).to_be_visible()

    kpis = console.locator(".kpi")
    check(kpis).to_have_count(7)
    check(kpis.nth(0)).to_contain_text("會員總數")
    check(kpis.nth(0).locator(".value")).to_have_text("4")
    check(kpis.nth(2).locator(".value")).to_have_text("2")  # joined within the last 30 days
    check(kpis.nth(3)).to_contain_text("期間新可觸及會員")
    check(kpis.nth(3).locator(".value")).to_have_text("2")  # and not blocking the account
    check(kpis.nth(4).locator(".value")).to_have_text("2")  # 2+ visits in the period
    check(console.locator(".rfm .cell")).to_have_count(8)
    check(console.locator("canvas")).to_have_count(6)  # trend, gender, age, frequency, NES, stores
    shoot(console, "02-dashboard")

    # another period: the URL keeps it, a reload shows the same
    console.get_by_role("button", name="近 7 天").click()
    check(console).to_have_url(re.compile(r"from=\d{4}-\d\d-\d\d&to="))
    check(console.get_by_role("button", name="近 7 天")).to_have_attribute("aria-pressed", "true")
    console.reload()
    check(console.locator(".kpi").nth(0).locator(".value")).to_have_text("4")

    # English, kept across reloads
    console.locator(".side .lang").get_by_role("button", name="EN").click()
    check(console.get_by_role("heading", name=re.compile("Dashboard"))).to_be_visible()
    check(console.locator(".kpi").nth(0)).to_contain_text("Members")
    console.reload()
    check(console.get_by_role("link", name="Campaigns")).to_be_visible()
    shoot(console, "03-dashboard-en")
    console.locator(".side .lang").get_by_role("button", name="中文").click()
    check(console.get_by_role("link", name="推播活動")).to_be_visible()

    console.get_by_role("button", name="登出").click()
    check(console.get_by_role("heading", name="登入行銷後台")).to_be_visible()
    console.goto(f"{live_url}/admin/members")
    check(console.get_by_role("heading", name="登入行銷後台")).to_be_visible()  # the token was revoked and forgotten


def test_pages_take_today_from_the_server_not_the_browser(console, live_url, app, client, counter, make_member, clock):  # noqa: F811
    """A browser whose clock is 40 days ahead (a tablet left on the wrong date): the dashboard's
    default period, its presets and a campaign's default time still follow the server's day."""
    check = expect()
    shop_history(client, counter, make_member, clock)
    make_account(app, "marketer")
    console.context.clock.set_system_time(clock.now + timedelta(days=40))  # the browser's clock only
    sign_in(console, live_url, "/admin/dashboard")
    today = clock.today()
    dates = console.locator(".period input[type=date]")
    check(dates.nth(0)).to_have_value((today - timedelta(days=29)).isoformat())
    check(dates.nth(1)).to_have_value(today.isoformat())
    check(console.get_by_role("button", name="近 30 天")).to_have_attribute("aria-pressed", "true")
    check(console.locator(".kpi").nth(2).locator(".value")).to_have_text("2")  # joined in the server's last 30 days
    console.get_by_role("button", name="近 7 天").click()
    check(console).to_have_url(f"{live_url}/admin/dashboard?from={today - timedelta(days=6)}&to={today}")
    check(console.get_by_role("button", name="近 7 天")).to_have_attribute("aria-pressed", "true")

    console.get_by_role("link", name="推播活動").click()
    console.get_by_role("link", name="新增推播").click()
    console.get_by_label("排程發送").check()
    check(console.get_by_label("發送時間（台北）")).to_have_value(f"{today + timedelta(days=1)}T10:00")  # tomorrow 10:00


def test_kpis_on_one_member_and_their_definitions(console, live_url, app, client, counter, make_member, line, clock):  # noqa: F811
    """One member who came 8 times today and blocked once, then came back: 常客 1, 回購率 100%,
    封鎖率 100% beside 「期間內封鎖 1 人／好友 1 人」, RFM 重要價值; every KPI explains itself."""
    from bot.dev import lineevents as ev

    check = expect()
    user, number = make_member("常來的人")
    for i in range(8):
        assert counter.award(number, f"R-{i}", amount="300", visit=True).status_code == 201
    assert line.post(ev.unfollow_event(user)).status_code == 200
    clock.advance(minutes=5)
    assert line.post(ev.follow_event(user, unblocked=True)).status_code == 200
    assert client.post("/api/v1/admin/segments/recompute", headers=counter.admin).status_code == 200
    make_account(app, "marketer")
    sign_in(console, live_url, "/admin/dashboard")
    kpis = console.locator(".kpi")
    check(kpis).to_have_count(7)
    check(kpis.nth(4).locator(".value")).to_have_text("1")
    check(kpis.nth(5).locator(".value")).to_have_text("100%")
    check(kpis.nth(5).locator(".note")).to_have_text("1 / 1 位來店者回購")
    check(kpis.nth(6).locator(".value")).to_have_text("100%")
    check(kpis.nth(6).locator(".note")).to_have_text("期間內封鎖 1 人／好友 1 人 · 目前封鎖 0 人")
    check(console.locator('.rfm .cell[data-class="重要價值"] b')).to_have_text("1")
    check(console.locator('.rfm .cell[data-class="一般挽留"] b')).to_have_text("0")
    for i in range(7):
        check(kpis.nth(i)).to_have_attribute("title", re.compile(".{10,}"))
        check(kpis.nth(i).locator(".kpi-def")).to_have_attribute("aria-label", re.compile(".{10,}"))
    check(kpis.nth(5)).to_have_attribute("title", re.compile("期間內來店 2 次以上，或期間前就來過"))
    check(kpis.nth(6)).to_have_attribute("title", re.compile("期間內曾是好友的人數"))
    kpis.nth(5).locator(".kpi-def").focus()
    shoot(console, "02b-dashboard-one-member", full=False)


def test_dashboard_on_a_tablet(browser, live_url, app, client, counter, make_member, clock):  # type: ignore[no-untyped-def]
    shop_history(client, counter, make_member, clock)
    make_account(app, "analyst")
    errors: list[str] = []
    context, page = open_page(browser, live_url, TABLET, errors, clock)
    try:
        sign_in(page, live_url)
        expect()(page.locator(".kpi")).to_have_count(7)
        page.wait_for_load_state("networkidle")
        page.wait_for_function("() => [...document.querySelectorAll('.chart')].every((c) => c.dataset.ready)")
        try:  # charts settle their size after the first draw; a busy machine takes longer
            page.wait_for_function(f"() => document.documentElement.scrollWidth <= {TABLET['width']}", timeout=5_000)
        except Exception:  # noqa: BLE001 - reported with what is too wide
            wide = page.evaluate("""() => [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > innerWidth)
                .slice(0, 5).map((e) => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}px`)""")
            raise AssertionError(f"the page scrolls sideways: {page.evaluate('document.documentElement.scrollWidth')}px; {wide}") from None
        expect()(page.get_by_role("link", name="設定")).to_be_hidden()  # an analyst changes nothing
        shoot(page, "04-dashboard-tablet")
    finally:
        context.close()
    assert not errors, errors


def test_find_a_member_tag_them_and_adjust_the_balance(console, live_url, app, client, counter, make_member, clock):  # noqa: F811
    check = expect()
    numbers = shop_history(client, counter, make_member, clock)
    make_account(app, "manager")
    sign_in(console, live_url, "/admin/members")
    rows = console.locator("tbody tr")
    check(rows).to_have_count(4)
    shoot(console, "05-members")
    console.get_by_label("搜尋").fill("王")
    console.get_by_role("button", name="搜尋").click()
    check(rows).to_have_count(1)
    rows.first.click()
    check(console).to_have_url(f"{live_url}/admin/members/{numbers[2]}")
    check(console.locator("#memberName")).to_have_text("王太太")
    check(console.locator("#stampBalance")).to_have_text("4")
    check(console.locator("#pointBalance")).to_have_text("72")  # NT$180 × 4 at NT$10 a point

    console.get_by_label("新標籤").fill("咖啡豆愛好者")
    console.get_by_role("button", name="加上標籤").click()
    check(console.locator("#tagList")).to_contain_text("咖啡豆愛好者")

    console.get_by_label("項目").select_option("points")
    console.get_by_label("數量（負數為扣除）").fill("-2")
    console.get_by_label("原因（會記錄在點數明細）").fill("重複集點")
    console.get_by_role("button", name="確認調整").click()
    check(console.get_by_role("dialog")).to_contain_text("-2 點數，原因：重複集點")
    console.get_by_role("dialog").get_by_role("button", name="確認調整").click()
    check(console.locator("#pointBalance")).to_have_text("70")
    check(console.get_by_role("table", name="點數明細")).to_contain_text("重複集點")
    shoot(console, "06-member")

    detail = client.get(f"/api/v1/admin/members/{numbers[2]}", headers=counter.admin).get_json()
    assert detail["tags"] == ["咖啡豆愛好者"] and detail["summary"]["balances"]["points"] == 70
    console.get_by_role("button", name="移除標籤 咖啡豆愛好者").click()
    check(console.locator("#tagList")).not_to_contain_text("咖啡豆愛好者")


def test_build_a_segment_with_the_form_and_save_it(console, live_url, app, client, counter, make_member, clock):  # noqa: F811
    check = expect()
    shop_history(client, counter, make_member, clock)
    make_account(app, "marketer")
    sign_in(console, live_url, "/admin/segments")
    count = console.locator("#liveCount")
    check(count).to_have_text("4")  # the form starts with "gender is female": everyone here is

    conditions = console.get_by_role("group", name="條件")
    console.get_by_role("button", name="＋ 新增條件").click()
    second = conditions.nth(1)
    second.get_by_label("欄位").select_option("visits")
    second.get_by_label("比較").select_option("gte")
    second.get_by_label("值").fill("2")
    check(count).to_have_text("2")  # 陳小姐 (3 visits) and 王太太 (4)
    check(console.get_by_role("table", name="名單範例").locator("tbody tr")).to_have_count(2)

    console.get_by_role("button", name="任一條件").click()
    check(count).to_have_text("4")
    console.get_by_role("button", name="全部條件").click()
    third_add = console.get_by_role("button", name="＋ 新增條件")
    third_add.click()
    third = conditions.nth(2)
    third.get_by_label("欄位").select_option("nes")
    third.get_by_label("比較").select_option("in")
    third.get_by_label("E0 主力客").check()
    third.get_by_label("N 新客").check()
    check(count).to_have_text("2")
    shoot(console, "07-segment-builder")

    console.get_by_label("分眾名稱").fill("常來的女性")
    console.get_by_role("button", name="儲存分眾").click()
    saved = console.get_by_role("table", name="已儲存的分眾")
    check(saved).to_contain_text("常來的女性")
    check(saved).to_contain_text("性別 等於 女性 且 來店次數 至少 2 且 NES 生命週期 屬於 N 新客、E0 主力客")
    [segment] = client.get("/api/v1/admin/segments", headers=counter.admin).get_json()["segments"]
    assert segment["rule"] == {"and": [{"field": "gender", "op": "eq", "value": "female"}, {"field": "visits", "op": "gte", "value": 2},
                                       {"field": "nes", "op": "in", "value": ["N", "E0"]}]}
    shoot(console, "08-segments")


@pytest.mark.usefixtures("business_hours")  # sent now, not held by quiet hours
def test_compose_a_campaign_send_it_to_line_and_read_the_report(console, live_url, app, client, counter, make_member, clock, fake_line):  # noqa: F811
    check = expect()
    shop_history(client, counter, make_member, clock)
    made = client.post("/api/v1/admin/segments", json={"name": "常客", "rule": {"field": "visits", "op": "gte", "value": 2}}, headers=counter.admin)
    assert made.status_code == 201
    make_account(app, "marketer")
    sign_in(console, live_url, "/admin/campaigns")
    check(console.get_by_text("還沒有推播活動")).to_be_visible()
    console.get_by_role("link", name="新增推播").click()
    console.get_by_label("活動名稱").fill("週末拿鐵第二杯半價")
    console.get_by_label("訊息文字").fill("本週末拿鐵第二杯半價，出示會員卡即可 ☕")
    preview = console.locator("#chatPreview")
    check(preview).to_contain_text("本週末拿鐵第二杯半價")
    shoot(console, "09-compose-text")

    console.get_by_role("button", name="Flex 範本").click()
    console.get_by_label("標題").fill("週末限定：拿鐵第二杯半價")
    console.get_by_label("內文").fill("11/28–11/29 全門市，出示 LINE 會員卡即享優惠。")
    console.get_by_label("按鈕文字").fill("看門市")
    console.get_by_label("按鈕連結").fill("https://example.com/stores")
    check(preview.locator(".ftitle")).to_have_text("週末限定：拿鐵第二杯半價")
    check(preview.locator(".fbtn")).to_have_text("看門市")
    console.get_by_label("分眾").select_option(label="常客")
    check(console.get_by_text("來店次數 至少 2")).to_be_visible()
    console.get_by_label("分眾").select_option(label="所有可推播的會員")
    console.get_by_label(re.compile("對照組比例")).fill("25")
    check(console.get_by_text("25%", exact=True)).to_be_visible()
    shoot(console, "10-compose-flex")

    console.get_by_role("button", name="下一步：確認與額度").click()
    dialog = console.get_by_role("dialog")
    check(dialog.locator("#estAudience")).to_have_text("4")
    check(dialog.locator("#estMessages")).to_have_text("3")
    check(dialog.locator("#quotaNote")).to_contain_text("足夠發送")
    shoot(console, "11-review", full=False)
    dialog.get_by_role("button", name="確認發送").click()

    check(console).to_have_url(re.compile(r"/admin/campaigns/\d+$"))
    check(console.locator("#campaignStatus")).to_have_text("已發送", timeout=20_000)  # the page polls while it sends
    sent = int(console.locator("#kpiSent").inner_text())
    held = int(console.locator("#kpiHeld").inner_text())
    assert sent + held == 4 and sent >= 1
    check(console.locator("#progressText")).to_have_text(f"已處理 {sent} / {sent} 位")
    check(console.locator("#uplift")).to_contain_text("轉換率提升" if held else "沒有對照組")
    check(console.locator(".facts")).to_contain_text("開始發送時 0 分鐘前")  # its audience was chosen on stats recomputed as it started
    shoot(console, "12-campaign-report")

    calls = [r for r in fake_line.requests(path="/v2/bot/message/push") if (r.json or {}).get("customAggregationUnits")]  # a link: a push per member
    assert len(calls) == sent and not fake_line.requests(path="/v2/bot/message/multicast")
    [message] = calls[0].json["messages"]
    assert message["type"] == "flex" and message["altText"] == "週末限定：拿鐵第二杯半價"
    action = message["contents"]["footer"]["contents"][0]["action"]
    assert action["label"] == "看門市" and action["uri"].startswith(f"{app.extensions['loyalty'].settings.public_base_url}/r/")
    redirect = client.get(urlsplit(action["uri"]).path)
    assert redirect.status_code == 302 and redirect.headers["Location"] == "https://example.com/stores"

    console.get_by_role("link", name="← 活動列表").click()
    check(console.get_by_role("table", name="推播活動")).to_contain_text("週末拿鐵第二杯半價")
    check(console.get_by_role("table", name="推播活動")).to_contain_text("已發送")


def test_settings_tiers_rules_coupons_automations_stores(console, live_url, app, client, counter):  # noqa: F811
    check = expect()
    make_account(app, "owner")
    sign_in(console, live_url, "/admin/settings")
    check(console.get_by_role("link", name="會員等級")).to_have_attribute("aria-current", "page")
    form = console.get_by_role("region", name="新增等級")
    form.get_by_label("英文代號（系統用）").fill("gold")
    form.get_by_label("等級名稱（會員看到的）").fill("金卡")
    form.get_by_label("等級高低").fill("1")
    form.get_by_label("升等門檻").fill("10000")
    form.get_by_label("點數倍率（1 = 不加倍）").fill("2")
    form.get_by_label("會員權益").fill("點數 2 倍\n生日禮")
    form.get_by_role("button", name="儲存").click()
    check(console.get_by_role("table", name="會員等級")).to_contain_text("365 天內消費金額達 10,000")
    shoot(console, "13-settings-tiers")

    console.get_by_role("link", name="集點規則").click()
    console.get_by_label("集點卡格數").fill("8")
    console.get_by_label("集滿獎勵").fill("招牌拿鐵一杯")
    console.get_by_label("重複集點間隔（分鐘）").fill("10")
    console.get_by_label("重複集點時").select_option("refuse")
    console.get_by_role("button", name="儲存").click()
    check(console.get_by_role("status")).to_have_text("已儲存")
    rule = client.get("/api/v1/admin/earning-rule", headers=counter.admin).get_json()
    assert (rule["card_size"], rule["repeat_visit_minutes"], rule["repeat_visit_policy"]) == (8, 10, "refuse")
    shoot(console, "14-settings-rule")

    console.get_by_role("link", name="優惠券").click()
    add = console.get_by_role("region", name="新增優惠券範本")
    add.get_by_label("名稱", exact=True).fill("生日 85 折")
    add.get_by_label("類型").select_option("percent_off")
    add.get_by_label("面額").fill("15")
    add.get_by_label("發送時機").select_option("birthday")
    add.get_by_role("button", name="儲存").click()
    check(console.get_by_role("table", name="優惠券")).to_contain_text("85 折")
    shoot(console, "15-settings-coupons")

    console.get_by_role("link", name="自動化訊息").click()
    welcome = console.get_by_role("region", name="入會歡迎")
    welcome.get_by_label("啟用這個自動化").check()
    welcome.get_by_label("附上優惠券").select_option(label="生日 85 折")
    welcome.get_by_role("button", name="儲存").click()
    check(console.get_by_role("status")).to_have_text("「入會歡迎」已啟用")
    check(console.get_by_role("region", name="入會歡迎")).to_contain_text("啟用")
    journeys = client.get("/api/v1/admin/journeys", headers=counter.admin).get_json()["journeys"]
    assert next(j for j in journeys if j["kind"] == "welcome")["enabled"] is True
    shoot(console, "16-settings-automations")

    console.get_by_role("link", name="門市與人員").click()
    console.get_by_label("門市代碼").fill("TPE02")
    console.get_by_label("門市名稱").fill("台北大安店")
    console.get_by_role("button", name="新增門市").click()
    store = console.get_by_role("region", name="台北大安店")
    store.locator("summary", has_text="新增人員").click()  # the other one opens the store's chat details
    store.get_by_label("帳號").fill("amy")
    store.get_by_label("姓名", exact=True).fill("艾咪")
    store.get_by_label("密碼").fill("counter-pass")
    store.get_by_role("button", name="新增人員").click()
    check(console.get_by_role("region", name="台北大安店").get_by_role("table")).to_contain_text("艾咪")
    assert client.post("/api/v1/auth/login", json={"username": "amy", "password": "counter-pass"}).status_code == 200
    shoot(console, "17-settings-stores")
