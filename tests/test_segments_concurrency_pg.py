"""Recomputes that overlap (the API, the nightly job, the journeys scan) take turns on PostgreSQL."""
from __future__ import annotations

from tests.test_ledger_concurrency_pg import run_together


def test_concurrent_recomputes_all_succeed(pg_only, app, counter, make_member):  # type: ignore[no-untyped-def]
    for i in range(6):
        _, no = make_member()
        assert counter.award(no, f"R{i}", amount=100 * (i + 1)).status_code == 201
    results = run_together(app, 6, lambda i, c: c.post("/api/v1/admin/segments/recompute", headers=counter.admin))
    assert [r.status_code for r in results] == [200] * 6, [r.get_json() for r in results if r.status_code != 200]
    overview = counter.client.get("/api/v1/admin/segments/overview", headers=counter.admin).get_json()
    assert sum(overview["nes"].values()) == 6
