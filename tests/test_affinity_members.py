"""Line items follow their member: a pre-member's move to the LINE member who takes it over, an
erased member's stay (anonymous, like their awards) and are in the member's copy of their data."""
from __future__ import annotations

from sqlalchemy import func, select

from models.affinity import products_bought, rebuild_affinity
from models.ledger import Award
from models.member import Member
from models.product import AwardItem
from models.segment_rules import members_query
from tests.conftest import ADMIN_TOKEN, all_text
from tests.purchase_data import Shop, add_items, add_products
from tests.test_phone_premembers import OTHER, join_until_phone, premember

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_taking_over_a_premember_moves_its_line_items(client, counter, line, db, clock):
    made = premember(client, counter).get_json()
    code, old_no = made["claim_code"], made["member"]["member_no"]
    assert counter.award(old_no, "P1", amount=160, visit=True).status_code == 201
    with db.transaction() as s:
        add_products(s, {"CROISSANT": ("可頌", "烘焙")}, now=clock.now)
        record = s.scalars(select(Award).where(Award.receipt_id == "P1")).one()
        add_items(s, record, [("CROISSANT", 2, "60.00"), ("X1", 1, "40.00")])
        pre_id = record.member_id

    user = line.user("小華")
    join_until_phone(line, user, OTHER)
    line.say(user, code)
    line.tap(user, "action=join_step&v=female")
    assert "已將門市的集點紀錄轉入" in all_text(line.replies(user))

    with db.sessions() as s:
        member = s.scalars(select(Member).where(Member.line_user_id == user)).one()
        assert s.scalar(select(func.count()).select_from(AwardItem).where(AwardItem.member_id == pre_id)) == 0
        assert [(i.sku, i.member_id) for i in s.scalars(select(AwardItem).order_by(AwardItem.line_no))] == [
            ("CROISSANT", member.id), ("X1", member.id)]
        assert [b.key for b in products_bought(s, member.id, now=clock.now)] == ["CROISSANT", "X1"]
        club = list(s.scalars(members_query(s, {"field": "bought_category", "op": "eq", "value": "烘焙"}, clock.now)))
        assert [m.id for m in club] == [member.id]


def test_an_erased_member_with_line_items_is_erased_and_the_items_stay_anonymous(client, db, clock):
    with db.transaction() as s:
        add_products(s, {"LATTE": ("拿鐵", "咖啡")}, now=clock.now)
        shop = Shop.open(s, clock.now)
        gone, kept = shop.member(1), shop.member(2)
        for m in (gone, kept):
            shop.buy(m.id, [("LATTE", 1, "120.00")], days_ago=3)
        number, gone_id = gone.member_no, gone.id
    export = client.get(f"/api/v1/admin/members/{number}/export", headers=ADMIN).get_json()
    assert [(p["sku"], p["name"], p["category"], p["qty"], p["unit_price"], p["line_total"], p["receipt_id"]) for p in export["purchases"]] == [
        ("LATTE", "拿鐵", "咖啡", 1, "120.00", "120.00", "R00001")]
    done = client.post(f"/api/v1/admin/members/{number}/erase", json={"reason": "本人申請"}, headers=ADMIN)
    assert done.status_code == 200, done.get_json()
    with db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(AwardItem).where(AwardItem.member_id == gone_id)) == 1  # kept, belonging to nobody
        assert rebuild_affinity(s, now=clock.now, min_members=1) == {"sku": 0, "category": 0}  # one SKU: no pairs, and no error
        club = {m.id for m in s.scalars(members_query(s, {"field": "bought_sku", "op": "eq", "value": "LATTE"}, clock.now))}
        assert gone_id not in club and len(club) == 1  # erased members are in no segment
