"""Opens and clicks per journey: every journey's push carries the journey's own aggregation unit
(and nothing else does), the insights job asks LINE (the fake, with LINE's rules: null under 20
users, one unit of [a-zA-Z0-9_]{1,30} per request) for each journey that sent lately, and the
journey's report shows impressions, unique impressions and clicks, or why there are none."""
from __future__ import annotations

import re
from datetime import date

import pytest
from linebot.v3.messaging import ApiException, PushMessageRequest, TextMessage
from sqlalchemy import select

from bot.jobs.insights import fetch_insights
from bot.jobs.journey_runner import process_due
from bot.line.gateway import LineError
from models.journey import KINDS
from models.journey_insight import JourneyInsight, unit_for_journey, unit_of_purpose
from models.member import complete_join, ensure_member

pytestmark = pytest.mark.usefixtures("business_hours")


def enable(client, counter, kind: str, **changes) -> None:  # type: ignore[no-untyped-def]
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    resp = client.put(f"/api/v1/admin/journeys/{kind}", json={"enabled": True, **changes}, headers=counter.admin)
    assert resp.status_code == 200, resp.get_json()


def joined(app, db, clock, count: int, start: int = 0) -> list[str]:  # type: ignore[no-untyped-def]
    """``count`` members join (the welcome journey triggers for each) and the due runs are sent."""
    users = [f"U{i + 8000 + start:032x}" for i in range(count)]
    with db.transaction() as s:
        for user in users:
            m = ensure_member(s, user, now=clock.now)
            complete_join(s, m, now=clock.now, birthday_on=date(1990, 1, 1), terms_version="t", consented_at=clock.now, phone=None, gender=None)
    assert process_due(app.extensions["loyalty"]).get("sent") == count
    return users


def line_report(client, counter, kind: str = "welcome"):  # type: ignore[no-untyped-def]
    resp = client.get(f"/api/v1/admin/journeys/{kind}/report", headers=counter.admin)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["line"]


def test_every_journey_has_a_unit_line_accepts():
    units = [unit_for_journey(kind) for kind in KINDS]
    assert len(set(units)) == len(KINDS)
    assert all(re.fullmatch(r"[a-zA-Z0-9_]{1,30}", u) for u in units)
    assert unit_of_purpose("journey:tier_up") == "journey_tier_up"
    # the daily job's built-in pushes, awards and unknown purposes are no journey's
    assert [unit_of_purpose(p) for p in ("tier_reminder", "birthday", "coupon_reminder", "award", "journey:nope")] == [None] * 5


def test_a_journey_push_carries_its_unit_and_an_award_push_none(client, counter, make_member, fake_line):
    enable(client, counter, "welcome")
    user, number = make_member("阿明")
    pushes = [r for r in fake_line.requests(path="/v2/bot/message/push") if r.json["to"] == user]
    assert [r.json.get("customAggregationUnits") for r in pushes] == [["journey_welcome"]]
    assert fake_line.unit_recipients("journey_welcome") == {user}
    assert counter.award(number, "R-1", amount="120", visit=True).status_code == 201
    award = [r for r in fake_line.requests(path="/v2/bot/message/push") if r.json["to"] == user][1:]
    assert award and all("customAggregationUnits" not in r.json for r in award)


def test_the_fake_refuses_what_line_refuses_on_a_push(app):
    svc = app.extensions["loyalty"]
    with pytest.raises(LineError) as bad_name:
        svc.line.push("U" + "1" * 32, [TextMessage(text="hi")], unit="journey-welcome")
    assert bad_name.value.status == 400
    with pytest.raises(ApiException) as two:
        svc.line.api.push_message(PushMessageRequest(to="U" + "1" * 32, messages=[TextMessage(text="hi")],
                                                     custom_aggregation_units=["journey_a", "journey_b"]))
    assert two.value.status == 400


def test_the_job_stores_a_journeys_statistics_and_the_report_shows_them(app, client, counter, db, clock, fake_line):
    enable(client, counter, "welcome")
    users = joined(app, db, clock, 25)
    assert line_report(client, counter)["note"] == "not_fetched"
    fake_line.open_unit("journey_welcome", users[:22])
    fake_line.open_unit("journey_welcome", users[:5])  # seen again: 27 impressions by 22 users
    fake_line.click_unit("journey_welcome", "https://cafe.example.com/menu", users[:21])
    clock.advance(hours=3)
    assert fetch_insights(app.extensions["loyalty"]) == {"fetched": 1, "withheld": 0, "failed": 0}
    (call,) = fake_line.requests(path="/v2/bot/insight/message/event/aggregation")
    assert call.query["customAggregationUnit"] == "journey_welcome" and call.query["from"] <= call.query["to"]
    line = line_report(client, counter)
    assert (line["impressions"], line["unique_impressions"], line["unique_clicks"], line["recipients"]) == (27, 22, 21, 25)
    assert (line["open_rate"], line["click_rate"], line["note"]) == (0.88, 0.84, None)
    assert line["clicks"] == [{"url": "https://cafe.example.com/menu", "clicks": 21, "unique_clicks": 21}]
    listed = client.get("/api/v1/admin/journeys", headers=counter.admin).get_json()["journeys"]
    assert next(j for j in listed if j["kind"] == "welcome")["report"]["line"]["unique_impressions"] == 22

    assert fetch_insights(app.extensions["loyalty"])["fetched"] == 0  # asked again only after 12 hours
    clock.set_taipei(10, days=1)  # the next morning (out of quiet hours), 21 hours on
    more = joined(app, db, clock, 3, start=100)
    fake_line.open_unit("journey_welcome", more)
    assert fetch_insights(app.extensions["loyalty"])["fetched"] == 1
    line = line_report(client, counter)
    assert (line["unique_impressions"], line["recipients"]) == (25, 28)


def test_counts_line_withholds_are_null_and_named_never_zero(app, client, counter, db, clock, fake_line):
    enable(client, counter, "welcome")
    users = joined(app, db, clock, 25)
    fake_line.open_unit("journey_welcome", users[:12] * 3)  # 36 impressions, but by 12 users: LINE shows neither
    clock.advance(hours=3)
    assert fetch_insights(app.extensions["loyalty"]) == {"fetched": 1, "withheld": 1, "failed": 0}
    with db.sessions() as s:
        row = s.scalars(select(JourneyInsight)).one()
        assert (row.unit, row.impressions, row.unique_impressions, row.unique_clicks) == ("journey_welcome", None, None, None)
    line = line_report(client, counter)
    assert (line["impressions"], line["unique_impressions"], line["open_rate"], line["note"]) == (None, None, None, "below_minimum")


def test_a_journey_sent_to_few_says_line_cannot_count_it(app, client, counter, db, clock, fake_line):
    enable(client, counter, "welcome")
    joined(app, db, clock, 3)
    clock.advance(hours=3)
    assert fetch_insights(app.extensions["loyalty"])["withheld"] == 1
    line = line_report(client, counter)
    assert (line["recipients"], line["unique_impressions"], line["note"]) == (3, None, "too_few_recipients")
    assert line_report(client, counter, "birthday")["note"] == "not_fetched"  # sent nothing: never asked


def test_a_failed_call_keeps_the_journeys_last_figures(app, client, counter, db, clock, fake_line):
    enable(client, counter, "welcome")
    users = joined(app, db, clock, 21)
    fake_line.open_unit("journey_welcome", users)
    clock.advance(hours=3)
    assert fetch_insights(app.extensions["loyalty"])["fetched"] == 1
    clock.advance(hours=13)
    fake_line.inject("/v2/bot/insight/message/event/aggregation", 500)
    assert fetch_insights(app.extensions["loyalty"])["failed"] == 1
    line = line_report(client, counter)
    assert (line["unique_impressions"], line["note"]) == (21, None)
