"""Issue 22: each class of malformed input the fuzz found, answered in the one error shape and
naming the field (tests/test_fuzz_api.py looks for more of them over every operation)."""
from __future__ import annotations

import pytest

LOGINS = [("/api/v1/auth/login", {"username": "cashier-tpe01", "password": "correct horse"}),
          ("/api/v1/admin/auth/login", {"email": "owner@brand.tw", "password": "correct horse battery"})]


def refused(resp, status: int, code: str, **details):  # type: ignore[no-untyped-def]
    body = resp.get_json()
    assert resp.status_code == status, body
    assert set(body) == {"code", "message", "details"} and body["code"] == code and body["message"], body
    for key, value in details.items():
        assert body["details"].get(key) == value, body
    return body


def post_raw(client, path: str, raw: str, headers: dict | None = None):  # type: ignore[no-untyped-def]
    return client.post(path, data=raw, headers={**(headers or {}), "Content-Type": "application/json"})


@pytest.mark.parametrize(("path", "body"), LOGINS)
@pytest.mark.parametrize("bad", ["\\ud800", "a\\udfffb", "\\u0000", "x\\u0000"])
def test_sign_in_with_a_lone_surrogate_or_nul_is_refused_naming_the_field(client, counter, path, body, bad):
    field = "password"
    raw = "{" + ", ".join(f'"{k}": "{bad if k == field else v}"' for k, v in body.items()) + "}"
    refused(post_raw(client, path, raw), 422, "invalid_json", field=field, path=f"/{field}")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999999"])
def test_nan_and_infinity_in_an_admin_write_are_refused_before_the_audit_log(client, counter, literal):
    resp = post_raw(client, "/api/v1/admin/rewards", '{"name": "餅乾", "points_cost": %s}' % literal, counter.admin)
    refused(resp, 422, "invalid_json", field="points_cost")
    audit = client.get("/api/v1/admin/audit", headers=counter.admin).get_json()["entries"]
    assert not [e for e in audit if e["action"] == "POST /api/v1/admin/rewards"]


def test_a_string_amount_of_1e999999_is_an_invalid_amount(client, counter, make_member):
    _, number = make_member()
    resp = client.post("/api/v1/awards", json={"member_no": number, "receipt_id": "R1", "amount": "1e999999"}, headers=counter.cashier)
    refused(resp, 422, "invalid_amount", field="amount")


def test_nesting_past_the_limit_is_refused_with_its_path(client, counter):
    deep = '{"name": "x", "rule": ' + '{"not": ' * 70 + "{}" + "}" * 70 + "}"
    refused(post_raw(client, "/api/v1/admin/segments", deep, counter.admin), 422, "invalid_json", field="rule")


@pytest.mark.parametrize("path", ["/api/v1/admin/campaigns/99999999999999999999", f"/api/v1/admin/campaigns/{2**63}",
                                  "/api/v1/admin/campaigns/-1"])
def test_path_ids_past_64_bits_name_nothing(client, counter, path):
    refused(client.get(path, headers=counter.admin), 404, "not_found")


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2999-12-32"])
@pytest.mark.parametrize("route", ["/api/v1/admin/dashboard", "/api/v1/admin/referrals"])
@pytest.mark.parametrize("name", ["from", "to"])
def test_report_dates_are_bounded(client, counter, day, route, name):
    refused(client.get(route, query_string={name: day}, headers=counter.admin), 422, "invalid_period", field=name)


def test_a_campaign_name_longer_than_its_column_is_refused(client, counter):
    resp = client.post("/api/v1/admin/campaigns", json={"name": "x" * 121, "kind": "text", "content": {"text": "hi"}}, headers=counter.admin)
    refused(resp, 422, "invalid_campaign", field="name")
    ok = client.post("/api/v1/admin/campaigns", json={"name": "x" * 120, "kind": "text", "content": {"text": "hi"}}, headers=counter.admin)
    assert ok.status_code == 201, ok.get_json()


@pytest.mark.parametrize("value", [True, 2**62, "1"])
def test_a_campaign_segment_id_that_is_no_id_is_refused(client, counter, value):
    resp = client.post("/api/v1/admin/campaigns", json={"name": "c", "kind": "text", "content": {"text": "hi"}, "segment_id": value},
                       headers=counter.admin)
    refused(resp, 422, "invalid_campaign", field="segment_id")


def test_a_rule_with_a_field_that_is_no_name_is_refused(client, counter):
    resp = client.post("/api/v1/admin/segments/preview", json={"rule": {"field": {"a": 1}, "op": ["eq"], "value": 1}}, headers=counter.admin)
    refused(resp, 422, "invalid_rule", path="/field")


def test_scopes_nested_in_lists_are_refused(client, counter):
    resp = client.post("/api/v1/admin/tokens", json={"name": "t", "scopes": [[[[]]]]}, headers=counter.admin)
    refused(resp, 422, "invalid_token", field="scopes")


def test_an_unknown_field_is_refused_with_its_name(client, counter, make_member):
    _, number = make_member()
    # "items" is a field now (receipt line items); "lines" is what a POS might send instead
    resp = client.post("/api/v1/awards", json={"member_no": number, "receipt_id": "R1", "amount": 100, "lines": [{"sku": "latte"}]},
                       headers=counter.cashier)
    body = refused(resp, 422, "unknown_field", field="lines", fields=["lines"])
    assert "amount" in body["details"]["allowed"] and "items" in body["details"]["allowed"] and "lines" in body["message"]
    ledger = client.get(f"/api/v1/members/{number}/ledger", headers=counter.cashier).get_json()
    assert ledger["entries"] == []  # nothing was awarded


def test_every_unknown_field_is_named_at_once(client, counter):
    resp = client.put("/api/v1/admin/earning-rule", json={"stamps_per_visit": 1, "b_typo": 1, "a_typo": 2}, headers=counter.admin)
    refused(resp, 422, "unknown_field", field="a_typo", fields=["a_typo", "b_typo"])


@pytest.mark.parametrize("query", [{"q": "\x00"}, {"q": "a\x00b"}, {"page": "1\x00"}])
def test_nul_in_a_query_string_is_refused_naming_the_parameter(client, counter, query):
    refused(client.get("/api/v1/admin/members", query_string=query, headers=counter.admin), 422, "invalid_query", field=next(iter(query)))


def test_nul_in_a_path_names_nothing(client, counter):
    refused(client.get("/api/v1/admin/members/12%0034", headers=counter.admin), 404, "not_found")


@pytest.mark.parametrize("rule", ['{"field": "total_spend", "op": "gte", "value": NaN}', '{"field": "visits", "op": "gte", "value": 1e999999}',
                                  '{"not": ' * 70 + "{}" + "}" * 70])
def test_a_rule_in_the_query_string_is_read_as_strictly_as_a_body(client, counter, rule):
    refused(client.get("/api/v1/admin/members", query_string={"rule": rule}, headers=counter.admin), 422, "invalid_rule")


def test_the_document_says_how_bodies_are_read(client):
    doc = client.get("/openapi.json").get_json()
    assert "unknown_field" in doc["info"]["description"] and "invalid_json" in doc["info"]["description"]
    assert "unknown_field" in doc["components"]["responses"]["422"]["description"]
