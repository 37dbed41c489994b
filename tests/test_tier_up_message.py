"""One congratulation per upgrade: an enabled tier_up journey replaces the built-in one (in the
award's push, in a receipt claim's reply and in the daily job's message at a period's end), as
the birthday and expiry journeys replace the daily job's built-in messages."""
from __future__ import annotations

import pytest

from bot.jobs.daily import run_daily
from tests.conftest import all_text
from tests.test_journeys import enable

#: Sending runs in shop hours; quiet hours are tested on purpose where they matter.
pytestmark = pytest.mark.usefixtures("business_hours")


BUILT_IN = "恭喜升級為「{tier}」！輸入「會員權益」"  # handlers/texts.py tier_upgraded


def deliveries(fake_line, user, words) -> list[str]:  # type: ignore[no-untyped-def]
    """Everything the user received (replies and pushes) that mentions the words."""
    return [t for t in (all_text(d["messages"]) for d in fake_line.messages_to(user)) if words in t]


def congratulations(fake_line, user, tier) -> int:  # type: ignore[no-untyped-def]
    return len(deliveries(fake_line, user, f"恭喜升級為「{tier}」")) + len(deliveries(fake_line, user, f"{tier}禮遇已啟用"))


def test_without_the_journey_the_award_push_congratulates(client, counter, tiers, make_member, fake_line):
    user, number = make_member()
    counter.award(number, "R-1", amount=3500)
    assert len(deliveries(fake_line, user, BUILT_IN.format(tier="銀卡"))) == 1
    assert congratulations(fake_line, user, "銀卡") == 1


def test_an_enabled_journey_replaces_the_award_pushs_congratulation(client, counter, tiers, make_member, fake_line):
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    enable(client, counter, "tier_up", text="🎉 {tier}禮遇已啟用")
    user, number = make_member()
    resp = counter.award(number, "R-1", amount=3500).get_json()
    assert resp["award"]["tier_change"] == {"kind": "upgrade", "tier": "silver"}  # the counter still sees it
    assert len(deliveries(fake_line, user, "集點成功")) == 1  # the award's push still goes, without the line
    assert deliveries(fake_line, user, BUILT_IN.format(tier="銀卡")) == []
    assert len(deliveries(fake_line, user, "銀卡禮遇已啟用")) == 1
    assert congratulations(fake_line, user, "銀卡") == 1


def test_the_journeys_default_text_is_the_only_congratulation(client, counter, tiers, make_member, fake_line):
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    enable(client, counter, "tier_up")  # 👑 恭喜升級為「{tier}」！新的會員福利已經生效。
    user, number = make_member()
    counter.award(number, "R-1", amount=3500)
    assert [t for t in deliveries(fake_line, user, "恭喜升級為「銀卡」") if "新的會員福利已經生效" in t] != []
    assert congratulations(fake_line, user, "銀卡") == 1


def test_a_receipt_claim_that_upgrades_congratulates_once(client, counter, tiers, line, make_member, fake_line):
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    enable(client, counter, "tier_up", text="🎉 {tier}禮遇已啟用")
    user, _ = make_member()
    code = client.post("/api/v1/claims", json={"receipt_id": "R-big", "amount": 3500}, headers=counter.cashier).get_json()["code"]
    line.say(user, f"領取 {code}")
    reply = [all_text(d["messages"]) for d in fake_line.messages_to(user) if d["kind"] == "reply"][-1]
    assert "收據集點完成" in reply and "恭喜升級" not in reply
    assert congratulations(fake_line, user, "銀卡") == 1


def test_an_upgrade_at_the_end_of_a_period_congratulates_once(app, client, counter, tiers, make_member, fake_line, clock):
    svc = app.extensions["loyalty"]
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    enable(client, counter, "tier_up", text="🎉 {tier}禮遇已啟用")
    user, number = make_member()
    counter.award(number, "R-1", amount=3500)  # silver until now + 365 days
    # gold is made easier to reach and looks further back: at the end of silver's period the member
    # qualifies for gold without a new award, so the daily job moves them up
    changed = client.put("/api/v1/admin/tiers/gold", json={"threshold": 3400, "window_days": 400}, headers=counter.admin)
    assert changed.status_code == 200, changed.get_json()
    clock.advance(days=366)
    run_daily(svc)
    scan = client.post("/api/v1/scan", json={"member_no": number}, headers=counter.cashier).get_json()
    assert scan["tier"] == "金卡"
    assert deliveries(fake_line, user, BUILT_IN.format(tier="金卡")) == []
    assert len(deliveries(fake_line, user, "金卡禮遇已啟用")) == 1
    assert congratulations(fake_line, user, "金卡") == 1
