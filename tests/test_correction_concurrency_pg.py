"""Approving a large correction under real concurrent requests on PostgreSQL: applied exactly once."""
from __future__ import annotations

from sqlalchemy import func, select

from models.correction import CorrectionRequest
from models.ledger import LedgerEntry
from tests.conftest import ADMIN_TOKEN
from tests.test_concurrency_pg import run_together

ROOT = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_concurrent_approvals_make_one_ledger_entry(pg_only, app, client, counter, make_member, db):
    _, number = make_member()
    asked = client.post("/api/v1/corrections", json={"member_no": number, "currency": "point", "amount": 5000, "reason": "補點"},
                        headers=counter.manager)
    assert asked.status_code == 202, asked.get_json()
    request_id = asked.get_json()["request"]["id"]
    managers = [counter._staff(f"manager{i}-tpe01", "manager") for i in range(4)]
    # four managers at their counters and four owners' calls in the console, all at the same instant
    calls = [(f"/api/v1/correction-requests/{request_id}/approve", m) for m in managers]
    calls += [(f"/api/v1/admin/correction-requests/{request_id}/approve", ROOT)] * 4
    clients = [app.test_client() for _ in calls]

    def approve(i: int) -> tuple[int, str | None]:
        resp = clients[i].post(calls[i][0], headers=calls[i][1])
        return resp.status_code, resp.get_json().get("code")

    results = run_together(len(calls), approve)
    assert sorted(r[0] for r in results) == [200] + [409] * (len(calls) - 1), results
    assert {r[1] for r in results if r[0] == 409} == {"correction_already_decided"}
    with db.sessions() as s:
        entries = list(s.scalars(select(LedgerEntry).where(LedgerEntry.reason == "correction")))
        assert [e.amount for e in entries] == [5000]
        assert s.get(CorrectionRequest, request_id).ledger_entry_id == entries[0].id
    balance = client.post("/api/v1/scan", json={"member_no": number}, headers=counter.cashier).get_json()["balances"]["points"]
    assert balance == 5000


def test_an_approval_and_a_rejection_at_once_decide_once(pg_only, app, client, counter, make_member, db):
    _, number = make_member()
    second = counter._staff("manager2-tpe01", "manager")
    ids = []
    for _ in range(5):
        asked = client.post("/api/v1/corrections", json={"member_no": number, "currency": "stamp", "amount": 50, "reason": "補蓋"},
                            headers=counter.manager)
        ids.append(asked.get_json()["request"]["id"])
    clients = [app.test_client() for _ in range(10)]

    def decide(i: int) -> int:
        verb = "approve" if i % 2 == 0 else "reject"
        return clients[i].post(f"/api/v1/correction-requests/{ids[i // 2]}/{verb}", headers=second).status_code

    statuses = run_together(10, decide)
    assert statuses.count(200) == 5 and statuses.count(409) == 5, statuses
    with db.sessions() as s:
        approved = s.scalar(select(func.count()).select_from(CorrectionRequest).where(CorrectionRequest.status == "approved"))
        made = s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.reason == "correction"))
        assert made == approved and s.scalar(select(func.count()).select_from(CorrectionRequest).where(CorrectionRequest.status == "pending")) == 0
