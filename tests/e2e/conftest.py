"""Browser-test fixtures: the real bot (with dev tools) on a live loopback port, the fake LINE
server from the root fixtures, and Debian's chromium driven by Playwright's sync API.

Chromium missing means skip, unless REQUIRE_SERVICES=1 (CI), where it means fail."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
ACTION_TIMEOUT_MS = 10_000


def _unavailable(reason: str):  # type: ignore[no-untyped-def]
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1: CI must not skip browser tests)")
    pytest.skip(reason)


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.hasplugin("timeout"):
        # Without pytest-timeout the mark is documentation; every browser wait below is bounded anyway.
        config.addinivalue_line("markers", "timeout(seconds): whole-test time limit (pytest-timeout)")


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@pytest.fixture
def _live_server():  # type: ignore[no-untyped-def]
    """A bound loopback socket; the app is plugged in later, once it knows its own URL."""
    target: dict = {}

    def wsgi(environ, start_response):  # type: ignore[no-untyped-def]
        return target["app"](environ, start_response)

    server = make_server("127.0.0.1", 0, wsgi, threaded=True, request_handler=_QuietHandler)
    yield server, target
    server.server_close()


@pytest.fixture
def settings(settings, _live_server):  # type: ignore[no-untyped-def]
    """The root settings plus the simulator's routes and QR URLs pointing at the live server."""
    server, _ = _live_server
    return settings.with_overrides(dev_tools=True, public_base_url=f"http://127.0.0.1:{server.server_port}")


@pytest.fixture
def live_url(app, _live_server):  # type: ignore[no-untyped-def]
    """The root ``app`` fixture (fixed clock, clean database) served over HTTP."""
    server, target = _live_server
    target["app"] = app
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        _unavailable(f"chromium not found at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package is not installed")
    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        except Exception as exc:  # noqa: BLE001 - reported as the skip/fail reason
            _unavailable(f"chromium at {CHROMIUM} did not start: {exc}")
        yield browser
        browser.close()


def on_app_clock(context, clock):  # type: ignore[no-untyped-def]
    """Runs the context's pages on the app's clock: Date, timers and performance start at the
    app's now and flow from there, and moving the app's clock moves the pages' clock with it."""
    context.clock.install(time=clock.now)

    def follow(now) -> None:  # type: ignore[no-untyped-def]
        context.clock.set_system_time(now)

    clock.watchers.append(follow)
    context.on("close", lambda _: clock.watchers.remove(follow) if follow in clock.watchers else None)
    return context


@pytest.fixture
def page(browser, clock):  # type: ignore[no-untyped-def]
    """A phone-sized page on the app's clock; any JavaScript error or console error fails the test."""
    context = on_app_clock(browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        locale="zh-TW",
        timezone_id="Asia/Taipei",
    ), clock)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.on("console", lambda msg: errors.append(f"console.{msg.type}: {msg.text}") if msg.type == "error" else None)
    yield page
    found = list(errors)  # before closing: closing aborts the page's in-flight polls
    context.close()
    assert not found, "browser errors:\n" + "\n".join(found)


@pytest.fixture
def screenshot():  # type: ignore[no-untyped-def]
    """screenshot(page, "name") -> artifacts/screenshots/simulator-name.png"""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:  # type: ignore[no-untyped-def]
        path = SCREENSHOTS / f"simulator-{name}.png"
        page.screenshot(path=str(path))
        return path

    return take
