"""The cashier page's corrections in a real browser: a manager's large correction waits (「待主管核准」),
another manager of the store approves it on their own till, and only then do the points move.
Cashiers see neither the correction form nor the approvals."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.cashier_helpers import member_state
from tests.e2e.conftest import ACTION_TIMEOUT_MS, SCREENSHOTS, on_app_clock

pytestmark = pytest.mark.timeout(180)
STORE = "台北信義店"


def expect():  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect as _expect

    return _expect


def shot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"cashier-{name}.png"
    page.screenshot(path=str(path))
    return path


@pytest.fixture
def other_page(browser, clock):  # type: ignore[no-untyped-def]
    """A second till (its own browser context and sign-in); JavaScript errors fail the test."""
    context = on_app_clock(browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, locale="zh-TW",
                                               timezone_id="Asia/Taipei"), clock)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.on("console", lambda msg: errors.append(f"console.{msg.type}: {msg.text}") if msg.type == "error" else None)
    yield page
    found = list(errors)
    context.close()
    assert not found, "browser errors:\n" + "\n".join(found)


def sign_in(page, url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    check = expect()
    page.goto(f"{url}/cashier")
    page.get_by_label("帳號").fill(username)
    page.get_by_label("密碼").fill("correct horse")
    page.get_by_role("button", name="登入").click()
    check(page.locator("#storeName")).to_have_text(STORE)
    check(page.locator("#staffName")).to_contain_text(username)


def look_up(page, member_no: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("會員編號").fill(member_no)
    page.get_by_role("button", name="查詢").click()
    expect()(page.locator("#memberNumber")).to_have_text(member_no)


def correct(page, amount: str, reason: str, currency: str = "點數") -> None:  # type: ignore[no-untyped-def]
    box = page.locator("#correctBox")
    box.get_by_label("項目").select_option(label=currency)
    box.get_by_label("數量").fill(amount)
    box.get_by_label("原因").fill(reason)
    box.get_by_role("button", name="送出調整").click()
    dialog = page.get_by_role("dialog")
    expect()(dialog).to_contain_text(reason)
    dialog.get_by_role("button", name="確認調整").click()


def test_a_large_correction_waits_for_another_managers_approval(page, other_page, live_url, client, counter, make_member):  # type: ignore[no-untyped-def]
    check = expect()
    second = counter._staff("manager2-tpe01", "manager")  # noqa: F841  (the second manager's account)
    _, number = make_member("陳小姐")

    # The first manager corrects within the threshold: applied at once.
    sign_in(page, live_url, "manager-tpe01")
    check(page.locator("#approvalsBox")).to_contain_text("目前沒有待核准的調整")
    look_up(page, number)
    correct(page, "+10", "系統當機補點")
    check(page.locator("#result")).to_contain_text("調整完成")
    check(page.locator("#pointCount")).to_have_text("10 點")

    # A large one waits: nothing moves, the requester sees 「待主管核准」 and cannot decide it.
    correct(page, "5000", "年度活動補發")
    result = page.locator("#result")
    check(result).to_contain_text("待主管核准")
    check(result).to_contain_text("+5,000 點")
    check(page.locator("#pointCount")).to_have_text("10 點")
    shot(page, "20-correction-waiting")
    page.get_by_role("button", name="下一位").click()
    mine = page.locator("#approvalList li")
    check(mine).to_have_count(1)
    check(mine).to_contain_text("待主管核准")
    check(mine).to_contain_text("年度活動補發")
    check(mine.get_by_role("button", name="核准")).to_have_count(0)
    shot(page, "21-my-request")
    assert member_state(client, counter, number)["balances"]["points"] == 10

    # The other manager, on another till, approves it.
    sign_in(other_page, live_url, "manager2-tpe01")
    pending = other_page.locator("#approvalList li")
    check(pending).to_have_count(1)
    check(pending).to_contain_text("+5,000 點")
    check(pending).to_contain_text("manager-tpe01 申請")
    shot(other_page, "22-approvals")
    pending.get_by_role("button", name="核准").click()
    dialog = other_page.get_by_role("dialog")
    check(dialog).to_contain_text("年度活動補發")
    dialog.get_by_role("button", name="確認核准").click()
    check(other_page.get_by_role("alert")).to_contain_text(f"已核准：會員 {number} +5,000 點")
    check(other_page.locator("#approvalsEmpty")).to_be_visible()
    shot(other_page, "23-approved")

    state = member_state(client, counter, number)
    assert state["balances"]["points"] == 5010
    assert [(e["reason"], e["amount"], e["note"]) for e in state["entries"]] == [
        ("correction", 5000, "年度活動補發"), ("correction", 10, "系統當機補點")]
    page.get_by_role("button", name="重新整理").click()  # the requester's list is empty now too
    check(page.locator("#approvalsEmpty")).to_be_visible()
    look_up(page, number)
    check(page.locator("#pointCount")).to_have_text("5010 點")


def test_a_rejected_request_and_a_cashier_sees_no_corrections(page, other_page, live_url, client, counter, make_member):  # type: ignore[no-untyped-def]
    check = expect()
    counter._staff("manager2-tpe01", "manager")
    _, number = make_member("林先生")
    asked = client.post("/api/v1/corrections", json={"member_no": number, "currency": "stamp", "amount": 30, "reason": "補蓋章"},
                        headers=counter.manager)
    assert asked.status_code == 202

    sign_in(other_page, live_url, "manager2-tpe01")
    item = other_page.locator("#approvalList li")
    check(item).to_contain_text("+30 章")
    item.get_by_role("button", name="退回").click()
    other_page.get_by_role("dialog").get_by_role("button", name="確認退回").click()
    check(other_page.get_by_role("alert")).to_contain_text("已退回")
    check(other_page.locator("#approvalsEmpty")).to_be_visible()
    assert member_state(client, counter, number)["balances"]["stamps"] == 0

    sign_in(page, live_url, "cashier-tpe01")
    check(page.locator("#approvalsBox")).to_be_hidden()
    look_up(page, number)
    check(page.locator("#correctBox")).to_be_hidden()
