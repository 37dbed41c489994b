"""The dashboard's RFM bits in headless Chromium: new reachable members, when the segments were
computed, the brand's rule for "high" and its action hints, changed in the form and recomputed."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import SCREENSHOTS

from tests.e2e.admin_helpers import expect, make_account, shop_history, sign_in
from tests.e2e.admin_helpers import console  # noqa: F401  (fixture)

pytestmark = pytest.mark.timeout(240)


def test_rfm_rule_and_action_hints_are_shown_and_edited(console, live_url, app, client, counter, make_member, clock):  # noqa: F811
    check = expect()
    shop_history(client, counter, make_member, clock)
    make_account(app, "marketer")
    sign_in(console, live_url, "/admin/dashboard")
    check(console.locator(".kpi").nth(3)).to_contain_text("期間新可觸及會員")
    check(console.locator("#rfmComputed")).to_contain_text("分群計算於")
    check(console.locator("#rfmRule")).to_have_text("「高」的判定：R 五分位 ≥ 3 · F 五分位 ≥ 3 · M 五分位 ≥ 3")
    check(console.locator('.rfm-hints dd[data-class="重要發展"]')).to_contain_text("問卷")
    check(console.locator('.rfm-hints dd[data-class="重要保持"]')).to_contain_text("到期")

    console.get_by_text("調整判定與建議").click()
    form = console.get_by_role("form", name="RFM 設定")
    form.get_by_label("F 來店次數").select_option("threshold")
    form.get_by_label("門檻（次）").fill("0")
    form.get_by_role("button", name="儲存並重新計算").click()
    check(form.get_by_role("alert")).to_contain_text("RFM 設定有誤")  # refused where it happened
    check(form.get_by_label("門檻（次）")).to_have_attribute("aria-invalid", "true")

    form.get_by_label("門檻（次）").fill("2")
    form.get_by_label("M 消費金額").select_option("average")
    form.get_by_label("重要發展 的行動建議").fill("寄滿意度問卷，附第二杯半價")
    form.get_by_role("button", name="儲存並重新計算").click()
    check(console.locator("#rfmRule")).to_have_text("「高」的判定：R 五分位 ≥ 3 · F ≥ 2 次 · M 高於平均")
    check(console.locator('.rfm-hints dd[data-class="重要發展"]')).to_have_text("寄滿意度問卷，附第二杯半價")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    console.locator(".card", has=console.locator("#rfmRule")).screenshot(path=str(SCREENSHOTS / "admin-05-dashboard-rfm.png"))
    saved = client.get("/api/v1/admin/segments/settings", headers=counter.admin).get_json()
    assert (saved["f_mode"], saved["f_visits"], saved["m_mode"]) == ("threshold", 2, "average")
    assert saved["computed_at"] == clock.now.isoformat()
    # the classes follow the new rule: 2+ visits in the window is "high" F
    grid = client.get("/api/v1/admin/segments/overview", headers=counter.admin).get_json()["rfm"]
    assert sum(grid.values()) == 3  # 陳小姐, 林先生, 王太太 bought; 張同學 never did

    console.get_by_role("link", name="分眾").click()  # where rules on RFM classes are built: how fresh they are
    check(console.locator("#segComputed")).to_contain_text("分群計算於")
