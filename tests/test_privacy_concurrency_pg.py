"""Erasure while the counters award the same member, with real concurrent requests on PostgreSQL:
every award either lands before the erasure (and stays, with its ledger entries) or is refused
(member_erased) and leaves nothing; the totals are those of the awards that landed."""
from __future__ import annotations

from sqlalchemy import func, select

from models.admin import AuditLog
from models.ledger import Award, LedgerEntry
from models.member import Member
from tests.conftest import ADMIN_TOKEN
from tests.test_concurrency_pg import run_together

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
AWARDS = 8


def test_erase_while_awards_run_loses_nothing_and_lets_nothing_in(pg_only, app, counter, make_member, db, fake_line):
    counter.rule(amount_per_point="10", stamps_per_visit=1)
    bystander_user, bystander = make_member("旁人")
    assert counter.award(bystander, "B-1", amount=500, visit=True).status_code == 201
    for round_no in range(3):
        _, number = make_member(f"同時{round_no}")
        assert counter.award(number, f"R{round_no}-first", amount=100, visit=True).status_code == 201
        clients = [app.test_client() for _ in range(AWARDS + 1)]

        def act(i: int):  # type: ignore[no-untyped-def]
            if i == AWARDS:
                return clients[i].post(f"/api/v1/admin/members/{number}/erase", json={"reason": "臨櫃申請"}, headers=ADMIN)
            body = {"member_no": number, "receipt_id": f"R{round_no}-{i}", "amount": 200, "visit": True}
            return clients[i].post("/api/v1/awards", json=body, headers=counter.cashier)

        answers = run_together(AWARDS + 1, act)
        erase, awards = answers[-1], answers[:-1]
        assert erase.status_code == 200 and erase.get_json()["erased"] is True
        assert {a.status_code for a in awards} <= {201, 410}, [a.get_json() for a in awards]
        landed = {f"R{round_no}-{i}" for i, a in enumerate(awards) if a.status_code == 201}
        assert all(a.get_json()["code"] == "member_erased" for a in awards if a.status_code == 410)
        with db.sessions() as s:
            member = s.scalars(select(Member).where(Member.member_no == number)).one()
            assert member.erased_at is not None and member.line_user_id.startswith("erased:")
            receipts = set(s.scalars(select(Award.receipt_id).where(Award.member_id == member.id)))
            assert receipts == landed | {f"R{round_no}-first"}  # a refused award left no row
            sums = dict(s.execute(select(LedgerEntry.currency, func.sum(LedgerEntry.amount))
                                  .where(LedgerEntry.member_id == member.id).group_by(LedgerEntry.currency)).all())
            assert sums == {"stamp": len(receipts), "point": 10 + 20 * len(landed)}
            frozen = s.scalars(select(AuditLog.details).where(AuditLog.action == "member.erase").order_by(AuditLog.id.desc())).first()
            assert frozen["balances"] == sums  # what the erasure saw under the lock: every award that landed came before it
            assert s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.receipt_id.in_(
                [f"R{round_no}-{i}" for i in range(AWARDS)]))) == 2 * len(landed)
    with db.sessions() as s:
        bystander_id = s.scalar(select(Member.id).where(Member.member_no == bystander))
        assert s.scalar(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.member_id == bystander_id)) == 51
        revenue = s.scalar(select(func.sum(Award.amount)))
    dashboard = app.test_client().get("/api/v1/admin/dashboard", headers=ADMIN).get_json()
    assert str(dashboard["revenue"]).split(".")[0] == str(revenue).split(".")[0]


def test_erase_in_chat_while_awards_run(pg_only, app, line, counter, make_member, db, fake_line):
    """The chat's erasure runs in the webhook's transaction, which already holds the member's lock."""
    from bot.dev import lineevents as ev
    from tests.test_privacy import postback_of

    counter.rule(amount_per_point="10", stamps_per_visit=1)
    outcomes = []
    for round_no in range(6):
        user, number = make_member(f"聊天{round_no}")
        line.say(user, "刪除會員資料")
        line.tap(user, postback_of(line.last(user), "確定刪除"))
        final = ev.postback_event(user, postback_of(line.last(user), "永久刪除"))
        line.fake.register_reply_token(final["replyToken"], user)
        body = ev.payload(final)
        clients = [app.test_client() for _ in range(AWARDS + 1)]

        def act(i: int):  # type: ignore[no-untyped-def]
            if i == AWARDS:
                return clients[i].post("/callback", data=body, headers={"X-Line-Signature": ev.sign("test-channel-secret", body)})
            return clients[i].post("/api/v1/awards", json={"member_no": number, "receipt_id": f"C{round_no}-{i}", "visit": True},
                                   headers=counter.cashier)

        answers = run_together(AWARDS + 1, act)
        outcomes.append([a.status_code for a in answers])
        assert answers[-1].status_code == 200
        assert {a.status_code for a in answers[:-1]} <= {201, 410}, outcomes
        with db.sessions() as s:
            member = s.scalars(select(Member).where(Member.member_no == number)).one()
            assert member.erased_at is not None
            landed = {f"C{round_no}-{i}" for i, a in enumerate(answers[:-1]) if a.status_code == 201}
            assert set(s.scalars(select(Award.receipt_id).where(Award.member_id == member.id))) == landed
            frozen = s.scalars(select(AuditLog.details).where(AuditLog.action == "member.erase").order_by(AuditLog.id.desc())).first()
            assert frozen["balances"]["stamp"] == len(landed)
