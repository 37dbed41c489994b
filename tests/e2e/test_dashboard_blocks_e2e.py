"""Blocks caused by campaigns on the dashboard, and LINE's statistics on a journey, in headless
Chromium: the 總覽 page draws each campaign's block rate by send date and the weekly unfollows
with the campaigns' share (Chart.js, read back from the chart itself), with the same figures in a
table; the automation's card shows its impressions, opens and clicks, or says LINE withheld them.
Screenshots: artifacts/screenshots/admin-dashboard-campaign-blocks.png, admin-journey-line.png."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.jobs import worker as tasks
from bot.jobs.insights import fetch_insights
from bot.jobs.journey_runner import process_due
from models.member import complete_join, ensure_member, record_unfollow
from tests.conftest import taipei_time
from tests.e2e.admin_helpers import expect, make_account, shoot, sign_in
from tests.e2e.admin_helpers import console  # noqa: F401  (fixture)

pytestmark = [pytest.mark.timeout(240), pytest.mark.usefixtures("business_hours")]


def members(db, clock, count: int, base: int) -> list[str]:  # type: ignore[no-untyped-def]
    users = [f"U{i + base:032x}" for i in range(count)]
    with db.transaction() as s:
        for user in users:
            m = ensure_member(s, user, now=clock.now)
            complete_join(s, m, now=clock.now, birthday_on=date(1990, 1, 1), terms_version="t", consented_at=clock.now, phone=None, gender=None)
    return users


def send(client, counter, clock, name: str, when) -> None:  # type: ignore[no-untyped-def]
    clock.now = when
    made = client.post("/api/v1/admin/campaigns", json={"name": name, "kind": "text", "content": {"text": f"{name}上市！"}}, headers=counter.admin)
    assert client.post(f"/api/v1/admin/campaigns/{made.get_json()['id']}/send", json={}, headers=counter.admin).status_code == 202
    tasks.wait_for_jobs()


def test_the_dashboard_draws_blocks_per_campaign_and_per_week(console, live_url, app, client, counter, db, clock, fake_line):  # noqa: F811
    check = expect()
    users = members(db, clock, 10, 9300)
    first = clock.today() + timedelta(days=1)
    send(client, counter, clock, "冬季", taipei_time(first, 10))  # 10 reached; 1 blocks within 24 h
    with db.transaction() as s:
        record_unfollow(s, users[0], now=taipei_time(first, 11))
    second = first + timedelta(days=3)
    send(client, counter, clock, "春節", taipei_time(second, 10))  # the 9 still following; 3 block within 24 h, 1 later
    with db.transaction() as s:
        for i, hours in ((1, 1), (2, 5), (3, 20), (4, 30)):
            record_unfollow(s, users[i], now=taipei_time(second, 10) + timedelta(hours=hours))
    clock.now = taipei_time(second + timedelta(days=3), 10)
    end = clock.today()

    make_account(app, "analyst")
    sign_in(console, live_url, f"/admin/dashboard?from={first}&to={end}")
    box = console.get_by_role("region", name="推播活動造成的封鎖")
    check(box).to_be_visible()
    check(box.locator("canvas")).to_have_count(2)
    console.wait_for_function("() => [...document.querySelectorAll('#campaignBlocks .chart')].every((c) => c.dataset.ready)")
    rates = console.evaluate("""() => Chart.getChart(document.querySelector('#campaignBlocks canvas[aria-label="各活動封鎖率（依發送日）"]'))
        .data.datasets.map((d) => [d.label, d.data.map((v, i) => v == null ? null : [i, Math.round(v * 10) / 10]).filter(Boolean)])""")
    span = (second - first).days
    assert rates == [["冬季", [[0, 10.0]]], ["春節", [[span, 33.3]]]]  # 1 of 10 on the first day; 3 of 9 three days on
    weeks = console.evaluate("""() => { const c = Chart.getChart(document.querySelector('#campaignBlocks canvas[aria-label^="每週封鎖人次"]'));
        return c.data.datasets.map((d) => d.data.reduce((a, b) => a + b, 0)); }""")
    assert weeks == [4, 1]  # 4 unfollows within 24 h of a campaign, 1 after
    table = box.get_by_role("table", name="推播活動造成的封鎖")
    check(table.locator("tbody tr")).to_have_count(2)
    check(table.locator("tbody tr").nth(1)).to_contain_text("春節")
    check(table.locator("tbody tr").nth(1)).to_contain_text("33.3%")
    shoot(console, "dashboard-campaign-blocks")


def test_an_automation_card_shows_lines_opens_and_clicks(console, live_url, app, client, counter, db, clock, fake_line):  # noqa: F811
    check = expect()
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    assert client.put("/api/v1/admin/journeys/welcome", json={"enabled": True}, headers=counter.admin).status_code == 200
    users = members(db, clock, 24, 9400)
    assert process_due(app.extensions["loyalty"])["sent"] == 24
    fake_line.open_unit("journey_welcome", users[:20] + users[:4])
    fake_line.click_unit("journey_welcome", "https://cafe.example.com/menu", users[:9])  # under 20: withheld
    clock.advance(hours=3)
    assert fetch_insights(app.extensions["loyalty"])["fetched"] == 1

    make_account(app, "marketer")
    sign_in(console, live_url, "/admin/settings/journeys")
    welcome = console.get_by_role("region", name="入會歡迎")
    stats = welcome.locator(".journey-line")
    check(stats).to_contain_text("送達 24 人")
    check(stats).to_contain_text("曝光 24")
    check(stats).to_contain_text("開啟 20（83.3%）")
    check(stats).to_contain_text("點擊 少於 20 人")
    check(console.get_by_role("region", name="生日祝福").locator(".journey-line")).to_have_text("LINE 的開啟與點擊統計會延遲數小時提供，尚未取得。")
    shoot(console, "journey-line")
