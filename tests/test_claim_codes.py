"""Receipt claim codes answer a reused receipt id as awards do: the same purchase again is a retry
and gets the original code; anything else, or a receipt already awarded at the counter, is refused.
A code is made only for what an award takes, and a receipt awarded at the counter uses its printed
code up: scanned later, even at the same moment, it awards nothing and says why."""
from __future__ import annotations

from collections import Counter as Tally
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models.claim import ClaimCode
from models.ledger import LedgerEntry
from models.store import Store
from tests.conftest import Counter, all_text
from tests.test_ledger_concurrency_pg import JOIN_TIMEOUT, answer, run_together


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


# --- amounts no award could take ---------------------------------------------------------------

def stored_code(db, clock, receipt_id: str, *, amount, visit: bool = False, code: str = "ABCDEFGH") -> str:  # type: ignore[no-untyped-def]
    """A code stored straight into the table, as older releases could make it (a code for an amount
    above the award limit) or as a code made at the moment its receipt was awarded at the counter."""
    with db.transaction() as s:
        store_id = s.scalar(select(Store.id).where(Store.code == "TPE01"))
        s.add(ClaimCode(code=code, store_id=store_id, receipt_id=receipt_id, amount=None if amount is None else Decimal(amount),
                        visit=visit, actor_kind="staff", created_at=clock.now, expires_at=clock.now + timedelta(days=3)))
    return f"{code[:4]}-{code[4:]}"


def test_a_code_is_refused_for_an_amount_no_award_could_take(client, counter, make_member, db):
    """One rule for both: a code is made for exactly the amounts an award takes, and refused alike."""
    _, number = make_member()
    for amount in ("10000000.01", 10_000_001, "99999999"):
        made = claim(client, counter, f"R-BIG-{amount}", amount=amount)
        awarded = counter.award(number, f"R-BIG-{amount}", amount=amount)
        assert made.status_code == awarded.status_code == 422, (amount, made.get_json())
        assert made.get_json() == awarded.get_json()  # the same code, message and details
        body = made.get_json()
        assert body["code"] == "invalid_amount" and "10,000,000" in body["message"]
        assert body["details"] == {"field": "amount", "max": "10000000"}
    assert codes(db) == []
    assert claim(client, counter, "R-LIMIT", amount=10_000_000).status_code == 201  # the limit itself is an amount
    assert counter.award(number, "R-LIMIT-2", amount=10_000_000).status_code == 201


def test_a_code_no_award_could_take_gets_its_own_reply_in_chat(counter, line, make_member, db, clock):
    """A code made before creation checked the limit: the member is told what is wrong, not 'try again later'."""
    user, _ = make_member()
    code = stored_code(db, clock, "R-OLD-BIG", amount="20000000")
    line.say(user, f"領取 {code}")
    reply = all_text(line.last(user))
    assert "金額" in reply and "門市" in reply, reply
    assert "系統忙碌中" not in reply
    nothing = stored_code(db, clock, "R-OLD-EMPTY", amount=None, code="BCDEFGHJ")  # no amount and no visit
    line.say(user, f"領取 {nothing}")
    reply = all_text(line.last(user))
    assert "門市" in reply and "系統忙碌中" not in reply, reply
    with db.sessions() as s:
        assert s.scalars(select(LedgerEntry)).all() == []
        assert all(c.claimed_at is None for c in s.scalars(select(ClaimCode)))  # refused, not used up


def test_the_document_gives_the_amount_limit(client):
    doc = client.get("/openapi.json").get_json()
    for path in ("/api/v1/claims", "/api/v1/awards"):
        refusals = doc["paths"][path]["post"]["responses"]["422"]
        assert "invalid_amount" in refusals["description"] and "10,000,000" in refusals["description"], path
    schemas = doc["components"]["schemas"]
    claim_amount, award_amount = schemas["ClaimRequest"]["properties"]["amount"], schemas["AwardRequest"]["allOf"][1]["properties"]["amount"]
    assert claim_amount == award_amount
    assert {"type": "integer", "minimum": 0, "maximum": 10_000_000} in claim_amount["oneOf"]


# --- a receipt with a printed code, awarded at the counter ------------------------------------

def replies(fake_line, user: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [all_text(d["messages"]) for d in fake_line.messages_to(user) if d["kind"] == "reply"]


def test_a_counter_award_uses_up_the_receipts_printed_code(client, counter, line, make_member, db, fake_line):
    """The cashier scans the card for a receipt whose code was printed: the award is made as usual and
    the code is used up by it. Whoever scans the code later is told the receipt was awarded at the counter."""
    user, number = make_member("櫃檯")
    other, _ = make_member("別人")
    counter.rule(amount_per_point="10", stamps_per_visit=1)
    printed = claim(client, counter, "R-10", amount=300, visit=True).get_json()
    awarded = counter.award(number, "R-10", amount=300, visit=True)
    assert awarded.status_code == 201 and awarded.get_json()["award"]["replayed"] is False
    pushes = len([d for d in fake_line.messages_to(user) if d["kind"] == "push"])
    retry = claim(client, counter, "R-10", amount=300, visit=True)  # the POS asks again: the code is used
    assert retry.status_code == 200 and retry.get_json()["code"] == printed["code"] and retry.get_json()["claimed"] is True
    line.say(user, f"領取 {printed['code']}")
    assert "已在櫃檯集點" in replies(fake_line, user)[-1] and "您的帳戶" in replies(fake_line, user)[-1]
    line.say(other, f"領取 {printed['code']}")
    assert "已在櫃檯集點" in replies(fake_line, other)[-1] and "您的帳戶" not in replies(fake_line, other)[-1]
    assert len([d for d in fake_line.messages_to(user) if d["kind"] == "push"]) == pushes  # nothing new to tell
    with db.sessions() as s:
        assert sorted(s.scalars(select(LedgerEntry.amount))) == [1, 30]  # one award
        used = s.scalars(select(ClaimCode)).one()
        assert used.claimed_at is not None and used.member_id is not None
    again = counter.award(number, "R-10", amount=300, visit=True)  # the cashier's retry is still a retry
    assert again.status_code == 200 and again.get_json()["award"]["replayed"] is True


def test_a_counter_award_for_another_purchase_than_the_printed_code_is_refused(client, counter, line, make_member, db, fake_line):
    """A receipt id names one purchase, whether its code or its award came first."""
    user, number = make_member()
    counter.rule(amount_per_point="10", stamps_per_visit=1)
    printed = claim(client, counter, "R-11", amount=300, visit=True).get_json()
    for changed in ({"amount": 310, "visit": True}, {"amount": 300}, {"visit": True}):
        resp = counter.award(number, "R-11", **changed)
        assert resp.status_code == 409, (changed, resp.get_json())
        assert resp.get_json()["code"] == "receipt_already_has_claim"
        assert resp.get_json()["details"] == {"amount": "300.00", "visit": True}
    with db.sessions() as s:
        assert s.scalars(select(LedgerEntry)).all() == []
    line.say(user, f"領取 {printed['code']}")  # the code still works
    assert "收據集點完成" in replies(fake_line, user)[-1]


def test_an_open_code_of_a_receipt_awarded_at_the_counter_never_replays_the_award(client, counter, line, make_member, db, clock, fake_line):
    """A code left open although its receipt was awarded at the counter (made by an older release, or
    made at the very moment of the award) is answered the same way, and awards nothing."""
    user, number = make_member("櫃檯")
    other, _ = make_member("別人")
    counter.rule(amount_per_point="10", stamps_per_visit=0)
    assert counter.award(number, "R-12", amount=100).status_code == 201
    code = stored_code(db, clock, "R-12", amount="100")
    line.say(user, f"領取 {code}")  # the same member: was a replay answered as 收據集點完成
    assert "已在櫃檯集點" in replies(fake_line, user)[-1] and "收據集點完成" not in replies(fake_line, user)[-1]
    line.say(other, f"領取 {code}")  # anyone else
    assert "已在櫃檯集點" in replies(fake_line, other)[-1]
    with db.sessions() as s:
        assert s.scalars(select(LedgerEntry.amount)).all() == [10]


def test_a_counter_award_and_the_codes_redemption_at_once_award_once(pg_only, app, client, counter, make_member, db, fake_line):
    """The cashier awards the receipt while a member scans its code, at the same moment: exactly one of
    them awards it, the other is answered with that (and nothing deadlocks). Half the rounds the member
    at the counter is the one scanning, whose chat transaction holds the member's row lock."""
    from bot.dev import lineevents as ev
    from models.ledger import Award
    from tests.conftest import CHANNEL_SECRET

    at_counter, number = make_member("櫃檯")
    scanner, _ = make_member("掃碼")
    counter.rule(amount_per_point="10", stamps_per_visit=0)
    outcomes = Tally()
    for r in range(10):
        user = at_counter if r % 2 else scanner
        receipt = f"R-BOTH-{r}"
        code = claim(client, counter, receipt, amount=100).get_json()["code"]
        event = ev.text_event(user, f"領取 {code}")
        fake_line.register_reply_token(event["replyToken"], user)
        body = ev.payload(event)
        before = len(replies(fake_line, user))

        def act(i: int, c):  # type: ignore[no-untyped-def]
            if i == 0:
                return answer(c.post("/api/v1/awards", json={"member_no": number, "receipt_id": receipt, "amount": 100}, headers=counter.cashier))
            return c.post("/callback", data=body, headers={"Content-Type": "application/json", "X-Line-Signature": ev.sign(CHANNEL_SECRET, body)}).status_code

        (status, award_body), callback = run_together(app, 2, act)
        assert callback == 200
        [reply] = replies(fake_line, user)[before:]
        with db.sessions() as s:
            [award_row] = s.scalars(select(Award).where(Award.receipt_id == receipt)).all()
            points = s.scalars(select(LedgerEntry.amount).where(LedgerEntry.receipt_id == receipt)).all()
            used = s.scalars(select(ClaimCode).where(ClaimCode.receipt_id == receipt)).one()
        assert points == [10], (r, points)  # awarded once
        assert used.claimed_at is not None and used.member_id == award_row.member_id
        if status == 201:  # the counter first: the scan is told so
            assert award_row.actor_kind == "staff" and "已在櫃檯集點" in reply, (r, reply)
            outcomes["counter"] += 1
        else:  # the code first: the counter's award is a retry of it (the same member) or refused
            assert award_row.actor_kind == "member" and "收據集點完成" in reply, (r, status, award_body, reply)
            assert (status, award_body.get("code")) in ((200, None), (409, "receipt_already_awarded")), (r, status, award_body)
            assert (status == 200) == (user == at_counter)
            outcomes["code"] += 1
    assert sum(outcomes.values()) == 10, outcomes


@pytest.mark.parametrize("same_member", [True, False], ids=["same member", "other member"])
@pytest.mark.parametrize("first", ["counter", "code"])
def test_whichever_comes_first_the_other_waits_for_it_and_is_told(pg_only, app, client, counter, make_member, db, clock, fake_line, first, same_member):
    """Both orders, made certain: one side's transaction is left open (after its award) while the other
    side's request runs; the request waits for it rather than deadlock or award, then answers with it."""
    import threading

    from bot.dev import lineevents as ev
    from models.claim import award_at_counter, redeem_claim
    from models.ledger import Award, lock_member
    from models.member import Member
    from models.store import Actor, Staff
    from tests.conftest import CHANNEL_SECRET, ServerLikeClient

    counter.rule(amount_per_point="10", stamps_per_visit=0)
    at_counter, number = make_member("櫃檯")
    scanner = at_counter if same_member else make_member("掃碼")[0]
    code = claim(client, counter, "R-FIRST", amount=100).get_json()["code"]
    with db.sessions() as s:
        card = s.scalars(select(Member).where(Member.member_no == number)).one()
        scanning = s.scalars(select(Member).where(Member.line_user_id == scanner)).one()
        cashier = s.scalars(select(Staff).where(Staff.role == "cashier")).one()
        actor = Actor(store_id=cashier.store_id, kind="staff", staff_id=cashier.id)
    done: dict = {}
    app.test_client_class = ServerLikeClient
    other_client = app.test_client()

    def counter_request() -> None:
        body = {"member_no": number, "receipt_id": "R-FIRST", "amount": 100}
        done["award"] = answer(other_client.post("/api/v1/awards", json=body, headers=counter.cashier))

    def chat_request() -> None:
        event = ev.text_event(scanner, f"領取 {code}")
        fake_line.register_reply_token(event["replyToken"], scanner)
        body = ev.payload(event)
        headers = {"Content-Type": "application/json", "X-Line-Signature": ev.sign(CHANNEL_SECRET, body)}
        done["callback"] = other_client.post("/callback", data=body, headers=headers).status_code

    holder = db.sessions()
    try:
        if first == "counter":  # the cashier's award, not committed yet
            award_at_counter(holder, member=holder.get(Member, card.id), receipt_id="R-FIRST", amount=Decimal(100), visit=False,
                             actor=actor, now=clock.now)
            second = threading.Thread(target=chat_request, daemon=True)
        else:  # the member's claim in chat, as the webhook runs it (the sender's row locked first), not committed yet
            redeem_claim(holder, raw_code=code, member=lock_member(holder, scanning.id), now=clock.now)
            second = threading.Thread(target=counter_request, daemon=True)
        second.start()
        second.join(timeout=1)
        assert second.is_alive(), f"the second side did not wait for the first: {done}"
        holder.commit()
    finally:
        holder.close()
    second.join(timeout=JOIN_TIMEOUT)
    assert not second.is_alive(), "the second side hung"
    with db.sessions() as s:
        [award_row] = s.scalars(select(Award)).all()
        assert s.scalars(select(LedgerEntry.amount)).all() == [10]
        used = s.scalars(select(ClaimCode)).one()
    assert used.claimed_at is not None and used.member_id == award_row.member_id
    if first == "counter":
        assert done["callback"] == 200 and award_row.member_id == card.id
        reply = replies(fake_line, scanner)[-1]
        assert "已在櫃檯集點" in reply and ("您的帳戶" in reply) == same_member, reply
    else:
        assert award_row.member_id == scanning.id
        status, body = done["award"]
        if same_member:
            assert status == 200 and body["award"]["replayed"] is True, body
        else:
            assert status == 409 and body["code"] == "receipt_already_awarded", body
