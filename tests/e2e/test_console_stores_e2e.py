"""An owner fills in what 門市據點 shows in chat (設定 › 門市與人員 › 門市資訊): a latitude without a
longitude is refused in the form, with the field marked; both save, and the chat's card shows them.
Screenshot: artifacts/screenshots/admin-40-store-details.png."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from models.store import Store
from tests.e2e.admin_helpers import expect, make_account, shoot, sign_in
from tests.e2e.admin_helpers import console  # noqa: F401  (fixture)

pytestmark = pytest.mark.timeout(120)


def test_an_owner_sets_a_stores_address_hours_phone_and_location(console, live_url, app, db, counter):  # noqa: F811
    check = expect()
    make_account(app, "owner")
    sign_in(console, live_url, "/admin/settings/stores")
    store = console.get_by_role("region", name="台北信義店")
    store.get_by_text("門市資訊（聊天室「門市據點」顯示）").click()
    store.locator("[name=address]").fill("台北市信義區松高路 1 號")
    store.locator("[name=hours]").fill("每日 07:30–20:00")
    store.locator("[name=phone]").fill("02-2720-1234")
    store.locator("[name=latitude]").fill("25.0392")
    store.get_by_role("button", name="儲存").click()
    check(store.get_by_role("alert")).to_have_text(re.compile("經度需為 -180 到 180 的數字"))
    check(store.locator("[name=longitude]")).to_have_attribute("aria-invalid", "true")
    store.locator("[name=longitude]").fill("121.5677")
    shoot(console, "40-store-details")
    store.get_by_role("button", name="儲存").click()
    check(console.get_by_role("status")).to_have_text("已儲存")
    with db.sessions() as s:
        saved = s.scalars(select(Store).where(Store.code == counter.code)).one()
        assert (saved.address, saved.hours, saved.phone) == ("台北市信義區松高路 1 號", "每日 07:30–20:00", "02-2720-1234")
        assert (saved.latitude, saved.longitude) == (Decimal("25.039200"), Decimal("121.567700"))
