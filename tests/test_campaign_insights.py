"""Opens, clicks and blocks per campaign: every campaign is multicast under its own aggregation unit,
a job asks LINE (the fake, which keeps LINE's rules: null under 20 users, at most 31 days) for the
unit's statistics, and the report shows them beside the blocks the campaign caused."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.jobs import worker as tasks
from bot.jobs.insights import fetch_insights
from models.insight import CampaignInsight
from models.member import complete_join, ensure_member, record_unfollow

pytestmark = pytest.mark.usefixtures("business_hours")


@pytest.fixture
def crowd(db, clock, fake_line):  # type: ignore[no-untyped-def]
    """40 joined members; returns their LINE ids."""
    users = []
    with db.transaction() as s:
        for i in range(40):
            user = f"U{i + 7000:032x}"
            m = ensure_member(s, user, now=clock.now)
            complete_join(s, m, now=clock.now, birthday_on=date(1990, 1, 1), terms_version="t", consented_at=clock.now, phone=None, gender=None)
            users.append(user)
    return users


def sent_campaign(client, counter) -> int:  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/admin/campaigns", json={"name": "新品上市", "kind": "text", "content": {"text": "冬季限定拿鐵上市！"}},
                       headers=counter.admin)
    assert resp.status_code == 201, resp.get_json()
    campaign_id = resp.get_json()["id"]
    assert client.post(f"/api/v1/admin/campaigns/{campaign_id}/send", json={}, headers=counter.admin).status_code == 202
    tasks.wait_for_jobs()
    return campaign_id


def report(client, counter, campaign_id):  # type: ignore[no-untyped-def]
    resp = client.get(f"/api/v1/admin/campaigns/{campaign_id}/report", headers=counter.admin)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_a_campaign_goes_out_under_its_own_unit_and_its_opens_are_fetched(app, client, counter, crowd, fake_line, clock):
    campaign_id = sent_campaign(client, counter)
    unit = f"campaign_{campaign_id}"
    multicasts = fake_line.requests(path="/v2/bot/message/multicast")
    assert multicasts and all(r.json["customAggregationUnits"] == [unit] for r in multicasts)
    assert fake_line.unit_recipients(unit) == set(crowd)
    before = report(client, counter, campaign_id)["line"]
    assert (before["unique_impressions"], before["note"]) == (None, "not_fetched")

    fake_line.open_unit(unit, crowd[:30])
    fake_line.click_unit(unit, "https://cafe.example.com/winter", crowd[:22])
    clock.advance(hours=3)
    assert fetch_insights(app.extensions["loyalty"]) == {"fetched": 1, "withheld": 0, "failed": 0}
    (call,) = fake_line.requests(path="/v2/bot/insight/message/event/aggregation")
    assert call.query["customAggregationUnit"] == unit and len(call.query["from"]) == 8 and call.query["from"] <= call.query["to"]
    line = report(client, counter, campaign_id)["line"]
    assert (line["unique_impressions"], line["unique_clicks"], line["note"]) == (30, 22, None)
    assert line["open_rate"] == 0.75 and line["click_rate"] == 0.55
    assert line["clicks"] == [{"url": "https://cafe.example.com/winter", "clicks": 22, "unique_clicks": 22}]

    assert fetch_insights(app.extensions["loyalty"])["fetched"] == 0  # asked again only after 12 hours
    clock.advance(hours=13)
    fake_line.open_unit(unit, crowd[30:35])
    assert fetch_insights(app.extensions["loyalty"])["fetched"] == 1
    assert report(client, counter, campaign_id)["line"]["unique_impressions"] == 35


def test_counts_line_withholds_are_shown_as_too_few_not_as_zero(app, client, counter, crowd, fake_line, clock):
    campaign_id = sent_campaign(client, counter)
    fake_line.open_unit(f"campaign_{campaign_id}", crowd[:12])  # under LINE's 20
    clock.advance(hours=3)
    assert fetch_insights(app.extensions["loyalty"]) == {"fetched": 1, "withheld": 1, "failed": 0}
    line = report(client, counter, campaign_id)["line"]
    assert (line["unique_impressions"], line["open_rate"], line["note"]) == (None, None, "below_minimum")


def test_a_line_error_keeps_the_last_figures_and_says_why(app, client, counter, crowd, fake_line, clock, db):
    campaign_id = sent_campaign(client, counter)
    fake_line.open_unit(f"campaign_{campaign_id}", crowd[:25])
    clock.advance(hours=3)
    fetch_insights(app.extensions["loyalty"])
    clock.advance(hours=13)
    fake_line.inject("/v2/bot/insight/", 500)
    assert fetch_insights(app.extensions["loyalty"]) == {"fetched": 0, "withheld": 0, "failed": 1}
    line = report(client, counter, campaign_id)["line"]
    assert line["unique_impressions"] == 25 and line["note"] is None
    with db.sessions() as s:
        assert "500" in s.scalars(select(CampaignInsight.last_error)).one()


def test_campaigns_older_than_lines_window_are_not_asked(app, client, counter, crowd, fake_line, clock):
    sent_campaign(client, counter)
    clock.advance(days=32)
    assert fetch_insights(app.extensions["loyalty"])["fetched"] == 0
    assert not fake_line.requests(path="/v2/bot/insight/message/event/aggregation")


def test_blocks_within_a_day_of_the_message_count_against_the_campaign(app, client, counter, crowd, db, clock):
    with db.transaction() as s:
        record_unfollow(s, crowd[0], now=clock.now - timedelta(hours=1))  # blocked before: not sent at all
    campaign_id = sent_campaign(client, counter)
    start = clock.now
    with db.transaction() as s:
        record_unfollow(s, crowd[1], now=start + timedelta(hours=2))
        record_unfollow(s, crowd[2], now=start + timedelta(hours=23))
        record_unfollow(s, crowd[3], now=start + timedelta(hours=30))  # a day later: not this campaign's
    got = report(client, counter, campaign_id)
    assert got["sent"] == 39
    assert got["blocks"] == {"members": 2, "rate": round(2 / 39, 4), "window_hours": 24}


def test_the_funnel_downloads_as_csv_with_lines_gaps_named(app, client, counter, crowd, fake_line, db, clock):
    import csv
    import io

    campaign_id = sent_campaign(client, counter)
    fake_line.open_unit(f"campaign_{campaign_id}", crowd[:30])
    fake_line.click_unit(f"campaign_{campaign_id}", "https://cafe.example.com/winter", crowd[:5])  # under LINE's 20
    with db.transaction() as s:
        record_unfollow(s, crowd[0], now=clock.now + timedelta(hours=1))
    clock.advance(hours=3)
    fetch_insights(app.extensions["loyalty"])
    resp = client.get(f"/api/v1/admin/campaigns/{campaign_id}/report.csv", headers=counter.admin)
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert f"campaign-{campaign_id}-funnel.csv" in resp.headers["Content-Disposition"]
    rows = {(r["step"], r["group"]): r for r in csv.DictReader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff")))}
    assert rows[("sent", "target")]["members"] == "40" and rows[("sent", "target")]["share_of_sent"] == "1.0000"
    assert rows[("opened", "target")]["members"] == "30" and rows[("opened", "target")]["share_of_sent"] == "0.7500"
    assert rows[("clicked", "target")]["members"] == "" and "under 20" in rows[("clicked", "target")]["note"]
    assert rows[("blocked_within_24h", "target")]["members"] == "1"
    assert rows[("held_out", "holdout")]["members"] == "0"
    assert client.get("/api/v1/admin/campaigns/999/report.csv", headers=counter.admin).status_code == 404
