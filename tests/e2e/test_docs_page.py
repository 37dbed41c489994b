"""/docs in a real browser: Swagger UI (vendored) renders every operation of /openapi.json, loads
nothing from outside this server, and logs no errors."""
from __future__ import annotations

import json
import urllib.request

import pytest

from tests.e2e.conftest import ACTION_TIMEOUT_MS, SCREENSHOTS, on_app_clock

pytestmark = pytest.mark.timeout(120)


def expect():  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect as _expect

    return _expect


@pytest.fixture
def desk(browser, live_url, clock):  # type: ignore[no-untyped-def]
    """A desktop-sized page; page errors, console errors and requests leaving this server fail the test."""
    context = on_app_clock(browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-TW", timezone_id="Asia/Taipei"), clock)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.on("console", lambda msg: errors.append(f"console.{msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("requestfailed", lambda req: errors.append(f"request failed: {req.url} {req.failure}"))
    page.on("request", lambda req: None if req.url.startswith((live_url + "/", "data:")) else errors.append(f"left the server: {req.url}"))
    yield page
    found = list(errors)
    context.close()
    assert not found, "browser errors:\n" + "\n".join(found)


def test_docs_page_renders_every_operation(desk, live_url):  # type: ignore[no-untyped-def]
    with urllib.request.urlopen(f"{live_url}/openapi.json", timeout=10) as resp:
        doc = json.load(resp)
    operations = sum(len(ops) for ops in doc["paths"].values())

    desk.goto(f"{live_url}/docs")
    expect()(desk).to_have_title("API 文件")
    expect()(desk.locator(".swagger-ui .info .title")).to_contain_text("Loyalty bot")
    blocks = desk.locator(".swagger-ui .opblock")
    expect()(blocks).to_have_count(operations)

    for path, methods in {"/api/v1/awards": 1, "/api/v1/admin/campaigns": 2, "/api/v1/admin/segments/{segment_id}/members.csv": 1}.items():
        summary = desk.locator(f'.opblock-summary-path[data-path="{path}"]')
        expect()(summary).to_have_count(methods)
        expect()(summary.first).to_be_visible()
    for tag in ("Counter", "Members", "Segments", "Campaigns", "Settings"):
        expect()(desk.locator(f'.opblock-tag[data-tag="{tag}"]')).to_be_visible()
    expect()(desk.locator(".swagger-ui .auth-wrapper .authorize")).to_be_visible()

    # Open one admin operation: its scope and its request body (a segment rule) are shown.
    preview = desk.locator("#operations-Segments-post_api_v1_admin_segments_preview")
    preview.locator(".opblock-summary").click()
    expect()(preview.locator(".opblock-description-wrapper").first).to_contain_text("Admin scope: members:read")
    expect()(preview.locator(".opblock-section-request-body")).to_be_visible()
    expect()(preview.locator(".responses-table")).to_contain_text("403")

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    desk.locator(".opblock-tag-section").first.scroll_into_view_if_needed()
    desk.evaluate("window.scrollTo(0, 0)")
    desk.screenshot(path=str(SCREENSHOTS / "docs.png"))
