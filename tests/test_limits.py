"""Bounds on what one request can ask for: segment rules small enough to compile and run, ad-hoc
segment queries under a statement timeout, and every amount and setting the admin and cashier
APIs take kept within documented maxima (422 naming the field), with 64-bit ledger columns."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from models.limits import MAX_CORRECTION, MAX_STAMPS_PER_AWARD
from models.segment_rules import MAX_CHILDREN, MAX_CONDITIONS, MAX_DEPTH, MAX_IN_VALUES, MAX_VALUES, adhoc_query

GENDER = {"field": "gender", "op": "eq", "value": "female"}


def preview(client, counter, rule):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/admin/segments/preview", json={"rule": rule}, headers=counter.admin)


def refused(resp, code: str, **details):  # type: ignore[no-untyped-def]
    body = resp.get_json()
    assert resp.status_code == 422, body
    assert set(body) == {"code", "message", "details"} and body["code"] == code, body
    for key, value in details.items():
        assert body["details"].get(key) == value, body
    return body


# --- segment rules: size limits ---------------------------------------------------------------

def test_an_or_of_20000_conditions_is_refused_at_once(client, counter):
    rule = {"or": [{"field": "visits", "op": "gte", "value": i % 1000} for i in range(20_000)]}
    resp = preview(client, counter, rule)
    body = refused(resp, "rule_too_large", limit="max_children", max=MAX_CHILDREN, path="/or")
    assert str(MAX_CHILDREN) in body["message"]


def test_an_in_list_of_70000_values_is_refused_at_once(client, counter):
    rule = {"field": "store", "op": "in", "value": [f"S{i}" for i in range(70_000)]}
    resp = preview(client, counter, rule)
    refused(resp, "rule_too_large", limit="max_in_values", max=MAX_IN_VALUES, path="/value")


@pytest.mark.parametrize(("rule", "limit", "path"), [
    ({"and": [{"and": [GENDER] * 40}, {"and": [GENDER] * 40}, {"and": [GENDER] * 40}]}, "max_conditions", "/and/2/and/20"),
    ({"and": [{"field": "birthday_month", "op": "in", "value": [1] * 400}] * 3}, "max_values", "/and/2/value"),
    ({"not": {"not": {"not": {"not": {"not": {"not": {"not": {"not": {"not": GENDER}}}}}}}}}, "max_depth", "/not/not/not/not/not/not/not/not/not"),
], ids=["conditions", "values", "depth"])
def test_every_size_limit_names_itself(client, counter, rule, limit, path):  # type: ignore[no-untyped-def]
    maximum = {"max_conditions": MAX_CONDITIONS, "max_values": MAX_VALUES, "max_depth": MAX_DEPTH}[limit]
    refused(preview(client, counter, rule), "rule_too_large", limit=limit, max=maximum, path=path)


def test_rules_at_the_limits_are_accepted(client, counter):
    assert preview(client, counter, {"or": [GENDER] * MAX_CHILDREN}).status_code == 200
    assert preview(client, counter, {"field": "birthday_month", "op": "in", "value": [m % 12 + 1 for m in range(MAX_IN_VALUES)]}).status_code == 200
    deep = GENDER
    for _ in range(MAX_DEPTH):
        deep = {"not": deep}
    assert preview(client, counter, deep).status_code == 200


WIDE = {"or": [GENDER] * (MAX_CHILDREN + 1)}


def test_every_place_that_takes_a_rule_refuses_a_rule_too_large(client, counter):
    import json

    admin = counter.admin
    assert client.post("/api/v1/admin/segments", json={"name": "wide", "rule": WIDE}, headers=admin).get_json()["code"] == "rule_too_large"
    assert client.post("/api/v1/admin/tags", json={"name": "wide", "rule": WIDE}, headers=admin).get_json()["code"] == "rule_too_large"
    campaign = {"name": "wide", "kind": "text", "content": {"text": "hi"}, "rule": WIDE}
    assert client.post("/api/v1/admin/campaigns", json=campaign, headers=admin).get_json()["code"] == "rule_too_large"
    assert client.put("/api/v1/admin/journeys/welcome", json={"condition": WIDE}, headers=admin).get_json()["code"] == "rule_too_large"
    listed = client.get("/api/v1/admin/members", query_string={"rule": json.dumps(WIDE)}, headers=admin)
    refused(listed, "rule_too_large", limit="max_children")


def test_values_the_database_cannot_take_are_refused(client, counter):
    refused(preview(client, counter, {"field": "joined_on", "op": "lte", "value": "9999-12-31"}), "invalid_rule", path="/value")
    refused(preview(client, counter, {"field": "total_spend", "op": "gte", "value": "1e999999"}), "invalid_rule", path="/value")
    refused(preview(client, counter, {"field": "tag", "op": "has", "value": "x" * 121}), "invalid_rule", path="/value")


def test_json_nested_past_the_parser_is_invalid_json_not_a_crash(client, counter):
    deep = '{"rule": ' + "[" * 100_000 + "]" * 100_000 + "}"
    resp = client.post("/api/v1/admin/segments/preview", data=deep, headers={**counter.admin, "Content-Type": "application/json"})
    refused(resp, "invalid_json")
    listed = client.get("/api/v1/admin/members", query_string={"rule": "[" * 100_000}, headers=counter.admin)
    refused(listed, "invalid_rule")


def test_the_document_states_the_rule_limits(client):
    doc = client.get("/openapi.json").get_json()["components"]["schemas"]
    assert doc["RuleOr"]["properties"]["or"]["maxItems"] == MAX_CHILDREN
    assert doc["RuleAnd"]["properties"]["and"]["maxItems"] == MAX_CHILDREN
    description = doc["SegmentRule"]["description"]
    assert "rule_too_large" in description and "query_too_slow" in description
    for number in (MAX_DEPTH, MAX_CHILDREN, MAX_CONDITIONS, MAX_IN_VALUES, f"{MAX_VALUES}"):
        assert str(number) in description


# --- ad-hoc segment queries: no JIT, a statement timeout, a clear answer ----------------------

def test_adhoc_queries_run_without_jit_under_a_timeout_for_their_transaction(db, pg_only):
    with db.sessions() as session:
        with adhoc_query(session, timeout_ms=1234):
            assert session.scalar(text("SHOW jit")) == "off"
            assert session.scalar(text("SHOW statement_timeout")) == "1234ms"
        session.rollback()
        assert session.scalar(text("SHOW statement_timeout")) != "1234ms"


@pytest.fixture
def short_timeout(app):  # type: ignore[no-untyped-def]
    svc = app.extensions["loyalty"]
    svc.settings = svc.settings.with_overrides(segment_query_timeout_ms=300)
    return svc.settings.segment_query_timeout_ms


@pytest.fixture
def stats_locked(db, pg_only):  # type: ignore[no-untyped-def]
    """Another transaction holds member_stats exclusively (a recompute's ANALYZE, a migration…): a
    segment query waits for it, and the wait counts towards its statement timeout. Deterministic:
    the query cannot finish, however fast the machine is."""
    def lock():  # type: ignore[no-untyped-def]
        conn = db.engine.connect()
        conn.execute(text("LOCK TABLE member_stats IN ACCESS EXCLUSIVE MODE"))
        held.append(conn)

    held: list = []
    yield lock
    for conn in held:
        conn.rollback()
        conn.close()


def test_a_preview_past_the_statement_timeout_answers_query_too_slow(client, counter, make_member, short_timeout, stats_locked):
    make_member("小美")
    assert preview(client, counter, GENDER).status_code == 200
    stats_locked()
    resp = preview(client, counter, GENDER)
    body = resp.get_json()
    assert resp.status_code == 503, body
    assert body == {"code": "query_too_slow", "message": body["message"], "details": {"timeout_ms": short_timeout}}


def test_member_search_export_and_estimate_time_out_the_same_way(client, counter, short_timeout, stats_locked):
    import json

    admin = counter.admin
    segment = client.post("/api/v1/admin/segments", json={"name": "women", "rule": GENDER}, headers=admin).get_json()
    campaign = client.post("/api/v1/admin/campaigns", json={"name": "c", "kind": "text", "content": {"text": "hi"}, "rule": GENDER}, headers=admin)
    assert campaign.status_code == 201, campaign.get_json()
    stats_locked()
    for resp in (
        client.get("/api/v1/admin/members", query_string={"rule": json.dumps(GENDER)}, headers=admin),
        client.get(f"/api/v1/admin/segments/{segment['id']}/members.csv", headers=admin),
        client.get(f"/api/v1/admin/campaigns/{campaign.get_json()['id']}/estimate", headers=admin),
    ):
        assert resp.status_code == 503 and resp.get_json()["code"] == "query_too_slow", resp.get_data(as_text=True)[:200]


# --- corrections -----------------------------------------------------------------------------

def correction(client, counter, number, currency, amount):  # type: ignore[no-untyped-def]
    body = {"member_no": number, "currency": currency, "amount": amount, "reason": "test"}
    return client.post("/api/v1/corrections", json=body, headers=counter.manager)


@pytest.mark.parametrize("amount", [2**31, 10**15, -(2**31), MAX_CORRECTION["point"] + 1])
def test_a_correction_past_the_maximum_is_refused_cleanly(client, counter, make_member, amount):
    _, number = make_member()
    refused(correction(client, counter, number, "point", amount), "amount_too_large", field="amount", max=MAX_CORRECTION["point"])
    refused(correction(client, counter, number, "stamp", MAX_CORRECTION["stamp"] + 1), "amount_too_large", field="amount", max=MAX_CORRECTION["stamp"])


def test_a_correction_at_the_maximum_is_made_once_a_second_manager_approves(client, counter, make_member):
    _, number = make_member()
    second = counter._staff("manager2-tpe01", "manager")
    for amount in (MAX_CORRECTION["point"], -MAX_CORRECTION["point"]):
        asked = correction(client, counter, number, "point", amount)
        assert asked.status_code == 202 and asked.get_json()["code"] == "approval_required", asked.get_json()
        approved = client.post(f"/api/v1/correction-requests/{asked.get_json()['request']['id']}/approve", headers=second)
        assert approved.status_code == 200, approved.get_json()
        balance = client.post("/api/v1/scan", json={"member_no": number}, headers=counter.cashier).get_json()["balances"]["points"]
        assert balance == max(amount, 0)


def test_the_console_adjustment_has_the_same_bound(client, counter, make_member):
    _, number = make_member()
    resp = client.post(f"/api/v1/admin/members/{number}/adjustments", json={"currency": "points", "amount": 2**31, "reason": "x"}, headers=counter.admin)
    refused(resp, "amount_too_large", field="amount")


def test_balances_past_32_bits_are_kept(client, counter, make_member, db, clock):
    """The ledger is 64-bit: a balance past 2^31 - 1 (built from bounded entries over years, here
    written directly) is stored and summed, not a 500."""
    from models.ledger import add_entry
    from models.member import get_by_member_no

    _, number = make_member()
    with db.transaction() as session:
        member = get_by_member_no(session, number)
        add_entry(session, member_id=member.id, currency="point", amount=2**31 + 5, reason="correction", actor=None, now=clock())
    scan = client.post("/api/v1/scan", json={"member_no": number}, headers=counter.cashier)
    assert scan.status_code == 200 and scan.get_json()["balances"]["points"] == 2**31 + 5


def test_the_widened_columns_are_bigint_on_postgresql(db, pg_only):
    widened = {("ledger_entry", "amount"), ("award", "stamps"), ("award", "points"), ("award", "rewards"),
               ("redemption", "points"), ("member_stats", "visits"), ("coupon_template", "issued_count")}
    with db.engine.connect() as conn:
        types = {(t, c): kind for t, c, kind in conn.execute(text(
            "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public'"))}
    assert {key: types[key] for key in widened} == dict.fromkeys(widened, "bigint")


# --- the earning rule ------------------------------------------------------------------------

@pytest.mark.parametrize(("field", "value"), [
    ("stamps_per_visit", 20_000), ("stamps_per_visit", 51), ("stamps_per_visit", -1),
    ("amount_per_stamp", "0.001"), ("amount_per_stamp", "1000000.01"), ("amount_per_point", "1e20"), ("amount_per_point", -1),
    ("min_spend", "10000000.01"), ("min_spend", "1e999"),
    ("daily_cap_stamps", 1_001), ("daily_cap_points", 10**9), ("daily_cap_points", 2**31),
    ("card_size", 51), ("card_size", 0),
    ("stamp_expiry_days", 3_651), ("point_expiry_days", 10**9),
    ("reward_name", "x" * 121),
])
def test_earning_rule_values_out_of_range_are_refused_by_name(client, counter, field, value):
    resp = client.put("/api/v1/admin/earning-rule", json={field: value}, headers=counter.admin)
    refused(resp, "invalid_rule", field=field)


def test_earning_rule_values_at_the_limits_are_taken(client, counter):
    rule = counter.rule(stamps_per_visit=50, amount_per_stamp="0.01", amount_per_point="1000000", min_spend="10000000",
                        daily_cap_stamps=1000, daily_cap_points=100_000_000, card_size=50, stamp_expiry_days=3650,
                        point_expiry_days=0, reward_name="x" * 120)
    assert rule["stamps_per_visit"] == 50 and rule["amount_per_stamp"] == "0.01" and rule["point_expiry_days"] == 0
    assert counter.rule(amount_per_stamp=0, amount_per_point=None)["amount_per_stamp"] is None


def test_one_award_earns_at_most_the_stamp_cap(client, counter, make_member):
    """NT$10,000 at NT$1 a stamp on a one-stamp card would have been 10,000 reward grants in one request."""
    counter.rule(amount_per_stamp="1", amount_per_point=None, stamps_per_visit=0, card_size=1)
    _, number = make_member()
    resp = counter.award(number, "R-BIG", amount=10_000)
    award = resp.get_json()["award"]
    assert resp.status_code == 201 and award["stamps"] == MAX_STAMPS_PER_AWARD and award["capped"] is True
    assert award["rewards_issued"] == MAX_STAMPS_PER_AWARD


# --- tiers, coupon templates, the catalogue, referrals -----------------------------------------

TIER = {"code": "silver", "name": "銀卡", "rank": 1, "threshold": 3000}


@pytest.mark.parametrize(("field", "value"), [
    ("threshold", 10**10), ("threshold", "1e999"), ("window_days", 0), ("window_days", 3_651), ("period_days", 10**9),
    ("reminder_days", 366), ("earn_multiplier", 11), ("earn_multiplier", "1.001"), ("rank", 101), ("rank", 2**31),
    ("code", "x" * 33), ("name", "x" * 61), ("color", "#12345678A"), ("image_url", "https://x/" + "x" * 1000),
    ("benefits", ["b"] * 21), ("benefits", ["x" * 101]), ("birthday_template_id", 2**62), ("upgrade_template_id", 7),
])
def test_tier_values_out_of_range_are_refused_by_name(client, counter, field, value):
    resp = client.post("/api/v1/admin/tiers", json={**TIER, field: value}, headers=counter.admin)
    refused(resp, "invalid_tier", field=field)


def test_tier_changes_are_bounded_too(client, counter):
    assert client.post("/api/v1/admin/tiers", json=TIER, headers=counter.admin).status_code == 201
    refused(client.put("/api/v1/admin/tiers/silver", json={"window_days": 10**9}, headers=counter.admin), "invalid_tier", field="window_days")
    ok = client.put("/api/v1/admin/tiers/silver", json={"threshold": 1_000_000_000, "window_days": 3650, "period_days": 3650}, headers=counter.admin)
    assert ok.status_code == 200, ok.get_json()


TEMPLATE = {"name": "折 50", "kind": "amount_off", "value": 50, "valid_days": 30}


@pytest.mark.parametrize(("field", "value"), [
    ("value", 10**8), ("value", "1e20"), ("min_spend", "1e20"), ("min_spend", "10000000.01"), ("valid_days", 3_651),
    ("per_member_limit", 1_001), ("total_stock", 10**8), ("total_stock", 2**31), ("store_codes", ["S"] * 501),
    ("name", "x" * 121), ("item_name", "x" * 121),
])
def test_coupon_template_values_out_of_range_are_refused_by_name(client, counter, field, value):
    resp = client.post("/api/v1/admin/coupon-templates", json={**TEMPLATE, field: value}, headers=counter.admin)
    refused(resp, "invalid_template", field=field)


def test_reward_points_cost_is_bounded(client, counter):
    resp = client.post("/api/v1/admin/rewards", json={"name": "x", "points_cost": 2**31}, headers=counter.admin)
    refused(resp, "invalid_reward", field="points_cost")


def test_referral_stamps_are_few_and_points_bounded(client, counter):
    put = lambda body: client.put("/api/v1/admin/referral-program", json=body, headers=counter.admin)  # noqa: E731
    refused(put({"referrer_reward": {"kind": "stamps", "amount": MAX_STAMPS_PER_AWARD + 1}}), "invalid_referral_program", field="referrer_reward")
    refused(put({"friend_reward": {"kind": "points", "amount": 10_001}}), "invalid_referral_program", field="friend_reward")
    assert put({"referrer_reward": {"kind": "stamps", "amount": MAX_STAMPS_PER_AWARD}, "friend_reward": {"kind": "points", "amount": 10_000}}).status_code == 200


# --- the counter: purchase amounts and ids ---------------------------------------------------------

def test_a_coupon_amount_past_the_purchase_maximum_is_refused(client, counter, make_member):
    """The amount is stored with the redemption (NUMERIC(12, 2)): past a receipt's maximum it is refused."""
    _, number = make_member()
    template = client.post("/api/v1/admin/coupon-templates", json=TEMPLATE, headers=counter.admin).get_json()
    issued = client.post(f"/api/v1/admin/coupon-templates/{template['id']}/issue", json={"member_no": number}, headers=counter.admin)
    code = issued.get_json()["coupon"]["code"]
    for path in ("/api/v1/coupons/check", "/api/v1/coupons/redeem"):
        resp = client.post(path, json={"code": code, "amount": "100000000000"}, headers=counter.cashier)
        refused(resp, "invalid_amount", field="amount")
    assert client.post("/api/v1/coupons/redeem", json={"code": code, "amount": "10000000"}, headers=counter.cashier).status_code == 200


def test_ids_past_64_bits_name_nothing(client, counter, make_member):
    _, number = make_member()
    resp = client.post(f"/api/v1/grants/{2**70}/use", json={"member_no": number}, headers=counter.cashier)
    assert resp.status_code == 404 and set(resp.get_json()) == {"code", "message", "details"}
    redeem = client.post("/api/v1/redemptions", json={"member_no": number, "reward_id": 2**62, "request_id": "R"}, headers=counter.cashier)
    assert redeem.status_code == 404 and redeem.get_json()["code"] == "reward_not_found"
    for body in ({"member_no": number, "reward_id": 2**70, "request_id": "R"}, {"member_no": number, "reward_id": -(2**63) - 1, "request_id": "R"}):
        # past a BIGINT anywhere in a body: refused as the JSON is read, naming the field (bot/api/util.py)
        refused(client.post("/api/v1/redemptions", json=body, headers=counter.cashier), "invalid_json", field="reward_id", path="/reward_id")
    refused(client.get("/api/v1/admin/members", query_string={"page": 10**20}, headers=counter.admin), "invalid_page")


def test_the_document_states_the_maxima(client):
    schemas = client.get("/openapi.json").get_json()["components"]["schemas"]
    rule = schemas["EarningRule"]["properties"]
    assert rule["stamps_per_visit"]["maximum"] == 50 and rule["point_expiry_days"]["maximum"] == 3650
    assert schemas["Tier"]["properties"]["window_days"]["maximum"] == 3650
    assert schemas["CouponTemplate"]["properties"]["total_stock"]["maximum"] == 10_000_000
    amount = schemas["CorrectionRequest"]["allOf"][1]["properties"]["amount"]
    assert amount["maximum"] == MAX_CORRECTION["point"] and "amount_too_large" in amount["description"]
