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


def _shop(client, counter, make_member, clock):  # type: ignore[no-untyped-def]
    """Three members: 甲 spent most long ago, 乙 a little yesterday, 丙 never."""
    from datetime import timedelta

    start = clock.now
    numbers = {}
    for name in ("甲", "乙", "丙"):
        numbers[name] = make_member(name)[1]
    clock.now = start - timedelta(days=20)
    assert counter.award(numbers["甲"], "A-1", amount="900", visit=True).status_code == 201
    clock.now = start - timedelta(days=1)
    assert counter.award(numbers["乙"], "B-1", amount="100", visit=True).status_code == 201
    clock.now = start
    return numbers


def test_members_list_has_balances_tier_last_visit_and_sorts(client, counter, make_member, clock):
    numbers = _shop(client, counter, make_member, clock)
    get = lambda **q: client.get("/api/v1/admin/members", query_string=q, headers=counter.admin)  # noqa: E731
    rows = {r["name"]: r for r in get().get_json()["members"]}
    assert (rows["甲"]["points"], rows["甲"]["stamps"], rows["丙"]["points"], rows["丙"]["last_visit_at"]) == (90, 1, 0, None)
    assert rows["乙"]["last_visit_at"] is not None and "tier" in rows["乙"]
    names = lambda resp: [r["name"] for r in resp.get_json()["members"]]  # noqa: E731
    assert names(get(sort="-points")) == ["甲", "乙", "丙"]
    assert names(get(sort="points")) == ["丙", "乙", "甲"]
    assert names(get(sort="-last_visit_at")) == ["乙", "甲", "丙"]  # never visited: last either way
    assert names(get(sort="last_visit_at")) == ["甲", "乙", "丙"]
    assert names(get(sort="-points", per_page=1, page=2)) == ["乙"] and get(sort="-points", per_page=1).get_json()["total"] == 3
    assert client.post("/api/v1/admin/segments/recompute", headers=counter.admin).status_code == 200
    assert names(get(rule='{"field": "last_visit_within_days", "op": "lte", "value": 7}')) == ["乙"]
    bad = get(sort="price")
    assert bad.status_code == 422 and bad.get_json()["code"] == "invalid_sort" and "-points" in bad.get_json()["details"]["allowed"]
    assert numbers


def test_members_list_exports_as_filtered_and_sorted(client, counter, make_member, clock):
    _shop(client, counter, make_member, clock)
    resp = client.get("/api/v1/admin/members.csv", query_string={"sort": "-points"}, headers=counter.admin)
    assert resp.status_code == 200 and resp.mimetype == "text/csv" and "members.csv" in resp.headers["Content-Disposition"]
    lines = resp.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "member_no,name,phone,gender,tier,points,stamps,last_visit_at,joined_at,reachable"
    assert [line.split(",")[1] for line in lines[1:]] == ["甲", "乙", "丙"] and lines[1].split(",")[5:7] == ["90", "1"]
    assert client.get("/api/v1/admin/members.csv", query_string={"sort": "x"}, headers=counter.admin).get_json()["code"] == "invalid_sort"
    assert client.get("/api/v1/admin/members.csv").status_code == 401
