"""Recomputes that overlap (the API, the nightly job, the journeys scan) take turns on PostgreSQL."""
from __future__ import annotations

from sqlalchemy import select

from models.member import Member
from tests.conftest import joined_members
from tests.test_ledger_concurrency_pg import run_together


def test_concurrent_recomputes_all_succeed(pg_only, app, counter, db, clock):  # type: ignore[no-untyped-def]
    users = joined_members(db, clock, 6)  # the test is about recomputing, not joining: no webhooks
    with db.sessions() as s:
        numbers = s.scalars(select(Member.member_no).where(Member.line_user_id.in_(users)).order_by(Member.id)).all()
    for i, no in enumerate(numbers):
        assert counter.award(no, f"R{i}", amount=100 * (i + 1)).status_code == 201
    results = run_together(app, 6, lambda i, c: c.post("/api/v1/admin/segments/recompute", headers=counter.admin))
    assert [r.status_code for r in results] == [200] * 6, [r.get_json() for r in results if r.status_code != 200]
    overview = counter.client.get("/api/v1/admin/segments/overview", headers=counter.admin).get_json()
    assert sum(overview["nes"].values()) == 6
