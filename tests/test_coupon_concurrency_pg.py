"""Coupons under real concurrent requests on PostgreSQL: one redemption per coupon, stock never oversold."""
from __future__ import annotations

import re
from datetime import date

from sqlalchemy import func, select

from models.coupon import Coupon, CouponTemplate
from models.member import complete_join, ensure_member
from tests.conftest import all_text
from tests.test_concurrency_pg import run_together


def members(db, clock, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    numbers = []
    with db.transaction() as s:
        for i in range(n):
            m = ensure_member(s, f"U{i:032x}", now=clock.now)
            complete_join(s, m, now=clock.now, birthday_on=date(1990, 1, 1), terms_version="t", consented_at=clock.now, phone=None, gender=None)
            numbers.append(m.member_no)
    return numbers


def test_two_counters_redeem_one_coupon_once(pg_only, app, client, counter, line, make_member):
    tpl = client.post("/api/v1/admin/coupon-templates", json={"name": "折 30", "kind": "amount_off", "value": 30, "valid_days": 7}, headers=counter.admin).get_json()
    user, number = make_member()
    client.post(f"/api/v1/admin/coupon-templates/{tpl['id']}/issue", json={"member_no": number}, headers=counter.admin)
    line.say(user, "我的優惠券")
    token = re.search(r"/qr/coupon/([^\"]+)\.png", all_text(line.last(user))).group(1)
    clients = [app.test_client() for _ in range(8)]

    def scan(i: int) -> tuple[int, str | None]:
        resp = clients[i].post("/api/v1/coupons/redeem", json={"token": token, "amount": 100}, headers=counter.cashier)
        return resp.status_code, resp.get_json().get("code")

    results = run_together(8, scan)
    assert sorted(r[0] for r in results) == [200] + [409] * 7, results
    assert {r[1] for r in results if r[0] == 409} == {"coupon_already_redeemed"}


def test_stock_of_100_with_150_concurrent_claims_issues_100(pg_only, app, client, counter, db, clock):
    tpl = client.post(
        "/api/v1/admin/coupon-templates",
        json={"name": "限量 100 份", "kind": "free_item", "item_name": "司康", "valid_days": 7, "total_stock": 100},
        headers=counter.admin,
    ).get_json()
    numbers = members(db, clock, 150)
    clients = [app.test_client() for _ in range(150)]

    def claim(i: int) -> int:
        resp = clients[i].post(f"/api/v1/admin/coupon-templates/{tpl['id']}/issue", json={"member_no": numbers[i]}, headers=counter.admin)
        return resp.status_code

    statuses = run_together(150, claim)
    assert statuses.count(201) == 100 and statuses.count(422) == 50, statuses
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Coupon)) == 100
        assert s.get(CouponTemplate, tpl["id"]).issued_count == 100


def test_one_member_claiming_at_once_respects_the_per_member_limit(pg_only, app, client, counter, db, clock):
    tpl = client.post(
        "/api/v1/admin/coupon-templates",
        json={"name": "每人一張", "kind": "amount_off", "value": 20, "valid_days": 7, "per_member_limit": 1},
        headers=counter.admin,
    ).get_json()
    (number,) = members(db, clock, 1)
    clients = [app.test_client() for _ in range(10)]

    def claim(i: int) -> int:
        return clients[i].post(f"/api/v1/admin/coupon-templates/{tpl['id']}/issue", json={"member_no": number}, headers=counter.admin).status_code

    statuses = run_together(10, claim)
    assert statuses.count(201) == 1 and statuses.count(422) == 9, statuses
