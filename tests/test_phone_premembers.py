"""Phone at the counter, and pre-members who later join in LINE (issue 17, first slices)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from models.ledger import LedgerEntry
from models.member import Member
from models.premember import PhoneLookup, Premember
from tests.conftest import all_text

PHONE = "0912345678"
OTHER = "0987654321"


def scan(client, counter, headers=None, **body):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/scan", json=body, headers=headers or counter.cashier)


def premember(client, counter, phone=OTHER, headers=None):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/premembers", json={"phone": phone}, headers=headers or counter.cashier)


def lookups(db) -> list[PhoneLookup]:  # type: ignore[no-untyped-def]
    with db.sessions() as s:
        return list(s.scalars(select(PhoneLookup).order_by(PhoneLookup.id)))


def join_until_phone(line, user, phone):  # type: ignore[no-untyped-def]
    line.follow(user)
    line.tap(user, "action=join")
    line.tap(user, "action=join_step&v=yes")
    line.tap(user, "action=join_step", {"date": line.birthday.isoformat()})
    line.say(user, phone)


# --- look-ups by phone --------------------------------------------------------------------

def test_scan_by_phone_in_any_written_form_finds_the_member_and_is_audited(client, counter, make_member, db):
    _, number = make_member()
    for form in ({"phone": "+886 912-345-678"}, {"phone": PHONE}, {"member_no": PHONE}, {"member_no": "+886912345678"}):
        resp = scan(client, counter, **form)
        assert resp.status_code == 200, (form, resp.get_json())
        assert resp.get_json()["member_no"] == number and resp.get_json()["in_line"] is True
    rows = lookups(db)
    assert [r.outcome for r in rows] == ["found"] * 4
    assert all(r.phone_masked == "0912****78" and PHONE not in r.phone_hash for r in rows)
    assert len({r.phone_hash for r in rows}) == 1  # one keyed hash: "who looked this number up" can be answered


def test_a_phone_nobody_or_several_gave_gets_a_clear_answer(client, counter, make_member, db):
    make_member("甲")
    resp = scan(client, counter, phone=OTHER)
    assert (resp.status_code, resp.get_json()["code"]) == (404, "member_not_found")
    make_member("乙")  # the same phone as 甲 (the join helper's)
    resp = scan(client, counter, phone=PHONE)
    assert (resp.status_code, resp.get_json()["code"]) == (409, "phone_ambiguous")
    assert resp.get_json()["details"]["matches"] == 2
    resp = scan(client, counter, phone="12345")
    assert (resp.status_code, resp.get_json()["code"]) == (422, "invalid_phone")
    assert [r.outcome for r in lookups(db)] == ["member_not_found", "phone_ambiguous"]  # refusals are audited too


def test_phone_lookups_are_limited_per_staff_account_and_per_store(client, counter, make_member, monkeypatch):
    import bot.api.cashier as cashier_api

    _, number = make_member()
    monkeypatch.setattr(cashier_api, "PHONE_STAFF_LIMIT", 3)
    monkeypatch.setattr(cashier_api, "PHONE_STORE_LIMIT", 5)
    assert [scan(client, counter, phone=PHONE).status_code for _ in range(3)] == [200, 200, 200]
    refused = scan(client, counter, phone=PHONE)
    assert (refused.status_code, refused.get_json()["code"]) == (429, "too_many_lookups")
    assert refused.get_json()["details"]["retry_after_seconds"] > 0
    # the manager of the same store has their own count, but the store's is nearly used up
    assert [scan(client, counter, headers=counter.manager, phone=PHONE).status_code for _ in range(3)] == [200, 200, 429]
    # a member number typed by hand is not a phone look-up
    assert scan(client, counter, member_no=number).status_code == 200


def test_earning_by_phone_is_recorded_and_spending_by_phone_waits_for_the_member(client, counter, make_member, db, fake_line):
    user, _ = make_member()
    counter.rule(amount_per_point="10", stamps_per_visit=1)
    resp = client.post("/api/v1/awards", json={"phone": PHONE, "receipt_id": "R1", "amount": 500, "visit": True}, headers=counter.cashier)
    assert resp.status_code == 201, resp.get_json()
    with db.sessions() as s:
        assert set(s.scalars(select(LedgerEntry.identified_by))) == {"phone"}
    reward = client.post("/api/v1/admin/rewards", json={"name": "拿鐵", "points_cost": 10}, headers=counter.admin).get_json()
    resp = client.post("/api/v1/redemptions", json={"phone": PHONE, "reward_id": reward["id"], "request_id": "Q1"}, headers=counter.cashier)
    assert (resp.status_code, resp.get_json()["code"]) == (409, "confirmation_required")
    assert "確認" in all_text(line_last(fake_line, user))


def line_last(fake_line, user):  # type: ignore[no-untyped-def]
    return fake_line.messages_to(user)[-1]["messages"]


# --- pre-members -----------------------------------------------------------------------------

def test_a_premember_collects_by_phone_cannot_spend_and_gets_a_new_code_on_request(client, counter, make_member, db, fake_line):
    counter.rule(amount_per_point="10", stamps_per_visit=1)
    made = premember(client, counter)
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert re.fullmatch(r"\d{4}-\d{4}", body["claim_code"]) and body["created"] is True
    assert body["member"]["in_line"] is False
    number = body["member"]["member_no"]
    assert client.post("/api/v1/awards", json={"phone": OTHER, "receipt_id": "P1", "amount": 300, "visit": True},
                       headers=counter.cashier).status_code == 201
    assert counter.award(number, "P2", amount=200, visit=True).status_code == 201
    assert scan(client, counter, phone=OTHER).get_json()["balances"] == {"stamps": 2, "points": 50}
    reward = client.post("/api/v1/admin/rewards", json={"name": "拿鐵", "points_cost": 10}, headers=counter.admin).get_json()
    resp = client.post("/api/v1/redemptions", json={"member_no": number, "reward_id": reward["id"], "request_id": "Q1"}, headers=counter.cashier)
    assert (resp.status_code, resp.get_json()["code"]) == (409, "premember_cannot_spend")
    again = premember(client, counter)
    assert again.status_code == 200 and again.get_json()["created"] is False
    assert again.get_json()["member"]["member_no"] == number and again.get_json()["claim_code"] != body["claim_code"]
    make_member()  # a LINE member who gave PHONE
    resp = premember(client, counter, phone=PHONE)
    assert (resp.status_code, resp.get_json()["code"]) == (409, "phone_in_use")
    assert [r.outcome for r in lookups(db) if r.purpose == "premember"] == ["created", "reissued", "phone_in_use"]
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Premember)) == 1
    assert not any(str((r.json or {}).get("to", "")).startswith("pre:") for r in fake_line.requests("/v2/bot/message/push"))


def test_joining_with_the_phone_and_the_claim_code_takes_the_premember_over_once(client, counter, line, db, fake_line):
    counter.rule(amount_per_point="10", stamps_per_visit=1)
    made = premember(client, counter).get_json()
    code, old_no = made["claim_code"], made["member"]["member_no"]
    for i in (1, 2):
        assert counter.award(old_no, f"P{i}", amount=300, visit=True).status_code == 201
    template = client.post("/api/v1/admin/coupon-templates", json={"name": "折 50 元", "kind": "amount_off", "value": 50, "valid_days": 30},
                           headers=counter.admin).get_json()
    assert client.post(f"/api/v1/admin/coupon-templates/{template['id']}/issue", json={"member_no": old_no},
                       headers=counter.admin).status_code in (200, 201)

    user = line.user("小華")
    join_until_phone(line, user, "+886-987-654-321")
    assert "認領碼" in all_text(line.last(user))
    line.say(user, "1111-1111" if code != "1111-1111" else "2222-2222")
    assert "不正確" in all_text(line.last(user))
    line.say(user, f"認領碼 {code.replace('-', ' ')}")  # however the member writes it
    line.tap(user, "action=join_step&v=female")
    assert "已將門市的集點紀錄轉入" in all_text(line.replies(user))

    with db.sessions() as s:
        member = s.scalars(select(Member).where(Member.line_user_id == user)).one()
        pre = s.scalars(select(Member).where(Member.member_no == old_no)).one()
        row = s.get(Premember, pre.id)
        assert member.joined_at is not None and member.phone == OTHER
        assert row.merged_into_id == member.id and row.phone is None and row.claim_code_hash is None
        assert pre.line_user_id.startswith("pre:") and pre.joined_at is None
        assert s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.member_id == pre.id)) == 0
        new_no = member.member_no
    summary = scan(client, counter, phone=OTHER).get_json()
    assert summary["member_no"] == new_no and summary["balances"] == {"stamps": 2, "points": 60}
    assert len(summary["coupons"]) >= 1
    assert scan(client, counter, member_no=old_no).get_json()["member_no"] == new_no  # the old number names the member now
    # an award by the old number after the merge lands on the member
    assert counter.award(old_no, "P3", amount=100).get_json()["member"]["balances"]["points"] == 70
    # exactly once: another LINE user with the same phone is not offered anything to claim
    other = line.user("小美")
    join_until_phone(line, other, OTHER)
    assert "認領碼" not in all_text(line.last(other))


def test_a_wrong_code_five_times_locks_the_claim_and_nothing_merges(client, counter, line, db):
    code = premember(client, counter).get_json()["claim_code"]
    user = line.user()
    join_until_phone(line, user, OTHER)
    wrong = "0000-0000" if code != "0000-0000" else "1111-1111"
    for _ in range(5):
        line.say(user, wrong)
    assert "不正確" in all_text(line.last(user))
    line.say(user, code)  # the right one, too late: locked for the hour
    assert "太多次" in all_text(line.last(user))
    line.tap(user, "action=join_step&v=__skip__")
    line.tap(user, "action=join_step&v=female")
    with db.sessions() as s:
        row = s.scalars(select(Premember)).one()
        assert row.merged_into_id is None and row.phone == OTHER
        assert s.scalars(select(Member).where(Member.line_user_id == user)).one().joined_at is not None


def test_a_premembers_phone_another_line_member_gave_is_refused_and_never_merges(client, counter, line, db):
    code = premember(client, counter).get_json()["claim_code"]
    first = line.user("甲")
    join_until_phone(line, first, OTHER)
    line.tap(first, "action=join_step&v=__skip__")  # joins without claiming
    line.tap(first, "action=join_step&v=female")
    second = line.user("乙")
    join_until_phone(line, second, OTHER)
    assert "已有其他 LINE 會員使用" in all_text(line.last(second))
    line.say(second, code)  # still at the phone step: a code is not a phone
    with db.sessions() as s:
        assert s.scalars(select(Premember)).one().merged_into_id is None


def test_a_code_replaced_before_joining_ends_merges_nothing(client, counter, line, db):
    code = premember(client, counter).get_json()["claim_code"]
    user = line.user()
    join_until_phone(line, user, OTHER)
    line.say(user, code)
    premember(client, counter)  # the cashier prints a new code meanwhile
    line.tap(user, "action=join_step&v=female")
    assert "這次沒有轉入" in all_text(line.replies(user))
    with db.sessions() as s:
        assert s.scalars(select(Premember)).one().merged_into_id is None


def test_an_award_on_a_taken_over_row_is_refused_not_lost(client, counter, line, db, clock):
    """What a racing award meets after the merge committed: lock_member refuses member_merged."""
    from models.errors import Conflict
    from models.ledger import award
    from models.rule import get_rule
    from models.store import Actor, Store

    made = premember(client, counter).get_json()
    user = line.user()
    join_until_phone(line, user, OTHER)
    line.say(user, made["claim_code"])
    line.tap(user, "action=join_step&v=female")
    with db.transaction() as s:
        pre = s.scalars(select(Member).where(Member.member_no == made["member"]["member_no"])).one()
        store = s.scalars(select(Store)).one()
        with pytest.raises(Conflict) as refused:
            award(s, member_id=pre.id, receipt_id="LATE", amount=None, visit=True, actor=Actor(store_id=store.id, kind="staff"),
                  rule=get_rule(s), now=clock.now)
        assert refused.value.code == "member_merged"


# --- dashboard and segments ------------------------------------------------------------------

def test_dashboard_counts_premembers_apart_and_segments_select_them(client, counter, make_member):
    make_member()
    premember(client, counter)
    members = client.get("/api/v1/admin/dashboard", headers=counter.admin).get_json()["members"]
    assert (members["total"], members["premembers"], members["in_line"], members["friends"], members["reachable"]) == (2, 1, 1, 1, 1)
    pre = client.post("/api/v1/admin/segments/preview", json={"rule": {"field": "in_line", "op": "eq", "value": False}}, headers=counter.admin)
    assert pre.status_code == 200 and pre.get_json()["count"] == 1
    inl = client.post("/api/v1/admin/segments/preview", json={"rule": {"field": "in_line", "op": "eq", "value": True}}, headers=counter.admin)
    assert inl.get_json()["count"] == 1


@pytest.mark.parametrize("raw, phone", [
    ("0912345678", PHONE), ("0912-345-678", PHONE), ("+886 912 345 678", PHONE), ("886912345678", PHONE), ("(0912) 345678", PHONE),
    ("912345678", None), ("0212345678", None), ("09123456789", None), ("+8860912345678", None), ("", None),
])
def test_taiwan_mobiles_are_normalised(raw, phone):
    from models.premember import mask_phone, normalise_phone

    assert normalise_phone(raw) == phone
    assert mask_phone(PHONE) == "0912****78"
