"""The cashier page (/cashier) in a real browser, against the real app on a live loopback port.

Chromium gets a fake camera whose video is a Y4M clip of the member card QR image the bot serves,
so scanning is a real decode from camera frames (jsQR here: headless Linux Chromium has no
BarcodeDetector). Balances are checked through the API afterwards, as another till would see them."""
from __future__ import annotations

import json
import os
import re
from io import BytesIO
from pathlib import Path

import pytest

from tests.e2e.cashier_helpers import card_token, member_state, qr_png, write_y4m
from tests.e2e.conftest import on_app_clock

pytestmark = pytest.mark.timeout(180)

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
CAMERA_ARGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
STORE = "台北信義店"
EXPIRED = "QR 已過期，請會員更新會員卡 QR 碼"
OFFLINE = "網路連線中斷，請稍後按重試"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def expect():  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect as _expect

    return _expect


@pytest.fixture
def camera(tmp_path: Path) -> Path:
    """The fake camera's clip; a blank white picture until a test shows it a QR code."""
    return write_y4m(tmp_path / "camera.y4m")


@pytest.fixture
def _chromium_present() -> None:
    if not Path(CHROMIUM).exists():
        reason = f"chromium not found at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)"
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"{reason} (REQUIRE_SERVICES=1: CI must not skip browser tests)")
        pytest.skip(reason)


@pytest.fixture
def page(_chromium_present, browser, camera, live_url, clock):  # type: ignore[no-untyped-def]
    """A phone-sized page in a Chromium whose camera films ``camera``; JS errors fail the test.

    The fake-camera flags are per process, so this launches its own Chromium through the
    Playwright that tests/e2e/conftest.py's ``browser`` started (one Playwright per thread)."""
    chromium = browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True,
        args=[*CHROMIUM_ARGS, *CAMERA_ARGS, f"--use-file-for-fake-video-capture={camera}"],
    )
    context = on_app_clock(chromium.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, locale="zh-TW", timezone_id="Asia/Taipei",
    ), clock)
    context.grant_permissions(["camera"], origin=live_url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))

    def on_console(msg) -> None:  # type: ignore[no-untyped-def]
        # 4xx answers and aborted requests are expected here; Chromium logs each as a console error
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            errors.append(f"console.error: {msg.text}")

    page.on("console", on_console)
    yield page
    found = list(errors)
    context.close()
    chromium.close()
    assert not found, "browser errors:\n" + "\n".join(found)


@pytest.fixture
def shot():  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:  # type: ignore[no-untyped-def]
        """What the cashier sees (the viewport: the sticky header and footer stay in place)."""
        path = SCREENSHOTS / f"cashier-{name}.png"
        page.screenshot(path=str(path))
        return path

    return take


def sign_in(page, url: str, shot=None) -> None:  # type: ignore[no-untyped-def]
    check = expect()
    page.goto(url)
    check(page.get_by_role("heading", name="收銀台登入")).to_be_visible()
    page.get_by_label("帳號").fill("cashier-tpe01")
    page.get_by_label("密碼").fill("correct horse")
    if shot:
        shot(page, "01-sign-in")
    page.get_by_role("button", name="登入").click()
    check(page.locator("#storeName")).to_have_text(STORE)
    check(page.locator("#staffName")).to_contain_text("cashier-tpe01")
    check(page.get_by_role("button", name="掃描會員 QR")).to_be_visible()


def look_up(page, member_no: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("會員編號").fill(member_no)
    page.get_by_role("button", name="查詢").click()
    expect()(page.locator("#memberNumber")).to_have_text(member_no)


def test_scan_card_qr_from_camera_and_award(page, live_url, client, counter, line, make_member, camera, shot):  # type: ignore[no-untyped-def]
    check = expect()
    counter.rule(amount_per_point="10", stamps_per_visit=1, card_size=10)
    user, number = make_member("陳小姐")
    sign_in(page, f"{live_url}/cashier", shot)
    shot(page, "02-identify")

    # The camera films a blank counter first: the viewfinder runs and nothing is found.
    page.get_by_role("button", name="掃描會員 QR").click()
    check(page.locator("#scanner")).to_be_visible()
    page.wait_for_function("() => document.getElementById('video').videoWidth > 0")
    page.get_by_role("button", name="取消掃描").click()
    check(page.locator("#scanner")).to_be_hidden()
    assert page.evaluate("document.getElementById('video').srcObject") is None  # the camera is released

    # Now the member holds up the card the bot sent in chat (Chromium reopens the clip per capture).
    write_y4m(camera, qr_png(client, card_token(line, user)))
    decoder = "BarcodeDetector" if page.evaluate("'BarcodeDetector' in window") else "jsQR"
    if decoder == "jsQR":  # hold the decoder back for a moment, for a picture of the viewfinder
        page.evaluate("() => { window.realJsQR = window.jsQR; window.jsQR = () => null; }")
        page.get_by_role("button", name="掃描會員 QR").click()
        page.wait_for_function("() => document.getElementById('video').videoWidth > 0")
        shot(page, "03-scanning")
        page.evaluate("() => { window.jsQR = window.realJsQR; }")
    else:
        page.get_by_role("button", name="掃描會員 QR").click()
    check(page.locator("#memberName")).to_have_text("陳小姐")
    check(page.locator("#memberNumber")).to_have_text(number)
    check(page.locator("#scanner")).to_be_hidden()  # the camera is off again
    check(page.locator("#scanner")).to_have_attribute("data-decoder", decoder)
    check(page.locator("#memberTier")).to_have_text("一般會員")
    check(page.locator("#stampCount")).to_have_text("0 / 10")
    check(page.locator("#pointCount")).to_have_text("0 點")
    check(page.locator("#stampDots .dot")).to_have_count(10)
    shot(page, "04-member")

    page.get_by_label("消費金額").fill("250")
    page.locator("label.toggle").click()
    check(page.get_by_label("來店")).to_be_checked()
    page.get_by_role("button", name="確認集點").dblclick()  # a double tap must not award twice
    result = page.locator("#result")
    check(result).to_contain_text("+1 章")
    check(result).to_contain_text("+25 點")
    check(page.locator("#stampCount")).to_have_text("1 / 10")
    check(page.locator("#pointCount")).to_have_text("25 點")
    check(page.locator("#stampDots .dot.on")).to_have_count(1)
    check(page.get_by_label("消費金額")).to_have_value("")  # ready for the next transaction
    shot(page, "05-awarded")

    state = member_state(client, counter, number)
    assert state["balances"] == {"stamps": 1, "points": 25}
    receipts = {e["receipt_id"] for e in state["entries"]}
    assert len(receipts) == 1 and UUID.match(receipts.pop()), state["entries"]

    page.get_by_role("button", name="下一位").click()
    check(page.get_by_role("button", name="掃描會員 QR")).to_be_visible()
    check(page.locator("#memberView")).to_be_hidden()


def test_member_number_by_hand_and_sign_in_states(page, live_url, counter, make_member, shot):  # type: ignore[no-untyped-def]
    check = expect()
    _, number = make_member("林先生")
    page.goto(f"{live_url}/static/cashier.html")  # the static URL serves the same page
    page.get_by_label("帳號").fill("cashier-tpe01")
    page.get_by_label("密碼").fill("wrong password")
    page.get_by_role("button", name="登入").click()
    check(page.get_by_role("alert")).to_have_text(re.compile("帳號或密碼錯誤"))
    sign_in(page, f"{live_url}/cashier")
    check(page.get_by_label("會員編號")).to_have_attribute("inputmode", "numeric")

    typo = number[:-1] + str((int(number[-1]) + 1) % 10)
    page.get_by_label("會員編號").fill(typo)
    page.get_by_role("button", name="查詢").click()
    check(page.get_by_role("alert")).to_contain_text("查無此會員")
    shot(page, "06-unknown-member")
    look_up(page, number)
    check(page.locator("#memberName")).to_have_text("林先生")
    check(page.get_by_role("alert")).to_be_hidden()

    page.reload()  # the sign-in lives in sessionStorage: still signed in after a reload
    check(page.locator("#storeName")).to_have_text(STORE)
    page.evaluate("""() => {
        const s = JSON.parse(sessionStorage.getItem('cashier.session'));
        sessionStorage.setItem('cashier.session', JSON.stringify({...s, token: 'not-a-valid-sign-in'}));
    }""")
    page.reload()  # a sign-in the server no longer accepts: back to the sign-in screen, with a reason
    check(page.get_by_role("heading", name="收銀台登入")).to_be_visible(timeout=15_000)
    check(page.get_by_role("alert")).to_contain_text("請重新登入")
    sign_in(page, f"{live_url}/cashier")
    page.get_by_role("button", name="登出").click()
    check(page.get_by_role("heading", name="收銀台登入")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('cashier.session')") is None


def test_expired_card_qr_is_explained(page, live_url, client, counter, clock, line, make_member, camera, shot):  # type: ignore[no-untyped-def]
    check = expect()
    user, _ = make_member()
    write_y4m(camera, qr_png(client, card_token(line, user)))
    clock.advance(minutes=10)  # the member shows a screenshot of an old card
    sign_in(page, f"{live_url}/cashier")
    page.get_by_role("button", name="掃描會員 QR").click()
    check(page.get_by_role("alert")).to_have_text(re.compile(re.escape(EXPIRED)))
    check(page.locator("#memberView")).to_be_hidden()
    check(page.get_by_role("button", name="掃描會員 QR")).to_be_enabled()
    shot(page, "07-expired-qr")

    # Any other QR code (a shop's Wi-Fi, a URL) is not a member card.
    import qrcode

    other = qrcode.make("https://example.com/menu")
    buf = BytesIO()
    other.save(buf, format="PNG")
    write_y4m(camera, buf.getvalue())
    page.get_by_role("button", name="掃描會員 QR").click()
    check(page.get_by_role("alert")).to_contain_text("這不是有效的會員卡 QR 碼")


def test_lost_answer_is_retried_with_the_same_receipt(page, live_url, client, counter, make_member, shot):  # type: ignore[no-untyped-def]
    check = expect()
    counter.rule(amount_per_point="10", stamps_per_visit=1)
    _, number = make_member()
    sign_in(page, f"{live_url}/cashier")
    look_up(page, number)

    sent: list[dict] = []
    page.on("request", lambda r: sent.append(json.loads(r.post_data)) if r.url.endswith("/api/v1/awards") else None)
    answers_lost = []

    def lose_first_answer(route) -> None:  # type: ignore[no-untyped-def]
        if not answers_lost:  # the server records the award, the answer never reaches the till
            answers_lost.append(route.fetch().status)
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route("**/api/v1/awards", lose_first_answer)
    page.get_by_label("消費金額").fill("250")
    page.locator("label.toggle").click()
    page.get_by_role("button", name="確認集點").click()
    retry_box = page.locator("#retryBox")
    check(retry_box).to_contain_text(OFFLINE)
    check(page.get_by_label("消費金額")).to_be_disabled()  # the same transaction: no edits
    check(page.get_by_role("button", name="確認集點")).to_be_disabled()
    assert answers_lost == [201]

    page.context.set_offline(True)
    check(page.locator("#net")).to_have_text("離線")
    shot(page, "08-network-error")
    page.context.set_offline(False)
    check(page.locator("#net")).to_have_text("已連線")
    check(retry_box).to_contain_text("網路已恢復，請按重試")

    page.get_by_role("button", name="重試").click()
    check(page.locator("#result")).to_contain_text("未重複集點")
    check(page.locator("#pointCount")).to_have_text("25 點")
    check(retry_box).to_be_hidden()
    shot(page, "09-retried")

    assert len(sent) == 2 and sent[0] == sent[1] and UUID.match(sent[0]["receipt_id"]), sent
    state = member_state(client, counter, number)
    assert state["balances"] == {"stamps": 1, "points": 25}
    assert {e["receipt_id"] for e in state["entries"]} == {sent[0]["receipt_id"]}


def _confirm_spend(page) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """Clicks the dialog's 確認兌換; the 確認 and 取消 postbacks of the confirmation the answer names
    (the push to the member carries these; it goes out after the answer, tests/test_spend_confirmation.py)."""
    with page.expect_response(lambda r: r.request.method == "POST" and "/api/v1/" in r.url) as info:
        page.get_by_role("dialog").get_by_role("button", name="確認兌換").click()
    body = info.value.json()
    assert info.value.status == 409 and body["code"] == "confirmation_required", body
    c = body["details"]["confirmation"]["id"]
    return f"action=spend_confirm&c={c}", f"action=spend_cancel&c={c}"


def test_redeem_by_typed_number_waits_for_the_member_in_line(page, live_url, client, counter, line, fake_line, make_member, shot):  # type: ignore[no-untyped-def]
    check = expect()
    counter.rule(amount_per_point="10", amount_per_stamp="100", stamps_per_visit=0, card_size=5, reward_name="免費拿鐵")
    for name, cost in (("手工餅乾", 30), ("品牌馬克杯", 200)):
        resp = client.post("/api/v1/admin/rewards", json={"name": name, "points_cost": cost}, headers=counter.admin)
        assert resp.status_code == 201, resp.get_json()
    user, number = make_member("王小美")
    assert counter.award(number, "R-500", amount=500).status_code == 201  # 50 points, 5 stamps: a full card

    sign_in(page, f"{live_url}/cashier")
    look_up(page, number)  # typed by hand: earning is fine, spending asks the member
    check(page.locator("#pointCount")).to_have_text("50 點")
    catalogue = page.locator("#catalogue")
    check(catalogue.locator("li")).to_have_count(2)
    check(catalogue.locator("li").filter(has_text="品牌馬克杯")).to_contain_text("還差 150 點")
    grants = page.locator("#grantList")
    check(grants).to_contain_text("免費拿鐵")
    catalogue.scroll_into_view_if_needed()
    shot(page, "10-rewards")

    catalogue.locator("li").filter(has_text="手工餅乾").get_by_role("button", name="兌換").click()
    dialog = page.get_by_role("dialog")
    check(dialog).to_contain_text("以 30 點兌換「手工餅乾」")
    shot(page, "11-redeem-confirm")
    yes, _ = _confirm_spend(page)
    wait = page.locator("#confirmWait")
    check(wait).to_contain_text("請會員在 LINE 確認")
    check(wait).to_contain_text("以 30 點兌換「手工餅乾」")
    check(page.get_by_role("button", name="確認集點")).to_be_disabled()  # one transaction at a time
    check(page.locator("#pointCount")).to_have_text("50 點")  # nothing spent yet
    shot(page, "11b-confirm-in-line")
    line.tap(user, yes)  # the member taps 確認 in LINE; the page sees it on its next poll
    check(page.locator("#result")).to_contain_text("已兌換「手工餅乾」")
    check(page.locator("#pointCount")).to_have_text("20 點")
    check(wait).to_be_hidden()

    catalogue.locator("li").filter(has_text="手工餅乾").get_by_role("button", name="兌換").click()
    dialog.get_by_role("button", name="確認兌換").click()
    check(page.get_by_role("alert")).to_contain_text("點數不足：會員目前有 20 點，此兌換需要 30 點")  # nobody is asked
    shot(page, "12-insufficient")
    page.locator("#bannerClose").click()

    grants.get_by_role("button", name="兌換").click()
    check(dialog).to_contain_text("免費拿鐵")
    _, no = _confirm_spend(page)
    check(wait).to_contain_text("兌換「免費拿鐵」")
    line.tap(user, no)  # not the member at the counter
    check(page.get_by_role("alert")).to_contain_text("會員已取消")
    check(wait).to_be_hidden()
    check(page.locator("#grantsBox")).to_be_visible()

    grants.get_by_role("button", name="兌換").click()
    late_yes, _ = _confirm_spend(page)
    check(wait).to_be_visible()
    page.get_by_role("button", name="取消，改掃 QR").click()  # the cashier stops waiting
    check(page.get_by_role("alert")).to_contain_text("未扣除任何點數或獎勵")
    check(page.get_by_role("button", name="確認集點")).to_be_enabled()
    line.tap(user, late_yes)  # a 確認 after the counter gave up spends nothing
    assert "已經處理過了" in json.dumps(line.last(user), ensure_ascii=False)

    state = member_state(client, counter, number)
    assert state["balances"]["points"] == 20 and [g["name"] for g in state["rewards"]] == ["免費拿鐵"]
    redeemed = [e for e in state["entries"] if e["reason"] == "redeem"]
    assert [(e["amount"], e["identified_by"]) for e in redeemed] == [(-30, "confirmed")]

    page.set_viewport_size({"width": 1024, "height": 768})  # a tablet at the counter
    shot(page, "13-tablet")


def test_after_a_qr_scan_spending_needs_no_confirmation(page, live_url, client, counter, line, db, make_member, camera):  # type: ignore[no-untyped-def]
    check = expect()
    counter.rule(amount_per_point="10", amount_per_stamp="100", stamps_per_visit=0, card_size=5, reward_name="免費拿鐵")
    assert client.post("/api/v1/admin/rewards", json={"name": "手工餅乾", "points_cost": 30}, headers=counter.admin).status_code == 201
    user, number = make_member("林先生")
    assert counter.award(number, "R-500", amount=500).status_code == 201
    sign_in(page, f"{live_url}/cashier")
    write_y4m(camera, qr_png(client, card_token(line, user)))
    page.get_by_role("button", name="掃描會員 QR").click()
    check(page.locator("#memberNumber")).to_have_text(number)
    page.locator("#catalogue li").filter(has_text="手工餅乾").get_by_role("button", name="兌換").click()
    page.get_by_role("dialog").get_by_role("button", name="確認兌換").click()
    check(page.locator("#result")).to_contain_text("已兌換「手工餅乾」")
    page.locator("#grantList").get_by_role("button", name="兌換").click()
    page.get_by_role("dialog").get_by_role("button", name="確認兌換").click()
    check(page.locator("#result")).to_contain_text("已兌換「免費拿鐵」")
    page.get_by_label("消費金額").fill("120")
    page.get_by_role("button", name="確認集點").click()
    check(page.locator("#pointCount")).to_have_text("32 點")
    from sqlalchemy import func, select

    from models.confirmation import SpendConfirmation

    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(SpendConfirmation)) == 0  # nobody was asked to confirm
    entries = member_state(client, counter, number)["entries"]
    assert {e["identified_by"] for e in entries if e["reason"] in ("redeem",)} == {"qr"}
    assert entries[0]["reason"] == "award" and entries[0]["identified_by"] == "qr"


#: Records every Content-Security-Policy violation of a page (each is also a console error).
CSP_VIOLATIONS = """window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));"""


def test_a_whole_transaction_runs_under_the_page_policy(page, live_url, client, counter, line, make_member, camera):  # type: ignore[no-untyped-def]
    """Sign-in, the camera and jsQR, an award, the redemption dialog: not one violation of /cashier's policy."""
    check = expect()
    counter.rule(amount_per_point="10", stamps_per_visit=1, card_size=10)
    assert client.post("/api/v1/admin/rewards", json={"name": "手工餅乾", "points_cost": 10}, headers=counter.admin).status_code == 201
    user, number = make_member("林先生")
    page.add_init_script(CSP_VIOLATIONS)
    policy = page.goto(f"{live_url}/cashier").headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy

    sign_in(page, f"{live_url}/cashier")
    write_y4m(camera, qr_png(client, card_token(line, user)))
    page.get_by_role("button", name="掃描會員 QR").click()
    check(page.locator("#memberNumber")).to_have_text(number)
    page.get_by_label("消費金額").fill("120")
    page.get_by_role("button", name="確認集點").click()
    check(page.locator("#pointCount")).to_have_text("12 點")
    page.locator("#catalogue li").filter(has_text="手工餅乾").get_by_role("button", name="兌換").click()
    page.get_by_role("dialog").get_by_role("button", name="確認兌換").click()  # <form method="dialog">
    check(page.locator("#result")).to_contain_text("已兌換「手工餅乾」")
    assert page.evaluate("window.__cspViolations") == []
