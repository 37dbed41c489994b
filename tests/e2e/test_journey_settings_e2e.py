"""The journeys page in the console (headless Chromium against the real app): the win-back's NES
stages, chosen with checkboxes that say what each means in days of the brand's purchase cycle, the
cycle shown with where it comes from, and service journeys marked as outside the marketing cap.
Screenshot: artifacts/screenshots/admin-22-journey-targets.png."""
from __future__ import annotations

import re

import pytest

from tests.e2e.admin_helpers import expect, make_account, shoot, sign_in
from tests.e2e.admin_helpers import console  # noqa: F401  (fixture)

pytestmark = pytest.mark.timeout(240)


def winback(client, counter) -> dict:  # type: ignore[type-arg,no-untyped-def]
    journeys = client.get("/api/v1/admin/journeys", headers=counter.admin).get_json()["journeys"]
    return next(j for j in journeys if j["kind"] == "winback")


def test_a_marketer_points_the_winback_at_s3_and_sees_the_purchase_cycle(console, live_url, app, client, counter):  # noqa: F811
    check = expect()
    make_account(app, "owner")
    sign_in(console, live_url, "/admin/settings/journeys")
    card = console.get_by_role("region", name="喚回沉睡客")
    stages = card.get_by_role("group", name="目標階段（NES）")
    check(stages).to_contain_text("購買週期 30 天（預設）：回購間隔只有 0 筆，滿 30 筆後改依資料計算")
    check(stages.get_by_label("S1：30–60 天未回店")).to_be_checked()
    check(stages.get_by_label("S2：60–90 天未回店")).to_be_checked()
    s3 = stages.get_by_label(re.compile("^S3：超過 90 天未回店"))
    check(s3).not_to_be_checked()
    check(console.get_by_role("region", name="保級提醒")).to_contain_text("不計入行銷頻率上限")
    check(card).not_to_contain_text("不計入行銷頻率上限")

    s3.check()
    card.get_by_label("啟用這個自動化").check()
    card.get_by_role("button", name="儲存").click()
    check(console.get_by_role("status")).to_have_text("「喚回沉睡客」已啟用")
    assert winback(client, counter)["target_nes"] == ["S1", "S2", "S3"]
    card = console.get_by_role("region", name="喚回沉睡客")  # the page reloaded with the saved choice
    check(card.get_by_label(re.compile("^S3："))).to_be_checked()
    shoot(console, "22-journey-targets")

    for stage in ("S1", "S2", "S3"):
        card.get_by_label(re.compile(f"^{stage}：")).uncheck()
    card.get_by_role("button", name="儲存").click()
    check(console.locator("#toast")).to_contain_text("target_nes lists one or more of S1, S2, S3")
    assert winback(client, counter)["target_nes"] == ["S1", "S2", "S3"]  # refused: nothing changed
