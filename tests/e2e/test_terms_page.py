"""/terms on a phone, as a member opens it from the consent step (artifacts/screenshots/simulator-terms.png)."""
from __future__ import annotations

import pytest

try:
    from playwright.sync_api import expect as check
except ImportError:  # the ``browser`` fixture skips (or fails under REQUIRE_SERVICES=1) with the reason
    check = None  # type: ignore[assignment]

pytestmark = pytest.mark.timeout(120)


def test_the_terms_read_well_on_a_phone(page, live_url, screenshot):  # type: ignore[no-untyped-def]
    page.goto(f"{live_url}/terms?version=2026-01")
    check(page.get_by_role("heading", level=1)).to_have_text("好日子咖啡會員條款與隱私權政策")
    check(page.get_by_role("heading", name="四、您的權利")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    screenshot(page, "terms")
