"""The admin API behind the console's details (issue 23 item 8): the brand's name for previews, one
draft per composition (PUT rewrites it), the member ledger's store and purchase amount."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from models.campaign import Campaign

TEXT = {"name": "週末拿鐵", "kind": "text", "content": {"text": "第二杯半價"}}


def test_lookups_name_the_brand_as_members_see_it(client, counter):
    body = client.get("/api/v1/admin/lookups", headers=counter.admin).get_json()
    assert body["brand"] == {"name": "好日子咖啡"}


def test_reviewing_again_rewrites_the_one_draft(client, counter, db):
    made = client.post("/api/v1/admin/campaigns", json=TEXT, headers=counter.admin)
    assert made.status_code == 201
    cid = made.get_json()["id"]
    again = client.put(f"/api/v1/admin/campaigns/{cid}", json={**TEXT, "name": "週末拿鐵 第二版", "holdout_pct": 10,
                                                               "scheduled_at": "2030-01-02T10:00:00+08:00"}, headers=counter.admin)
    assert again.status_code == 200, again.get_json()
    body = again.get_json()
    assert (body["id"], body["name"], body["holdout_pct"], body["status"]) == (cid, "週末拿鐵 第二版", 10, "draft")
    assert datetime.fromisoformat(body["scheduled_at"]) == datetime.fromisoformat("2030-01-02T10:00:00+08:00") and "audience" in body["estimate"]
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Campaign)) == 1


def test_only_a_draft_is_rewritten_with_the_one_error_shape(client, counter):
    cid = client.post("/api/v1/admin/campaigns", json=TEXT, headers=counter.admin).get_json()["id"]
    bad = client.put(f"/api/v1/admin/campaigns/{cid}", json={**TEXT, "holdout_pct": 80}, headers=counter.admin)
    assert bad.status_code == 422 and bad.get_json()["code"] == "invalid_campaign" and bad.get_json()["details"] == {"field": "holdout_pct"}
    assert client.post(f"/api/v1/admin/campaigns/{cid}/cancel", headers=counter.admin).status_code == 200
    late = client.put(f"/api/v1/admin/campaigns/{cid}", json=TEXT, headers=counter.admin)
    assert late.status_code == 409 and late.get_json()["code"] == "campaign_not_draft" and late.get_json()["message"]
    missing = client.put("/api/v1/admin/campaigns/999999", json=TEXT, headers=counter.admin)
    assert missing.status_code == 404 and missing.get_json()["code"] == "campaign_not_found"
    assert client.put(f"/api/v1/admin/campaigns/{cid}", data="x", headers={**counter.admin, "Content-Type": "application/json"}).status_code == 422


def test_member_ledger_names_the_store_and_the_purchase(client, counter, make_member):
    _, number = make_member("王太太")
    assert counter.award(number, "R-1", amount="180.50", visit=True).status_code == 201
    ledger = client.get(f"/api/v1/admin/members/{number}", headers=counter.admin).get_json()["ledger"]
    assert {(e["currency"], e["store_name"], e["purchase_amount"]) for e in ledger} == {("stamp", "台北信義店", "180.5"), ("point", "台北信義店", "180.5")}


def test_the_new_operations_are_documented(client):
    doc = client.get("/openapi.json").get_json()
    put = doc["paths"]["/api/v1/admin/campaigns/{campaign_id}"]["put"]
    assert {"404", "409", "422"} <= set(put["responses"]) and "campaign_not_draft" in put["responses"]["409"]["description"]
    assert "brand" in doc["components"]["schemas"]["Lookups"]["properties"]
