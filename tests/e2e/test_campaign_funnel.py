"""A campaign's funnel in the console: targeted → sent → opened and clicked (LINE's statistics per
aggregation unit, from the fake) → bought, with the blocks it caused (artifacts/screenshots/admin-campaign-funnel.png)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.jobs import worker as tasks
from bot.jobs.insights import fetch_insights
from models.member import complete_join, ensure_member, record_unfollow
from tests.e2e.admin_helpers import expect, make_account, shoot, sign_in
from tests.e2e.admin_helpers import console  # noqa: F401  (fixture)

pytestmark = [pytest.mark.timeout(240), pytest.mark.usefixtures("business_hours")]


def test_the_report_shows_opens_clicks_and_blocks(console, live_url, app, client, counter, db, clock, fake_line):  # noqa: F811
    check = expect()
    users = [f"U{i + 9100:032x}" for i in range(30)]
    with db.transaction() as s:
        for user in users:
            m = ensure_member(s, user, now=clock.now)
            complete_join(s, m, now=clock.now, birthday_on=date(1990, 1, 1), terms_version="t", consented_at=clock.now, phone=None, gender=None)
    made = client.post("/api/v1/admin/campaigns", json={"name": "冬季限定", "kind": "text", "content": {"text": "冬季限定拿鐵上市！"}}, headers=counter.admin)
    campaign_id = made.get_json()["id"]
    assert client.post(f"/api/v1/admin/campaigns/{campaign_id}/send", json={}, headers=counter.admin).status_code == 202
    tasks.wait_for_jobs()
    fake_line.open_unit(f"campaign_{campaign_id}", users[:26])
    fake_line.click_unit(f"campaign_{campaign_id}", "https://cafe.example.com/winter", users[:21])
    with db.transaction() as s:
        record_unfollow(s, users[29], now=clock.now + timedelta(hours=1))
    clock.advance(hours=4)
    assert fetch_insights(app.extensions["loyalty"])["fetched"] == 1

    make_account(app, "marketer")
    sign_in(console, live_url, f"/admin/campaigns/{campaign_id}")
    check(console.locator("#campaignStatus")).to_have_text("已發送")
    check(console.locator("#lineNote")).to_contain_text("LINE 統計更新於")
    check(console.locator("#blocks")).to_have_text("發送後 24 小時內封鎖：1 人（3.3%）")
    check(console.get_by_text("成效漏斗")).to_be_visible()
    with console.expect_download() as got:
        console.get_by_role("button", name="下載漏斗 CSV").click()
    assert got.value.suggested_filename == f"campaign-{campaign_id}-funnel.csv"
    assert "opened,target,26,0.8667" in open(got.value.path(), encoding="utf-8-sig").read()
    shoot(console, "campaign-funnel")
