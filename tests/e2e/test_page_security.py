"""The pages' Content-Security-Policy in a real browser: it is enforced (an injected inline script
does not run, nobody can frame a page), and the pages themselves load without a violation.

These pages expect refusals, so they use their own browser context rather than the ``page``
fixture, which fails on every console error (a refusal is one); the other browser tests use that
fixture, so any violation of a policy while they run fails them too."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.timeout(120)

PAGES = ["/cashier", "/admin", "/simulator", "/docs"]
READY = {  # something each page's own script draws, so the page has run before it is judged
    "/cashier": "#loginView:not([hidden])",
    "/admin": "#loginView:not([hidden])",
    "/simulator": "#userId:not(:empty)",
    "/docs": ".swagger-ui .info",
}
RECORD = """window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(e.violatedDirective));"""


@pytest.fixture
def context(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-TW")
    context.set_default_timeout(10_000)
    context.add_init_script(RECORD)
    yield context
    context.close()


@pytest.mark.parametrize("path", PAGES)
def test_the_page_loads_clean_and_refuses_injected_script(context, live_url, path):  # type: ignore[no-untyped-def]
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    response = page.goto(live_url + path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.wait_for_selector(READY[path], state="attached")
    assert page.evaluate("window.__cspViolations") == [] and errors == []

    page.evaluate("""() => {
        const s = document.createElement('script');
        s.textContent = 'window.__injected = true';
        document.body.append(s);
    }""")
    page.wait_for_function("window.__cspViolations.length > 0")
    assert page.evaluate("window.__injected") is None
    assert page.evaluate("window.__cspViolations")[0].startswith("script-src")


@pytest.mark.parametrize("path", PAGES)
def test_no_page_can_be_framed(context, live_url, path):  # type: ignore[no-untyped-def]
    page = context.new_page()
    with page.expect_event("console", predicate=lambda msg: "frame-ancestors 'none'" in msg.text):
        page.set_content(f'<iframe src="{live_url}{path}"></iframe>')
    (child,) = page.main_frame.child_frames
    assert child.url == "chrome-error://chromewebdata/"  # Chromium's stand-in for a refused frame
