"""A manager's void and the repeat-visit refusal under real concurrent requests on PostgreSQL."""
from __future__ import annotations

from sqlalchemy import func, select

from models.ledger import LedgerEntry
from tests.test_concurrency_pg import run_together


def test_eight_voids_of_one_award_take_it_back_once(pg_only, app, client, counter, make_member, db):
    counter.rule(amount_per_point="10", stamps_per_visit=1)
    _, number = make_member()
    award = counter.award(number, "S-1", amount="120", visit=True).get_json()["award"]
    clients = [app.test_client() for _ in range(8)]

    def void(i: int) -> int:
        return clients[i].post(f"/api/v1/awards/{award['id']}/void", json={"reason": "結帳錯誤"}, headers=counter.manager).status_code

    statuses = run_together(8, void)
    assert sorted(statuses) == [200] * 7 + [201], statuses
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.reason == "void")) == 2  # one stamp row, one point row
    assert client.post("/api/v1/scan", json={"member_no": number}, headers=counter.cashier).get_json()["balances"] == {"stamps": 0, "points": 0}


def test_eight_tills_at_once_under_a_refusing_rule_award_once(pg_only, app, client, counter, make_member):
    counter.rule(stamps_per_visit=1, repeat_visit_minutes=10, repeat_visit_policy="refuse")
    _, number = make_member()
    clients = [app.test_client() for _ in range(8)]

    def award(i: int) -> tuple[int, str | None]:
        resp = clients[i].post("/api/v1/awards", json={"member_no": number, "receipt_id": f"T-{i}", "visit": True}, headers=counter.cashier)
        return resp.status_code, resp.get_json().get("code")

    results = run_together(8, award)
    assert sorted(r[0] for r in results) == [201] + [409] * 7, results
    assert {r[1] for r in results if r[0] == 409} == {"repeat_visit"}
