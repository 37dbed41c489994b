"""The console's details a marketer trips over (issue 23 item 8), in headless Chromium against the
real app: the composer's preview speaks as the brand, its review says 立即發送 once, reviewing again
keeps one draft, the segment's size shows while choosing it; the member page's ledger and message
log. Each saves artifacts/screenshots/admin-details-*.png."""
from __future__ import annotations

import re

import pytest

from tests.e2e.admin_helpers import expect, make_account, shoot, shop_history, sign_in
from tests.e2e.admin_helpers import console  # noqa: F401  (fixture)

pytestmark = pytest.mark.timeout(240)


def test_composer_speaks_as_the_brand_and_keeps_one_draft(console, live_url, app, client, counter, make_member, clock):  # noqa: F811
    check = expect()
    shop_history(client, counter, make_member, clock)
    made = client.post("/api/v1/admin/segments", json={"name": "常客", "rule": {"field": "visits", "op": "gte", "value": 2}}, headers=counter.admin)
    assert made.status_code == 201
    make_account(app, "marketer")
    sign_in(console, live_url, "/admin/campaigns/new")
    brand = app.extensions["loyalty"].settings.brand_name
    console.get_by_label("活動名稱").fill("週末拿鐵")
    console.get_by_label("訊息文字").fill("本週末拿鐵第二杯半價")
    topbar = console.locator(".phone .topbar")
    check(topbar).to_have_text(re.compile(re.escape(brand)))
    check(topbar).not_to_contain_text("行銷後台")

    # the segment's reachable members show as soon as it is chosen, before any review
    size = console.locator("#segmentSize")
    check(size).to_have_text("約 4 位可推播的會員")  # everyone reachable
    console.get_by_label("分眾").select_option(label="常客")
    check(size).to_have_text("約 2 位可推播的會員")  # 陳小姐 and 王太太
    shoot(console, "details-01-compose-brand-size")

    review = console.get_by_role("button", name="下一步：確認與額度")
    dialog = console.get_by_role("dialog")
    review.click()
    check(dialog.locator("#reviewText")).to_have_text("「週末拿鐵」將立即發送。")
    shoot(console, "details-02-review-now", full=False)
    dialog.get_by_role("button", name="取消").click()
    check(dialog).to_be_hidden()

    # back to editing, reviewed again: the same draft, rewritten, not a second (nor a cancelled one)
    console.get_by_label("活動名稱").fill("週末拿鐵 第二版")
    review.click()
    check(dialog.locator("#reviewText")).to_have_text("「週末拿鐵 第二版」將立即發送。")
    dialog.get_by_role("button", name="取消").click()
    console.get_by_label("排程發送").check()
    review.click()
    check(dialog.locator("#reviewText")).to_have_text(re.compile(r"^「週末拿鐵 第二版」將於 \d{4}/\d\d/\d\d 10:00 發送。$"))
    dialog.get_by_role("button", name="取消").click()
    campaigns = client.get("/api/v1/admin/campaigns", headers=counter.admin).get_json()["campaigns"]
    assert [(c["name"], c["status"], c["segment_id"]) for c in campaigns] == [("週末拿鐵 第二版", "draft", made.get_json()["id"])]
    assert campaigns[0]["scheduled_at"] is not None

    console.get_by_role("link", name="← 活動列表").click()
    check(console.get_by_role("table", name="推播活動").locator("tbody tr")).to_have_count(1)
    shoot(console, "details-03-one-draft")

    console.goto(f"{live_url}/admin/campaigns/{campaigns[0]['id']}")  # a fresh page: the brand still names the chat
    check(console.locator(".phone .topbar")).to_have_text(re.compile(re.escape(brand)))


def test_member_ledger_and_message_log_read_as_words(console, live_url, app, client, counter, make_member, clock):  # noqa: F811
    check = expect()
    _, number = make_member("王太太")
    receipt = "9f1c2d3e-4b5a-4c6d-8e7f-a1b2c3d4e5f6"
    assert counter.award(number, receipt, amount="180", visit=True).status_code == 201
    from models.member import get_by_member_no
    from models.outbox import enqueue_richmenu

    svc = app.extensions["loyalty"]
    with svc.db.transaction() as session:
        enqueue_richmenu(session, member_id=get_by_member_no(session, number).id, richmenu_id="richmenu-gold", now=svc.now())
    make_account(app, "manager")
    sign_in(console, live_url, f"/admin/members/{number}")

    ledger = console.get_by_role("table", name="點數明細")
    heads = ledger.locator("thead th")
    check(heads).to_have_text(["時間", "類型", "項目", "變動", "門市", "消費金額", "備註"])
    stamp_row = ledger.locator("tbody tr").filter(has_text="集點").first
    check(stamp_row).to_contain_text("台北信義店")
    check(stamp_row).to_contain_text("NT$180")
    check(stamp_row).to_contain_text("單號 …c3d4e5f6")
    check(ledger).not_to_contain_text(receipt)  # the whole UUID only as the title
    check(stamp_row.locator(".receipt")).to_have_attribute("title", receipt)
    for column in (2, 3):  # 類型 and 項目 on one line each, not a character a line
        cell = stamp_row.locator("td").nth(column - 1)
        lines = cell.evaluate("(td) => { const r = document.createRange(); r.selectNodeContents(td); return new Set([...r.getClientRects()].map((b) => Math.round(b.top))).size; }")
        assert lines == 1, f"column {column} wraps onto {lines} lines"

    messages = console.get_by_role("region", name="收到的訊息")
    check(messages).to_contain_text("圖文選單切換")
    check(messages).to_contain_text("集點通知")
    check(messages).not_to_contain_text("richmenu")
    shoot(console, "details-04-member-ledger")


def test_members_list_columns_sort_filter_and_export(console, live_url, app, client, counter, make_member, clock):  # noqa: F811
    check = expect()
    numbers = shop_history(client, counter, make_member, clock)  # 陳小姐, 林先生, 王太太, 張同學
    make_account(app, "marketer")
    sign_in(console, live_url, "/admin/members")
    table = console.get_by_role("table", name="會員")
    check(table.locator("thead th")).to_have_text(["姓名", "會員編號", "等級", "點數", "集點", "最近來店", "入會日 ↓", "狀態"])
    check(table.locator("tbody tr")).to_have_count(4)

    table.get_by_role("button", name="點數").click()  # the most points first
    check(console).to_have_url(re.compile(r"sort=-points"))
    check(table.locator("tbody tr").first).to_contain_text("陳小姐")  # NT$420 × 3: 126 points, more than 林先生's 120
    check(table.locator("th[aria-sort=descending]")).to_have_text("點數 ↓")
    table.get_by_role("button", name="點數 ↓").click()
    check(table.locator("tbody tr").first).to_contain_text("張同學")  # nothing yet
    table.get_by_role("button", name="最近來店").click()
    check(table.locator("tbody tr").first).to_contain_text("王太太")  # 2 days ago
    check(table.locator("tbody tr").last).to_contain_text("張同學")  # never: last

    console.get_by_label("最近來店", exact=True).select_option("7")
    check(table.locator("tbody tr")).to_have_count(2)  # 陳小姐 (3 days) and 王太太 (2 days)
    check(console).to_have_url(re.compile(r"within=7"))
    shoot(console, "details-05-members-list")

    with console.expect_download() as download:
        console.get_by_role("button", name="匯出 CSV").click()
    text = open(download.value.path(), encoding="utf-8-sig").read().splitlines()
    assert text[0].startswith("member_no,name,phone,gender,tier,points,stamps,last_visit_at")
    assert sorted(line.split(",")[0] for line in text[1:]) == sorted([numbers[0], numbers[2]])


def test_members_page_at_phone_width(browser, live_url, app, client, counter, make_member, clock):  # type: ignore[no-untyped-def]
    from tests.e2e.admin_helpers import open_page

    shop_history(client, counter, make_member, clock)
    make_account(app, "marketer")
    errors: list[str] = []
    context, page = open_page(browser, live_url, {"width": 390, "height": 844}, errors, clock)
    try:
        sign_in(page, live_url, "/admin/members")
        expect()(page.get_by_role("table", name="會員").locator("tbody tr")).to_have_count(4)
        header = page.evaluate("() => Math.round(document.querySelector('.side').getBoundingClientRect().height)")
        heading_top = page.evaluate("() => Math.round(document.querySelector('main h1').getBoundingClientRect().top)")
        assert header <= 64 and heading_top <= 110, (header, heading_top)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the page itself never scrolls sideways
        wrap = page.locator(".table-wrap")
        assert wrap.evaluate("(w) => getComputedStyle(w).overflowX") == "auto"
        assert wrap.evaluate("(w) => w.getBoundingClientRect().right") <= 390  # the table scrolls inside its card, not clipped by the page
        shoot(page, "details-06-members-phone", full=False)
    finally:
        context.close()
    assert not errors, errors


def test_ready_made_segments_count_save_and_send(console, live_url, app, client, counter, make_member, clock):  # noqa: F811
    from datetime import timedelta

    check = expect()
    start = clock.now
    clock.now = start - timedelta(days=90)
    _, boss = make_member("吳老闆")
    clock.now = start - timedelta(days=45)
    assert counter.award(boss, "W-1", amount="3000", visit=True).status_code == 201
    clock.now = start
    shop_history(client, counter, make_member, clock)  # the four regulars: every one of them visited within 30 days, or never
    make_account(app, "marketer")
    sign_in(console, live_url, "/admin/segments")
    presets = console.get_by_role("table", name="現成分眾")
    month = clock.today().month
    check(presets).to_contain_text(f"{month} 月壽星（生日當月）")
    check(presets).to_contain_text("沉睡大戶")
    check(console.locator("#preset-lapsed30")).to_have_text("1")  # 吳老闆 only: 張同學 never came (nothing to win back)
    for key, rule in (("birthday", {"field": "birthday_month", "op": "eq", "value": month}),
                      ("sleepingBig", {"and": [{"field": "nes", "op": "in", "value": ["S2", "S3"]}, {"field": "m_score", "op": "gte", "value": 4}]})):
        want = client.post("/api/v1/admin/segments/preview", json={"rule": rule}, headers=counter.admin).get_json()["count"]
        check(console.locator(f"#preset-{key}")).to_have_text(str(want))
    shoot(console, "details-07-ready-made-segments")

    presets.locator("tr", has_text="沉睡大戶").get_by_role("button", name="載入條件").click()  # into the form, to refine
    check(console.get_by_label("分眾名稱")).to_have_value("沉睡大戶")
    check(console.get_by_role("group", name="條件")).to_have_count(2)

    presets.locator("tr", has_text="30 天未回訪").get_by_role("button", name="建立推播").click()
    check(console).to_have_url(re.compile(r"/admin/campaigns/new\?segment=\d+$"))
    check(console.locator("#segmentSize")).to_have_text("約 1 位可推播的會員")
    [segment] = client.get("/api/v1/admin/segments", headers=counter.admin).get_json()["segments"]
    assert segment["name"] == "30 天未回訪" and segment["rule"] == {"and": [{"field": "visits", "op": "gte", "value": 1},
                                                                    {"not": {"field": "last_visit_within_days", "op": "lte", "value": 30}}]}


def test_automation_texts_preview_with_a_sample_member(console, live_url, app, client, counter, make_member):  # noqa: F811
    check = expect()
    make_member("陳美玲")
    make_account(app, "owner")
    sign_in(console, live_url, "/admin/settings/journeys")
    welcome = console.get_by_role("region", name="入會歡迎")
    text = welcome.locator("textarea[name=text]")
    text.fill("{name} 您好，歡迎加入 {brand}！集滿可換{reward}，{{限時}}")
    preview = welcome.get_by_role("group", name="預覽")
    check(preview).to_contain_text("預覽：陳美玲 收到的訊息")  # the newest member stands in
    bubble = preview.locator(".bubble")
    brand = app.extensions["loyalty"].settings.brand_name
    check(bubble).to_have_text(f"陳美玲 您好，歡迎加入 {brand}！集滿可換招牌飲品一杯，{{限時}}")
    check(bubble).not_to_contain_text("{name}")
    shoot(console, "details-08-automation-preview")


def test_tier_form_speaks_the_marketers_words(console, live_url, app):  # noqa: F811
    check = expect()
    make_account(app, "owner")
    sign_in(console, live_url, "/admin/settings/tiers")
    form = console.get_by_role("region", name="新增等級")
    check(form).not_to_contain_text("代碼")
    check(form).not_to_contain_text("順位")
    check(form).to_contain_text("等級名稱（會員看到的）")
    check(form).to_contain_text("0 是入會就有的等級，數字越大等級越高")
    form.get_by_label("等級名稱（會員看到的）").fill("金卡")
    form.get_by_label("英文代號（系統用）").fill("gold")
    form.get_by_label("等級高低").fill("1")
    form.get_by_label("升等門檻").fill("5000")
    form.get_by_role("button", name="儲存").click()
    tiers = console.get_by_role("table", name="會員等級")
    check(tiers).to_contain_text("金卡")
    check(tiers.locator("thead")).to_contain_text("等級高低")
    shoot(console, "details-09-tier-form")
