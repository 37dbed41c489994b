"""The affinity admin API and job: a member's purchases, "also bought" per SKU and category, the
rebuild (route, `flask loyalty affinity`, the daily job)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models.affinity import ProductAffinity
from models.member import Member
from tests.test_affinity import brand  # noqa: F401  (the hand-computed data set)
from tests.conftest import ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _number(db, member_id: int) -> str:  # type: ignore[no-untyped-def]
    with db.sessions() as s:
        return s.scalar(select(Member.member_no).where(Member.id == member_id))


def test_also_bought_after_a_rebuild(client, db, brand):  # noqa: F811
    empty = client.get("/api/v1/admin/products/A/also-bought", headers=ADMIN).get_json()
    assert empty["items"] == [] and empty["computed_at"] is None and empty["category"] == "咖啡"
    done = client.post("/api/v1/admin/affinity/rebuild", headers=ADMIN)
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["kept"] == {"sku": 6, "category": 2} and done.get_json()["window_days"] == 365
    body = client.get("/api/v1/admin/products/A/also-bought", headers=ADMIN).get_json()
    assert [(i["sku"], i["name"], i["category"], i["rank"], i["members_both"]) for i in body["items"]] == [
        ("B", "美式", "咖啡", 1, 3), ("C", "可頌", "烘焙", 2, 2)]
    assert body["items"][0]["confidence"] == pytest.approx(3 / 5) and body["items"][0]["lift"] == pytest.approx(24 / 25)
    assert body["items"][0]["support"] == pytest.approx(3 / 8)
    assert [(c["category"], c["members_both"], c["members_x"]) for c in body["categories"]] == [("烘焙", 3, 7)]
    assert body["computed_at"] and body["window_days"] == 365
    one = client.get("/api/v1/admin/products/A/also-bought?limit=1", headers=ADMIN).get_json()
    assert [i["sku"] for i in one["items"]] == ["B"]
    unknown = client.get("/api/v1/admin/products/D/also-bought", headers=ADMIN).get_json()
    assert unknown["items"] == [] and unknown["category"] is None
    bad = client.get("/api/v1/admin/products/A/also-bought?limit=0", headers=ADMIN)
    assert bad.status_code == 422 and bad.get_json()["code"] == "invalid_query"


def test_a_members_affinity(client, db, brand):  # noqa: F811
    number = _number(db, brand[8])
    body = client.get(f"/api/v1/admin/members/{number}/affinity", headers=ADMIN).get_json()
    # M8: C (60.00, 5 days ago); its voided receipt of A and D is not there
    assert body["member_no"] == number and body["window_days"] is None
    assert [(p["sku"], p["receipts"], p["qty"], p["spend"], p["days_since_last"]) for p in body["products"]] == [("C", 1, 1, "60.00", 5)]
    assert [c["category"] for c in body["categories"]] == ["烘焙"]
    five = client.get(f"/api/v1/admin/members/{_number(db, brand[5])}/affinity?days=30", headers=ADMIN).get_json()
    assert five["window_days"] == 30 and [(p["sku"], p["receipts"]) for p in five["products"]] == [("A", 2)]
    assert client.get("/api/v1/admin/members/M9999999/affinity", headers=ADMIN).status_code == 404
    bad = client.get(f"/api/v1/admin/members/{number}/affinity?days=x", headers=ADMIN)
    assert bad.status_code == 422 and bad.get_json()["details"]["field"] == "days"


def test_the_cli_and_the_daily_job_rebuild_it(app, db, brand):  # noqa: F811
    runner = app.test_cli_runner()
    result = runner.invoke(args=["loyalty", "affinity", "--top", "1"])
    assert result.exit_code == 0, result.output
    assert "3 product pairs, 2 category pairs" in result.output
    from bot.jobs.daily import run_daily

    report = run_daily(app.extensions["loyalty"])
    assert report["affinity"] == {"sku": 6, "category": 2}
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ProductAffinity)) == 8
