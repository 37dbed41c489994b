"""The demo's café in the console: a fresh `make demo` shows a dashboard with a year of members,
not a blank page (artifacts/screenshots/admin-demo-*.png)."""
from __future__ import annotations

import re

import pytest

from bot.dev import demo
from tests.e2e.admin_helpers import expect, make_account, shoot, sign_in
from tests.e2e.admin_helpers import console  # noqa: F401  (fixture)

pytestmark = pytest.mark.timeout(240)


def test_the_demo_dashboard_has_a_year_of_members(console, live_url, app, clock):  # noqa: F811
    check = expect()
    demo.seed(app, members=60)
    make_account(app, "marketer")
    sign_in(console, live_url, "/admin/dashboard")
    check(console.get_by_role("heading", name=re.compile("儀表板"))).to_be_visible()
    kpis = console.locator(".kpi")
    check(kpis.nth(0)).to_contain_text("會員總數")
    check(kpis.nth(0).locator(".value")).to_have_text("60")
    cells = console.locator(".rfm .cell")
    check(cells).to_have_count(8)
    counts = [int(re.sub(r"\D", "", t) or 0) for t in cells.all_inner_texts()]
    assert sum(1 for n in counts if n) >= 4, counts  # members spread over the classes
    shoot(console, "demo-dashboard")
    console.goto(f"{live_url}/admin/members")
    check(console.locator("table tbody tr").first).to_be_visible()
    shoot(console, "demo-members")
