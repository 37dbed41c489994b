"""Who clicked a campaign's links, in the console: a Flex campaign with links is pushed per member,
two members click through the bot's redirect, and the campaign page shows the per-member step in
the funnel, each link's clicks and click-through, and the clickers (artifacts/screenshots/admin-campaign-clicks.png)."""
from __future__ import annotations

from datetime import date

import pytest

from bot.jobs import worker as tasks
from models.member import complete_join, ensure_member
from tests.e2e.admin_helpers import expect, make_account, shoot, sign_in
from tests.e2e.admin_helpers import console  # noqa: F401  (fixture)
from tests.test_campaign_clicks import FLEX, MENU, WINTER, token_for

pytestmark = [pytest.mark.timeout(240), pytest.mark.usefixtures("business_hours")]


def test_the_campaign_page_shows_who_clicked_which_link(console, live_url, app, client, counter, db, clock, fake_line):  # noqa: F811
    check = expect()
    users = [f"U{i + 9300:032x}" for i in range(8)]
    with db.transaction() as s:
        for user in users:
            m = ensure_member(s, user, now=clock.now)
            complete_join(s, m, now=clock.now, birthday_on=date(1990, 1, 1), terms_version="t", consented_at=clock.now, phone=None, gender=None)
    made = client.post("/api/v1/admin/campaigns", json={"name": "冬季新品", "kind": "flex", "content": {"alt_text": "冬季限定", "contents": FLEX}},
                       headers=counter.admin)
    campaign_id = made.get_json()["id"]
    assert client.post(f"/api/v1/admin/campaigns/{campaign_id}/send", json={}, headers=counter.admin).status_code == 202
    tasks.wait_for_jobs()
    for user, index in ((users[0], 0), (users[0], 0), (users[1], 1)):
        assert client.get(f"/r/{token_for(fake_line, user, index)}").status_code == 302

    make_account(app, "marketer")
    sign_in(console, live_url, f"/admin/campaigns/{campaign_id}")
    check(console.locator("#campaignStatus")).to_have_text("已發送")
    check(console.locator("#clicksSummary")).to_contain_text("2 位會員點擊（點擊率 25%）")
    links = console.get_by_role("table", name="連結點擊")
    check(links.get_by_role("row").filter(has_text=WINTER)).to_contain_text("2")
    check(links.get_by_role("row").filter(has_text=MENU)).to_contain_text("1")
    check(console.get_by_role("table", name="點擊的會員").get_by_role("row")).to_have_count(3)  # the heading and two clickers
    shoot(console, "campaign-clicks")
