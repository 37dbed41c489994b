"""Receipt claim codes answer a reused receipt id as awards do: the same purchase again is a retry
and gets the original code; anything else, or a receipt already awarded at the counter, is refused."""
from __future__ import annotations

from collections import Counter as Tally

from sqlalchemy import func, select

from models.claim import ClaimCode
from models.ledger import LedgerEntry
from tests.conftest import Counter, all_text
from tests.test_ledger_concurrency_pg import answer, run_together


def claim(client, counter, receipt_id: str, **purchase):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/claims", json={"receipt_id": receipt_id, **purchase}, headers=counter.cashier)


def codes(db) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    with db.sessions() as s:
        return [(c.receipt_id, c.code) for c in s.scalars(select(ClaimCode).order_by(ClaimCode.id))]


def test_the_same_purchase_again_answers_with_the_original_code(client, counter, db):
    first = claim(client, counter, "R-1", amount=300, visit=True)
    assert first.status_code == 201 and first.get_json()["replayed"] is False
    again = claim(client, counter, "R-1", amount="300.00", visit=True)  # the same amount, written differently
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["replayed"] is True
    assert again.get_json()["code"] == first.get_json()["code"]
    assert len(codes(db)) == 1


def test_the_same_receipt_for_another_amount_or_visit_is_refused(client, counter, line, make_member, db):
    user, number = make_member()
    counter.rule(amount_per_point="10", stamps_per_visit=1)
    original = claim(client, counter, "R-2", amount=300, visit=True).get_json()
    for changed in ({"amount": 310, "visit": True}, {"amount": 300}, {"visit": True}):
        resp = claim(client, counter, "R-2", **changed)
        assert resp.status_code == 409, (changed, resp.get_json())
        body = resp.get_json()
        assert body["code"] == "receipt_already_has_claim"
        assert body["details"] == {"amount": "300.00", "visit": True}  # what the code was made for
        assert "another amount or visit" in body["message"]
    assert codes(db) == [("R-2", original["code"].replace("-", ""))]
    line.say(user, f"領取 {original['code']}")  # the original code still awards the original purchase, once
    assert "收據集點完成" in all_text(line.last(user))
    scan = client.post("/api/v1/scan", json={"member_no": number}, headers=counter.cashier).get_json()
    assert scan["balances"] == {"stamps": 1, "points": 30}


def test_a_claimed_code_is_still_the_answer_to_a_retry(client, counter, line, make_member):
    user, _ = make_member()
    first = claim(client, counter, "R-3", amount=100).get_json()
    line.say(user, f"領取 {first['code']}")
    retry = claim(client, counter, "R-3", amount=100)
    assert retry.status_code == 200
    assert retry.get_json()["code"] == first["code"] and retry.get_json()["claimed"] is True
    other = claim(client, counter, "R-3", amount=120)
    assert other.status_code == 409 and other.get_json()["code"] == "receipt_already_has_claim"


def test_a_receipt_awarded_at_the_counter_gets_no_claim_code(client, counter, line, make_member, db):
    """Its code could never award anything: the same member would be told it was collected (a replay),
    anyone else that it was already awarded. The cashier is told at once instead."""
    user, number = make_member()
    counter.rule(amount_per_point="10", stamps_per_visit=0)
    assert counter.award(number, "R-4", amount=100).status_code == 201
    for purchase in ({"amount": 100}, {"amount": 250}, {"visit": True}):
        resp = claim(client, counter, "R-4", **purchase)
        assert resp.status_code == 409, (purchase, resp.get_json())
        assert resp.get_json()["code"] == "receipt_already_awarded"
        assert resp.get_json()["details"] == {"amount": "100.00", "visit": False}
    assert codes(db) == []
    with db.sessions() as s:
        assert s.scalars(select(LedgerEntry.amount)).all() == [10]
    other_store = Counter(client, code="KHH01", name="高雄店")  # receipt ids are per store
    assert claim(client, other_store, "R-4", amount=100).status_code == 201


def test_the_document_names_the_refusals(client):
    claims = client.get("/openapi.json").get_json()["paths"]["/api/v1/claims"]["post"]["responses"]
    assert {"200", "201", "409"} <= set(claims)
    assert "receipt_already_has_claim" in claims["409"]["description"]
    assert "receipt_already_awarded" in claims["409"]["description"]
    assert claims["409"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_one_receipt_sent_with_different_amounts_at_once_makes_one_code(pg_only, app, counter, db):
    amounts = [100 + 10 * i for i in range(6)]

    def create(i: int, c) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
        return answer(c.post("/api/v1/claims", json={"receipt_id": "R-RACE", "amount": amounts[i]}, headers=counter.cashier))

    results = run_together(app, len(amounts), create)
    assert Tally(status for status, _ in results) == {201: 1, 409: len(amounts) - 1}, results
    winner = next(i for i, (s, _) in enumerate(results) if s == 201)
    assert all(b["code"] == "receipt_already_has_claim" and b["details"]["amount"] == f"{amounts[winner]}.00"
               for s, b in results if s == 409)
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ClaimCode)) == 1
