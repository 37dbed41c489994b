"""A pre-member taken over at joining while the counter keeps awarding it, on PostgreSQL: every award
lands exactly once, on the member (before the merge: moved with the ledger; racing it: refused
member_merged and retried by the old number, which names the member now)."""
from __future__ import annotations

from sqlalchemy import func, select

from models.ledger import Award, LedgerEntry
from models.member import Member
from models.premember import Premember
from tests.conftest import LineActions, all_text
from tests.test_ledger_concurrency_pg import run_together

PHONE = "0987654321"
AWARDERS, EACH = 8, 4


def test_merge_at_joining_while_awards_run_loses_and_doubles_nothing(pg_only, app, db, client, counter, line, fake_line):
    counter.rule(amount_per_point="10", stamps_per_visit=1, card_size=50)
    made = client.post("/api/v1/premembers", json={"phone": PHONE}, headers=counter.cashier).get_json()
    old_no = made["member"]["member_no"]
    assert counter.award(old_no, "BEFORE", amount=100, visit=True).status_code == 201
    user = line.user("小華")
    line.follow(user)
    line.tap(user, "action=join")
    line.tap(user, "action=join_step&v=yes")
    line.tap(user, "action=join_step", {"date": line.birthday.isoformat()})
    line.say(user, PHONE)
    line.say(user, made["claim_code"])
    assert "性別" in all_text(line.last(user))
    refused = []

    def work(i, c):  # type: ignore[no-untyped-def]
        if i == AWARDERS:  # the member's last answer: joining ends, the pre-member is taken over
            LineActions(c, fake_line, birthday=line.birthday).tap(user, "action=join_step&v=female")
            return "joined"
        for k in range(EACH):
            body = {"member_no": old_no, "receipt_id": f"R{i}-{k}", "amount": 50, "visit": True}
            for _ in range(3):
                resp = c.post("/api/v1/awards", json=body, headers=counter.cashier)
                if resp.status_code == 409 and resp.get_json()["code"] == "member_merged":
                    refused.append(body["receipt_id"])
                    continue
                assert resp.status_code == 201, resp.get_json()
                break
        return "awarded"

    assert sorted(run_together(app, AWARDERS + 1, work)) == ["awarded"] * AWARDERS + ["joined"]
    assert "已將門市的集點紀錄轉入" in all_text(line.replies(user))
    with db.sessions() as s:
        member = s.scalars(select(Member).where(Member.line_user_id == user)).one()
        pre = s.scalars(select(Member).where(Member.member_no == old_no)).one()
        assert s.get(Premember, pre.id).merged_into_id == member.id
        awards = AWARDERS * EACH + 1
        assert s.scalar(select(func.count()).select_from(Award)) == awards
        assert s.scalar(select(func.count()).select_from(Award).where(Award.member_id == member.id)) == awards
        assert s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.member_id == pre.id)) == 0
        points = s.scalar(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.member_id == member.id, LedgerEntry.currency == "point"))
        stamps = s.scalar(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.member_id == member.id, LedgerEntry.currency == "stamp"))
    assert (points, stamps) == (10 + 5 * AWARDERS * EACH, awards)
