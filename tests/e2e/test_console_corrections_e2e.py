"""An owner approves and rejects large corrections in the console (設定 › 調整核准), in headless
Chromium against the real app: one asked for at a store's counter, one by a console manager.
Screenshot: artifacts/screenshots/admin-30-corrections.png."""
from __future__ import annotations

import pytest

from tests.e2e.admin_helpers import expect, make_account, shoot, sign_in
from tests.e2e.admin_helpers import console  # noqa: F401  (fixture)

pytestmark = pytest.mark.timeout(180)


def test_an_owner_decides_waiting_corrections(console, live_url, app, client, counter, make_member):  # noqa: F811
    check = expect()
    make_account(app, "owner")
    make_account(app, "manager", email="mgr@brand.tw")
    _, number = make_member("陳小姐")
    asked = client.post("/api/v1/corrections", json={"member_no": number, "currency": "point", "amount": 3000, "reason": "年度活動補發"},
                        headers=counter.manager)
    assert asked.status_code == 202
    manager = client.post("/api/v1/admin/auth/login", json={"email": "mgr@brand.tw", "password": "s3cret-pass"}).get_json()["token"]
    office = client.post(f"/api/v1/admin/members/{number}/adjustments", json={"currency": "stamps", "amount": 40, "reason": "舊卡轉入"},
                         headers={"Authorization": f"Bearer {manager}"})
    assert office.status_code == 202

    sign_in(console, live_url, "/admin/settings/corrections")
    check(console.get_by_role("link", name="調整核准")).to_have_attribute("aria-current", "page")
    pending = console.get_by_role("table", name="待核准")
    check(pending.locator("tbody tr")).to_have_count(2)
    shoot(console, "30-corrections")

    row = pending.get_by_role("row").filter(has_text="年度活動補發")
    check(row).to_contain_text("台北信義店")
    check(row).to_contain_text("+3,000 點數")
    row.get_by_role("button", name="核准").click()
    dialog = console.get_by_role("dialog")
    check(dialog).to_contain_text("manager-tpe01")
    dialog.get_by_role("button", name="核准").click()
    check(console.get_by_role("status")).to_contain_text(f"已核准：會員 {number}")

    row = pending.get_by_role("row").filter(has_text="舊卡轉入")
    check(row).to_contain_text("後台")
    row.get_by_role("button", name="退回").click()
    dialog.get_by_label("退回原因（選填）").fill("請附舊卡照片")
    dialog.get_by_role("button", name="退回").click()
    check(console.get_by_role("status")).to_contain_text("已退回")
    check(console.get_by_text("目前沒有待核准的調整")).to_be_visible()
    history = console.get_by_role("table", name="已處理")
    check(history.locator("tbody tr")).to_have_count(2)
    check(history.get_by_role("row").filter(has_text="年度活動補發")).to_contain_text("已核准")
    check(history.get_by_role("row").filter(has_text="舊卡轉入")).to_contain_text("已退回")

    balances = client.post("/api/v1/scan", json={"member_no": number}, headers=counter.cashier).get_json()["balances"]
    assert balances == {"stamps": 0, "points": 3000}
