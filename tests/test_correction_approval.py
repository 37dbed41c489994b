"""A second manager's approval for large corrections: at the counter and in the console, decided once,
never by the requester, never after CORRECTION_APPROVAL_HOURS, and every step in the audit log."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.config import ConfigError, Settings
from models.admin import AuditLog
from models.correction import CorrectionRequest, Person, approve_correction, reject_correction, submit_correction
from models.errors import Conflict, NotFound
from models.ledger import LedgerEntry, balances
from models.member import get_by_member_no
from models.rule import get_rule
from models.store import Actor, Forbidden, get_store
from tests.conftest import ADMIN_TOKEN
from tests.test_admin_console import accounts, bearer  # noqa: F401  (fixture)

ROOT = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
DAY = timedelta(hours=24)
OVER = {"stamp": 10, "point": 1000}


def correct(client, headers, number, amount, currency="point", reason="系統當機補點"):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/corrections", json={"member_no": number, "currency": currency, "amount": amount, "reason": reason},
                       headers=headers)


def decide(client, headers, request_id, verb="approve", **body):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/correction-requests/{request_id}/{verb}", headers=headers, json=body or None)


def points(client, counter, number) -> int:  # type: ignore[no-untyped-def]
    return client.post("/api/v1/scan", json={"member_no": number}, headers=counter.cashier).get_json()["balances"]["points"]


def audit(client, action):  # type: ignore[no-untyped-def]
    return [e for e in client.get("/api/v1/admin/audit", headers=ROOT).get_json()["entries"] if e["action"] == action]


def entries(db) -> int:  # type: ignore[no-untyped-def]
    with db.sessions() as s:
        return s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.reason == "correction"))


@pytest.fixture
def second(counter):  # type: ignore[no-untyped-def]
    """Another manager of the same store."""
    return counter._staff("manager2-tpe01", "manager")


# --- domain ----------------------------------------------------------------------------------

def _person(key: str, store_id: int | None, role: str = "manager", staff_id: int | None = None) -> Person:
    return Person(key=key, label=key, name=key, actor=Actor(store_id=store_id, kind="staff" if store_id else "admin", staff_id=staff_id, role=role))  # type: ignore[arg-type]


def test_domain_small_applies_large_waits_and_is_applied_once(db, counter, make_member, clock):
    _, number = make_member()
    with db.transaction() as s:
        store_id = get_store(s, "TPE01").id
        member, rule = get_by_member_no(s, number), get_rule(s)
        asker, other = _person("staff:1", store_id), _person("staff:2", store_id)
        small = submit_correction(s, member=member, currency="point", amount=1000, note="補點", by=asker, now=clock.now, rule=rule, approval_over=OVER)
        assert small.entry is not None and small.request is None
        large = submit_correction(s, member=member, currency="point", amount=1001, note=" 補點 ", by=asker, now=clock.now, rule=rule, approval_over=OVER)
        assert large.entry is None and large.request is not None and large.request.status == "pending" and large.request.reason == "補點"
        assert balances(s, member.id)["point"] == 1000
        request_id = large.request.id
        with pytest.raises(Forbidden) as own:
            approve_correction(s, request_id=request_id, by=asker, now=clock.now, valid_for=DAY, rule=rule)
        assert own.value.code == "own_correction"
        with pytest.raises(Forbidden) as cashier:
            approve_correction(s, request_id=request_id, by=_person("staff:3", store_id, role="cashier"), now=clock.now, valid_for=DAY, rule=rule)
        assert cashier.value.code == "manager_only"
        with pytest.raises(NotFound):  # a manager of another store does not see it
            approve_correction(s, request_id=request_id, by=_person("staff:9", store_id + 100), now=clock.now, valid_for=DAY, rule=rule)
        done = approve_correction(s, request_id=request_id, by=other, now=clock.now, valid_for=DAY, rule=rule)
        assert done.status == "approved" and done.ledger_entry_id is not None and done.decided_by == "staff:2"
        assert balances(s, member.id)["point"] == 2001
        with pytest.raises(Conflict) as twice:
            approve_correction(s, request_id=request_id, by=_person("user:1", None), now=clock.now, valid_for=DAY, rule=rule)
        assert twice.value.code == "correction_already_decided"
        with pytest.raises(Conflict):
            reject_correction(s, request_id=request_id, by=other, now=clock.now, valid_for=DAY)
        actions = [a.action for a in s.scalars(select(AuditLog).order_by(AuditLog.id))]
    assert [a for a in actions if a.startswith("correction.")] == ["correction.applied", "correction.requested", "correction.approved"]


def test_settings_name_the_thresholds_and_refuse_nonsense():
    env = {"APP_ENV": "test", "CORRECTION_APPROVAL_STAMPS": "3", "CORRECTION_APPROVAL_POINTS": "0", "CORRECTION_APPROVAL_HOURS": "48"}
    settings = Settings.from_env(env, dotenv=False)
    assert settings.correction_approval_over == {"stamp": 3, "point": 0} and settings.correction_approval_hours == 48
    defaults = Settings.from_env({"APP_ENV": "test"}, dotenv=False)
    assert (defaults.correction_approval_stamps, defaults.correction_approval_points, defaults.correction_approval_hours) == (10, 1000, 24)
    with pytest.raises(ConfigError, match="CORRECTION_APPROVAL_POINTS"):
        Settings(app_env="test", correction_approval_points=-1)
    with pytest.raises(ConfigError, match="CORRECTION_APPROVAL_HOURS"):
        Settings(app_env="test", correction_approval_hours=0)


# --- the counter -----------------------------------------------------------------------------

def test_up_to_the_threshold_a_correction_applies_at_once_and_is_audited(client, counter, make_member, db):
    _, number = make_member()
    done = correct(client, counter.manager, number, 1000)
    assert done.status_code == 201 and done.get_json()["member"]["balances"]["points"] == 1000
    stamps = correct(client, counter.manager, number, 10, currency="stamp")
    assert stamps.status_code == 201
    (stamp_row, point_row) = audit(client, "correction.applied")
    assert point_row["actor"].startswith("staff:") and point_row["actor"].endswith(":manager-tpe01")
    assert {k: point_row["details"][k] for k in ("store", "member", "currency", "delta", "reason")} == {
        "store": "TPE01", "member": number, "currency": "point", "delta": 1000, "reason": "系統當機補點"}
    assert point_row["details"]["entry_id"] == done.get_json()["entry"]["id"]
    assert stamp_row["details"]["delta"] == 10 and stamp_row["details"]["currency"] == "stamp"
    assert entries(db) == 2


@pytest.mark.parametrize("currency, amount", [("point", 1001), ("point", -1001), ("stamp", 11), ("stamp", -11)])
def test_above_the_threshold_nothing_moves_until_a_second_manager_approves(client, counter, make_member, second, db, currency, amount):
    _, number = make_member()
    if amount < 0:  # enough to take off: two corrections within the threshold
        for _ in range(2):
            assert correct(client, counter.manager, number, OVER[currency], currency=currency).status_code == 201
    before = entries(db)
    asked = correct(client, counter.manager, number, amount, currency=currency)
    body = asked.get_json()
    assert asked.status_code == 202, body
    assert body["code"] == "approval_required" and body["details"] == {"request_id": body["request"]["id"], "currency": currency,
                                                                        "threshold": OVER[currency]}
    req = body["request"]
    assert (req["status"], req["amount"], req["currency"], req["store"], req["mine"], req["requested_by"]) == (
        "pending", amount, currency, "TPE01", True, "manager-tpe01")
    assert entries(db) == before  # nothing applied
    requested = audit(client, "correction.requested")[0]
    assert {k: requested["details"][k] for k in ("store", "member", "currency", "delta", "reason", "request_id")} == {
        "store": "TPE01", "member": number, "currency": currency, "delta": amount, "reason": "系統當機補點", "request_id": req["id"]}

    seen = client.get("/api/v1/correction-requests", headers=second).get_json()["requests"]
    assert [(r["id"], r["mine"]) for r in seen] == [(req["id"], False)]
    approved = decide(client, second, req["id"])
    assert approved.status_code == 200, approved.get_json()
    out = approved.get_json()["request"]
    assert out["status"] == "approved" and out["decided_by"] == "manager2-tpe01" and out["entry_id"]
    assert entries(db) == before + 1
    with db.sessions() as s:
        entry = s.get(LedgerEntry, out["entry_id"])
        assert (entry.amount, entry.currency, entry.note, entry.reason) == (amount, currency, "系統當機補點", "correction")
        assert entry.store_id is not None and entry.staff_id is not None and entry.actor_kind == "staff"  # the requester's, at their store
    row = audit(client, "correction.approved")[0]
    assert row["actor"].endswith(":manager2-tpe01") and row["details"]["delta"] == amount and row["details"]["member"] == number
    assert row["details"]["requested_by"].endswith(":manager-tpe01") and row["details"]["entry_id"] == out["entry_id"]
    assert client.get("/api/v1/correction-requests", headers=second).get_json()["requests"] == []  # decided: no longer pending
    again = decide(client, second, req["id"])
    assert again.status_code == 409 and again.get_json()["code"] == "correction_already_decided"
    assert again.get_json()["details"] == {"status": "approved", "decided_by": "manager2-tpe01"}
    assert entries(db) == before + 1


def test_nobody_approves_their_own_request_and_cashiers_cannot_at_all(client, counter, make_member, db):
    _, number = make_member()
    req = correct(client, counter.manager, number, 5000).get_json()["request"]
    own = decide(client, counter.manager, req["id"])
    assert own.status_code == 403 and own.get_json()["code"] == "own_correction"
    for verb in ("approve", "reject"):
        refused = decide(client, counter.cashier, req["id"], verb)
        assert refused.status_code == 403 and refused.get_json()["code"] == "manager_only"
    assert client.get("/api/v1/correction-requests", headers=counter.cashier).status_code == 403
    pos = decide(client, counter.api_key(), req["id"])
    assert pos.status_code == 403 and pos.get_json()["code"] == "manager_only"
    assert correct(client, counter.cashier, number, 5000).get_json()["code"] == "manager_only"  # nor ask
    assert entries(db) == 0 and points(client, counter, number) == 0


def test_another_stores_manager_neither_sees_nor_decides(client, counter, make_member):
    from tests.conftest import Counter

    other = Counter(client, code="KHH01", name="高雄店")
    _, number = make_member()
    req = correct(client, counter.manager, number, 5000).get_json()["request"]
    assert client.get("/api/v1/correction-requests", headers=other.manager).get_json()["requests"] == []
    refused = decide(client, other.manager, req["id"])
    assert refused.status_code == 404 and refused.get_json()["code"] == "correction_not_found"


def test_a_rejected_request_moves_nothing_and_says_why(client, counter, make_member, second, db):
    _, number = make_member()
    req = correct(client, counter.manager, number, 2000).get_json()["request"]
    rejected = decide(client, second, req["id"], "reject", note="收據金額不符")
    assert rejected.status_code == 200, rejected.get_json()
    out = rejected.get_json()["request"]
    assert (out["status"], out["note"], out["entry_id"], out["decided_by"]) == ("rejected", "收據金額不符", None, "manager2-tpe01")
    assert entries(db) == 0 and points(client, counter, number) == 0
    row = audit(client, "correction.rejected")[0]
    assert row["details"]["note"] == "收據金額不符" and row["details"]["delta"] == 2000 and row["details"]["store"] == "TPE01"
    assert decide(client, second, req["id"]).get_json()["code"] == "correction_already_decided"
    listed = client.get("/api/v1/correction-requests?status=rejected", headers=second).get_json()["requests"]
    assert [r["id"] for r in listed] == [req["id"]]
    assert decide(client, second, req["id"], "reject").status_code == 409  # no body is fine, but decided is decided
    other = correct(client, counter.manager, number, 2000).get_json()["request"]
    assert decide(client, second, other["id"], "reject", note="x" * 201).get_json()["code"] == "invalid_note"
    bare = client.post(f"/api/v1/correction-requests/{other['id']}/reject", json={}, headers=second)  # an empty object: no note
    assert bare.status_code == 200 and bare.get_json()["request"]["note"] is None
    assert client.get("/api/v1/correction-requests?status=nope", headers=second).get_json()["code"] == "invalid_status"


def test_a_request_older_than_the_window_cannot_be_approved(client, counter, make_member, second, clock, db):
    _, number = make_member()
    late = correct(client, counter.manager, number, 3000).get_json()["request"]
    clock.advance(hours=23, minutes=59)
    in_time = correct(client, counter.manager, number, 4000).get_json()["request"]
    assert [r["id"] for r in client.get("/api/v1/correction-requests", headers=second).get_json()["requests"]] == [in_time["id"], late["id"]]
    clock.advance(minutes=1)  # the first is now 24 hours old
    assert [r["id"] for r in client.get("/api/v1/correction-requests", headers=second).get_json()["requests"]] == [in_time["id"]]
    expired = decide(client, second, late["id"])
    assert expired.status_code == 409 and expired.get_json()["code"] == "correction_expired"
    assert decide(client, second, late["id"]).get_json()["details"]["status"] == "expired"  # recorded, though the answer was a refusal
    listed = client.get("/api/v1/correction-requests?status=expired", headers=second).get_json()["requests"]
    assert [(r["id"], r["status"]) for r in listed] == [(late["id"], "expired")]
    assert audit(client, "correction.expired")[0]["details"]["request_id"] == late["id"]
    assert decide(client, second, in_time["id"]).status_code == 200
    assert points(client, counter, number) == 4000 and entries(db) == 1


def test_the_daily_run_marks_requests_nobody_decided_in_time_expired(app, client, counter, make_member, second, clock, db):
    from bot.jobs.daily import run_daily

    _, number = make_member()
    old = correct(client, counter.manager, number, 3000).get_json()["request"]
    clock.advance(hours=12)
    fresh = correct(client, counter.manager, number, 4000).get_json()["request"]
    clock.advance(hours=12)
    assert run_daily(app.extensions["loyalty"])["corrections_expired"] == 1
    assert run_daily(app.extensions["loyalty"])["corrections_expired"] == 0  # twice changes nothing
    with db.sessions() as s:
        assert {r.id: r.status for r in s.scalars(select(CorrectionRequest))} == {old["id"]: "expired", fresh["id"]: "pending"}
    (row,) = audit(client, "correction.expired")
    assert row["actor"] == "system" and row["details"]["request_id"] == old["id"] and row["details"]["delta"] == 3000
    assert decide(client, second, old["id"]).get_json()["details"]["status"] == "expired"


def test_a_balance_that_would_go_negative_is_refused_when_asking_and_when_approving(client, counter, make_member, second, db):
    _, number = make_member()
    too_much = correct(client, counter.manager, number, -5000)
    assert too_much.status_code == 409 and too_much.get_json()["code"] == "insufficient_balance"
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(CorrectionRequest)) == 0
    for _ in range(2):
        assert correct(client, counter.manager, number, 1000).status_code == 201
    req = correct(client, counter.manager, number, -2000).get_json()["request"]  # fine when asked
    assert correct(client, second, number, -1000).status_code == 201  # meanwhile 1,000 are taken off
    refused = decide(client, second, req["id"])
    assert refused.status_code == 409 and refused.get_json()["code"] == "insufficient_balance"
    assert refused.get_json()["details"] == {"balance": 1000, "needed": 2000, "currency": "point"}
    assert client.get("/api/v1/correction-requests", headers=second).get_json()["requests"][0]["status"] == "pending"  # can be rejected
    assert points(client, counter, number) == 1000


# --- the console -----------------------------------------------------------------------------

def test_console_owners_decide_requests_from_the_counter_and_the_console(client, accounts, counter, make_member, db):  # noqa: F811
    _, number = make_member()
    manager, owner = bearer(client, "manager@brand.tw"), bearer(client, "owner@brand.tw")
    from_counter = correct(client, counter.manager, number, 1500).get_json()["request"]
    url = f"/api/v1/admin/members/{number}/adjustments"
    asked = client.post(url, json={"currency": "points", "amount": 2500, "reason": "活動補點"}, headers=manager)
    assert asked.status_code == 202 and asked.get_json()["code"] == "approval_required"
    assert asked.get_json()["balances"] == {"stamps": 0, "points": 0}
    from_console = asked.get_json()["request"]
    assert (from_console["store"], from_console["requested_by"], from_console["mine"]) == (None, "Manager", True)
    assert client.get("/api/v1/correction-requests", headers=counter.manager).get_json()["requests"][0]["id"] == from_counter["id"]  # the store's only

    listed = client.get("/api/v1/admin/correction-requests", headers=manager).get_json()["requests"]
    assert [(r["id"], r["mine"]) for r in listed] == [(from_console["id"], True), (from_counter["id"], False)]
    not_owner = client.post(f"/api/v1/admin/correction-requests/{from_counter['id']}/approve", headers=manager)
    assert not_owner.status_code == 403 and not_owner.get_json()["code"] == "missing_scope"
    assert client.get("/api/v1/admin/correction-requests", headers=bearer(client, "marketer@brand.tw")).status_code == 403
    store_manager = decide(client, counter.manager, from_console["id"])  # a console request is the office's to decide
    assert store_manager.status_code == 404

    for req in (from_counter, from_console):
        done = client.post(f"/api/v1/admin/correction-requests/{req['id']}/approve", headers=owner)
        assert done.status_code == 200, done.get_json()
        assert done.get_json()["request"]["decided_by"] == "Owner"
    assert points(client, counter, number) == 4000 and entries(db) == 2
    rows = audit(client, "correction.approved")
    assert {r["details"]["store"] for r in rows} == {"TPE01", None} and all("owner@brand.tw" in r["actor"] for r in rows)


def test_an_owner_cannot_approve_their_own_request_even_from_another_sign_in(client, accounts, counter, make_member):  # noqa: F811
    _, number = make_member()
    url = f"/api/v1/admin/members/{number}/adjustments"
    req = client.post(url, json={"currency": "stamps", "amount": 20, "reason": "補蓋"}, headers=bearer(client, "owner@brand.tw")).get_json()["request"]
    again = bearer(client, "owner@brand.tw")  # a new session is the same person
    own = client.post(f"/api/v1/admin/correction-requests/{req['id']}/approve", headers=again)
    assert own.status_code == 403 and own.get_json()["code"] == "own_correction"
    rejected = client.post(f"/api/v1/admin/correction-requests/{req['id']}/reject", headers=ROOT, json={"note": "請改用兩筆"})
    assert rejected.status_code == 200 and rejected.get_json()["request"]["status"] == "rejected"
    assert audit(client, "correction.rejected")[0]["actor"] == "root"


# --- the API document ------------------------------------------------------------------------

def test_the_approval_routes_and_the_202_answer_are_documented(client, counter, make_member, second):
    from jsonschema import Draft202012Validator

    doc = client.get("/openapi.json").get_json()
    paths = doc["paths"]

    def valid(schema: str, instance) -> None:  # type: ignore[no-untyped-def]
        Draft202012Validator({"$ref": f"#/components/schemas/{schema}", "components": doc["components"]}).validate(instance)

    for path in ("/api/v1/corrections", "/api/v1/admin/members/{member_no}/adjustments"):
        waiting = paths[path]["post"]["responses"]["202"]["content"]["application/json"]["schema"]
        assert waiting == {"$ref": "#/components/schemas/ApprovalRequired"} and "CORRECTION_APPROVAL_POINTS" in paths[path]["post"]["description"]
    assert paths["/api/v1/admin/correction-requests/{request_id}/approve"]["post"]["security"] == [{"admin": ["settings:manage"]}]
    assert paths["/api/v1/admin/correction-requests"]["get"]["security"] == [{"admin": ["members:adjust"]}]
    assert "own_correction" in paths["/api/v1/correction-requests/{request_id}/approve"]["post"]["responses"]["403"]["description"]
    assert "correction_expired" in paths["/api/v1/correction-requests/{request_id}/approve"]["post"]["responses"]["409"]["description"]
    assert paths["/api/v1/correction-requests"]["get"]["tags"] == ["Counter"]

    _, number = make_member()
    asked = correct(client, counter.manager, number, 2000).get_json()
    valid("ApprovalRequired", asked)
    valid("CorrectionApprovalList", client.get("/api/v1/correction-requests", headers=second).get_json())
    valid("CorrectionDecided", decide(client, second, asked["request"]["id"]).get_json())
