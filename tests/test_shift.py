"""The till's day: today's transactions newest first, the shift summary, and a manager's void of an
award (compensating ledger entries, once, audited, today only)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from models.admin import AuditLog
from models.ledger import LedgerEntry


def today(client, counter, who=None):  # type: ignore[no-untyped-def]
    resp = client.get("/api/v1/shift/today", headers=who or counter.cashier)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def balances(client, counter, number):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/scan", json={"member_no": number}, headers=counter.cashier).get_json()["balances"]


def test_today_lists_the_stores_awards_newest_first_with_a_summary(client, counter, make_member, clock):
    counter.rule(amount_per_point="10", stamps_per_visit=1)
    _, a = make_member("甲")
    _, b = make_member("乙")
    clock.now = clock.now - timedelta(days=1)
    assert counter.award(a, "YESTERDAY", amount="999", visit=True).status_code == 201
    clock.now = clock.now + timedelta(days=1)
    assert counter.award(a, "S-1", amount="120", visit=True).status_code == 201
    clock.advance(minutes=3)
    assert counter.award(b, "S-2", amount="80").status_code == 201
    d = today(client, counter)
    assert [t["receipt_id"] for t in d["transactions"]] == ["S-2", "S-1"]
    assert d["transactions"][0]["member_name"] == "乙" and d["transactions"][0]["voided"] is False
    s = d["summary"]
    assert (s["awards"], s["members"], s["revenue"], s["stamps"], s["points"]) == (2, 2, "200.00", 1, 20)
    assert s["business_day"] == clock.today().isoformat()


def test_a_manager_voids_an_award_once(client, counter, make_member, db):
    counter.rule(amount_per_point="10", stamps_per_visit=1)
    _, number = make_member()
    award = counter.award(number, "S-1", amount="120", visit=True).get_json()["award"]
    assert balances(client, counter, number) == {"stamps": 1, "points": 12}
    path = f"/api/v1/awards/{award['id']}/void"
    assert client.post(path, json={"reason": "結帳錯誤"}, headers=counter.cashier).get_json()["code"] == "manager_only"
    assert client.post(path, json={"reason": " "}, headers=counter.manager).get_json()["code"] == "invalid_reason"
    first = client.post(path, json={"reason": "結帳錯誤"}, headers=counter.manager)
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["void"] == {"award_id": award["id"], "receipt_id": "S-1", "stamps": 1, "points": 12, "replayed": False}
    again = client.post(path, json={"reason": "結帳錯誤"}, headers=counter.manager)
    assert again.status_code == 200 and again.get_json()["void"]["replayed"] is True
    assert balances(client, counter, number) == {"stamps": 0, "points": 0}
    with db.sessions() as s:
        voids = s.scalars(select(LedgerEntry).where(LedgerEntry.reason == "void")).all()
        assert sorted((e.currency, e.amount, e.award_id, e.note) for e in voids) == [("point", -12, award["id"], "結帳錯誤"), ("stamp", -1, award["id"], "結帳錯誤")]
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "award.void")).all()
        assert len(audit) == 1 and audit[0].details["receipt_id"] == "S-1" and audit[0].details["points"] == -12
    d = today(client, counter)
    assert d["transactions"][0]["voided"] is True
    assert (d["summary"]["awards"], d["summary"]["voided_awards"], d["summary"]["revenue"], d["summary"]["points"]) == (0, 1, "0.00", 0)
    # the receipt stays used: sending it again is the original award, not a new one
    assert counter.award(number, "S-1", amount="120", visit=True).get_json()["award"]["replayed"] is True


def test_a_void_is_bounded(client, counter, make_member, clock):
    counter.rule(amount_per_point="10", stamps_per_visit=1, card_size=2)
    _, number = make_member()
    old = counter.award(number, "OLD", amount="50").get_json()["award"]
    clock.now = clock.now + timedelta(days=1)
    refused = client.post(f"/api/v1/awards/{old['id']}/void", json={"reason": "r"}, headers=counter.manager)
    assert refused.status_code == 409 and refused.get_json()["code"] == "award_not_today"
    spent = counter.award(number, "NEW", amount="100").get_json()["award"]
    other = counter.award(number, "FULL-1", visit=True).get_json()["award"]
    full = counter.award(number, "FULL-2", visit=True).get_json()["award"]
    assert full["rewards_issued"] == 1
    assert client.post(f"/api/v1/awards/{full['id']}/void", json={"reason": "r"}, headers=counter.manager).get_json()["code"] == "award_issued_reward"
    assert client.post("/api/v1/corrections", json={"member_no": number, "currency": "point", "amount": -12, "reason": "用掉"},
                       headers=counter.manager).status_code == 201  # 15 points: 5 left, fewer than the award's 10
    refused = client.post(f"/api/v1/awards/{spent['id']}/void", json={"reason": "r"}, headers=counter.manager)
    assert refused.status_code == 409 and refused.get_json()["code"] == "award_already_spent"
    assert refused.get_json()["details"] == {"currency": "point", "balance": 3, "needed": 10}
    assert other  # the first visit's stamp went into the reward


def test_another_stores_award_is_not_found(client, counter, make_member):
    from tests.conftest import Counter

    _, number = make_member()
    award = counter.award(number, "S-1", amount="120").get_json()["award"]
    elsewhere = Counter(client, code="KHH01", name="高雄店")
    resp = client.post(f"/api/v1/awards/{award['id']}/void", json={"reason": "r"}, headers=elsewhere.manager)
    assert resp.status_code == 404 and resp.get_json()["code"] == "award_not_found"
    assert today(client, counter, elsewhere.cashier)["transactions"] == []


def test_repeat_visit_warns_or_refuses_by_the_brands_rule(client, counter, make_member, clock):
    _, number = make_member()
    assert counter.award(number, "A-1", visit=True).get_json()["award"]["repeat_visit"] is None  # no rule: as before
    clock.advance(minutes=3)
    assert counter.award(number, "A-2", visit=True).get_json()["award"]["repeat_visit"] is None
    assert counter.rule(repeat_visit_minutes=10)["repeat_visit_policy"] == "warn"
    clock.advance(minutes=4)
    warned = counter.award(number, "A-3", visit=True)
    assert warned.status_code == 201 and warned.get_json()["award"]["repeat_visit"] == {"minutes_ago": 4, "within": 10, "policy": "warn"}
    counter.rule(repeat_visit_policy="refuse")
    clock.advance(minutes=2)
    refused = counter.award(number, "A-4", visit=True)
    assert refused.status_code == 409 and refused.get_json()["code"] == "repeat_visit"
    assert refused.get_json()["details"] == {"minutes_ago": 2, "within": 10, "policy": "refuse"}
    replay = counter.award(number, "A-3", visit=True)  # a retry of the award that stood is its answer, not a refusal
    assert replay.status_code == 200 and replay.get_json()["award"]["replayed"] is True
    clock.advance(minutes=10)
    assert counter.award(number, "A-5", visit=True).status_code == 201  # past the window
    assert client.post("/api/v1/scan", json={"member_no": number}, headers=counter.cashier).get_json()["balances"]["stamps"] == 4


def test_repeat_visit_rule_is_validated(client, counter):
    for field, value in (("repeat_visit_minutes", 0), ("repeat_visit_minutes", 1441), ("repeat_visit_policy", "block")):
        resp = client.put("/api/v1/admin/earning-rule", json={field: value}, headers=counter.admin)
        assert resp.status_code == 422 and resp.get_json()["details"]["field"] == field
    assert counter.rule(repeat_visit_minutes=None)["repeat_visit_minutes"] is None


def test_the_member_sees_the_void_in_their_history(client, counter, make_member, line):
    from tests.conftest import all_text

    counter.rule(amount_per_point="10", stamps_per_visit=1)
    user, number = make_member()
    award = counter.award(number, "S-1", amount="120", visit=True).get_json()["award"]
    assert client.post(f"/api/v1/awards/{award['id']}/void", json={"reason": "結帳錯誤"}, headers=counter.manager).status_code == 201
    line.say(user, "我的點數")
    assert "作廢集點：結帳錯誤" in all_text(line.last(user))
