"""Helpers for the admin console's browser tests: a desktop (or tablet) page that fails on any
browser error or request leaving the server, a signed-in console, and a little shop history."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.e2e.conftest import ACTION_TIMEOUT_MS, SCREENSHOTS, on_app_clock

EMAIL, PASSWORD = "mkt@brand.tw", "s3cret-pass"
DESKTOP = {"width": 1280, "height": 900}
TABLET = {"width": 820, "height": 1180}


def expect():  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect as _expect

    return _expect


def open_page(browser, live_url: str, viewport: dict[str, int], errors: list[str], clock):  # type: ignore[no-untyped-def]
    context = on_app_clock(browser.new_context(viewport=viewport, locale="zh-TW", timezone_id="Asia/Taipei", device_scale_factor=1), clock)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))

    def on_console(msg) -> None:  # type: ignore[no-untyped-def]
        # a refused sign-in answers 401 on purpose; Chromium logs any 4xx as a console error
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            errors.append(f"console.error: {msg.text}")

    page.on("console", on_console)
    page.on("request", lambda req: None if req.url.startswith((live_url + "/", "data:", "blob:")) else errors.append(f"left the server: {req.url}"))
    return context, page


@pytest.fixture
def console(browser, live_url, app, clock):  # type: ignore[no-untyped-def]
    """A 1280px page on the app's clock and a marketer-manager account (role given by the test with ``account``)."""
    errors: list[str] = []
    context, page = open_page(browser, live_url, DESKTOP, errors, clock)
    yield page
    found = list(errors)
    context.close()
    assert not found, "browser errors:\n" + "\n".join(found)


def make_account(app, role: str = "owner", email: str = EMAIL) -> None:  # type: ignore[no-untyped-def]
    from models.admin_user import create_admin_user

    svc = app.extensions["loyalty"]
    with svc.db.transaction() as session:
        create_admin_user(session, email=email, password=PASSWORD, role=role, display_name="林行銷", now=svc.now())


def sign_in(page, live_url: str, path: str = "/admin", email: str = EMAIL, shot=None) -> None:  # type: ignore[no-untyped-def]
    check = expect()
    page.goto(live_url + path)
    check(page.get_by_role("heading", name="登入行銷後台")).to_be_visible()
    page.get_by_label("電子郵件").fill(email)
    page.get_by_label("密碼").fill(PASSWORD)
    if shot:
        shot(page, "01-sign-in")
    page.get_by_role("button", name="登入").click()
    check(page.locator("#who")).to_contain_text("林行銷")


def shoot(page, name: str, *, full: bool = True) -> None:  # type: ignore[no-untyped-def]
    """artifacts/screenshots/admin-NAME.png, after the charts have drawn."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_function("() => [...document.querySelectorAll('.chart')].every((c) => c.dataset.ready)")
    page.evaluate("window.scrollTo(0, 0)")  # sticky parts (navigation, preview) in their resting place
    page.wait_for_timeout(350)  # the charts' entry animation (300 ms) ends: a picture, not a wait for state
    page.screenshot(path=str(SCREENSHOTS / f"admin-{name}.png"), full_page=full)


def shop_history(client, counter, make_member, clock) -> list[str]:  # type: ignore[no-untyped-def]
    """Four members with visits over the last weeks, and the RFM/NES stats computed."""
    people = [("陳小姐", 60, [40, 12, 3], "420"), ("林先生", 60, [20], "1200"), ("王太太", 26, [25, 9, 6, 2], "180"), ("張同學", 5, [], None)]
    numbers = []
    start = clock.now
    for name, joined_ago, days_ago, amount in people:
        clock.now = start - timedelta(days=joined_ago)
        _, number = make_member(name)
        numbers.append(number)
        for i, ago in enumerate(days_ago):
            clock.now = start - timedelta(days=ago)
            resp = counter.award(number, f"{number}-{i}", amount=amount, visit=True)
            assert resp.status_code == 201, resp.get_json()
        clock.now = start
    assert client.post("/api/v1/admin/segments/recompute", headers=counter.admin).status_code == 200
    return numbers
