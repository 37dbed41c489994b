"""Segments: RFM and NES on a hand-computed data set, the rule language, tags, export, scoped tokens."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest

from models.ledger import award
from models.member import complete_join, ensure_member
from models.rule import get_rule
from models.store import Actor, create_store

# name: (days ago of first visit, days ago of last visit, visits, total spend, birthday, gender)
PEOPLE = {
    "A": (200, 1, 5, 5000, date(1990, 3, 1), "female"),
    "B": (300, 100, 4, 4000, date(1985, 7, 9), "male"),
    "C": (10, 10, 1, 3000, date(2000, 3, 15), "female"),
    "D": (120, 50, 3, 100, date(1970, 12, 31), "other"),
    "E": (330, 300, 2, 2000, date(1995, 1, 20), "male"),
}
F_BORN = date(1999, 3, 3)  # F never bought
# R orders by last visit, F by visits, M by spend (quintiles of 5 members: 1..5)
EXPECTED = {
    "A": (5, 5, 5, "重要價值", "E0"),
    "B": (2, 4, 4, "重要保持", "S3"),
    "C": (4, 1, 3, "重要發展", "N"),
    "D": (3, 3, 1, "一般價值", "S1"),
    "E": (1, 2, 2, "一般挽留", "S3"),
}


def aged(clock, low: int, high: int) -> set[str]:
    """Who is between ``low`` and ``high`` years old on the clock's day (F too), counted by hand."""
    today = clock.today()
    born = {name: p[4] for name, p in PEOPLE.items()} | {"F": F_BORN}
    return {n for n, b in born.items() if low <= today.year - b.year - ((today.month, today.day) < (b.month, b.day)) <= high}


@pytest.fixture
def people(db, clock):  # type: ignore[no-untyped-def]
    """Five members with purchase histories, and one who never bought (F)."""
    numbers = {}
    with db.transaction() as s:
        store = create_store(s, code="SEG", name="分群店", now=clock.now)
        actor = Actor(store_id=store.id, kind="system")
        rule = get_rule(s)
        for i, (name, (first, last, visits, spend, born, gender)) in enumerate({**PEOPLE, "F": (0, 0, 0, 0, F_BORN, "female")}.items()):
            m = ensure_member(s, f"U{i:032x}", now=clock.now - timedelta(days=400))
            m.display_name = f"會員{name}"
            complete_join(s, m, now=clock.now - timedelta(days=400), birthday_on=born, terms_version="t", consented_at=clock.now, phone=f"09{i:08d}", gender=gender)
            numbers[name] = m.member_no
            for v in range(visits):
                days_ago = first - (first - last) * v / max(1, visits - 1) if visits > 1 else last
                award(s, member_id=m.id, receipt_id=f"{name}-{v}", amount=Decimal(spend) / visits, visit=True, actor=actor, rule=rule,
                      now=clock.now - timedelta(days=days_ago))
    return numbers


def recompute(client, counter):  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/admin/segments/recompute", headers=counter.admin)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_rfm_and_nes_match_the_hand_computed_values(client, counter, people):
    body = recompute(client, counter)
    assert body["members_scored"] == 5
    for name, (r, f, m, cls, nes) in EXPECTED.items():
        seg = client.get(f"/api/v1/admin/members/{people[name]}", headers=counter.admin).get_json()["segments"]
        assert (seg["rfm"]["r"], seg["rfm"]["f"], seg["rfm"]["m"], seg["rfm"]["class"], seg["nes"]) == (r, f, m, cls, nes), name
    assert client.get(f"/api/v1/admin/members/{people['F']}", headers=counter.admin).get_json()["segments"] is None
    assert body["nes"] == {"N": 1, "E0": 1, "S1": 1, "S2": 0, "S3": 2}


def test_nes_follows_the_brands_purchase_cycle(app, client, counter, people):
    from models.segment import compute_stats, nes_funnel

    svc = app.extensions["loyalty"]
    with svc.db.transaction() as s:
        compute_stats(s, now=svc.now(), cycle_days=40)
        assert nes_funnel(s) == {"N": 1, "E0": 1, "S1": 1, "S2": 1, "S3": 1}  # B: 100 days = 2.5 cycles


def preview(client, counter, rule):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/admin/segments/preview", json={"rule": rule}, headers=counter.admin)


def names(resp) -> set[str]:  # type: ignore[no-untyped-def]
    return {m["name"].removeprefix("會員") for m in resp.get_json()["sample"]}


def test_rules_combine_with_and_or_not(client, counter, people, clock):
    recompute(client, counter)
    important = {"field": "rfm_class", "op": "in", "value": ["重要價值", "重要保持", "重要發展", "重要挽留"]}
    assert names(preview(client, counter, important)) == {"A", "B", "C"}
    women = {"field": "gender", "op": "eq", "value": "female"}
    assert names(preview(client, counter, {"and": [important, women]})) == {"A", "C"}
    assert names(preview(client, counter, {"and": [important, {"not": women}]})) == {"B"}
    dormant = {"field": "nes", "op": "in", "value": ["S2", "S3"]}
    assert names(preview(client, counter, {"or": [dormant, {"field": "m_score", "op": "lte", "value": 1}]})) == {"B", "D", "E"}
    assert names(preview(client, counter, {"field": "birthday_month", "op": "eq", "value": 3})) == {"A", "C", "F"}
    assert names(preview(client, counter, {"field": "age", "op": "between", "value": [25, 40]})) == aged(clock, 25, 40)  # on 2026-11-23: A, C, E, F
    assert names(preview(client, counter, {"field": "visits", "op": "lte", "value": 1})) == {"C", "F"}
    assert names(preview(client, counter, {"field": "total_spend", "op": "gte", "value": 3000})) == {"A", "B", "C"}
    assert names(preview(client, counter, {"field": "last_visit_within_days", "op": "lte", "value": 60})) == {"A", "C", "D"}
    assert names(preview(client, counter, {"field": "store", "op": "eq", "value": "SEG"})) == {"A", "B", "C", "D", "E"}
    assert preview(client, counter, None).get_json()["count"] == 6


def test_not_holds_for_members_the_condition_cannot_decide(client, counter, people):
    """F never bought, so has no NES: "not S3" includes F (SQL's NOT would leave F out of both)."""
    recompute(client, counter)
    s3 = {"field": "nes", "op": "eq", "value": "S3"}
    assert names(preview(client, counter, s3)) == {"B", "E"}
    assert names(preview(client, counter, {"not": s3})) == {"A", "C", "D", "F"}
    assert names(preview(client, counter, {"not": {"not": s3}})) == {"B", "E"}
    assert names(preview(client, counter, {"not": {"field": "m_score", "op": "gte", "value": 3}})) == {"D", "E", "F"}
    assert names(preview(client, counter, {"and": [{"not": s3}, {"field": "gender", "op": "eq", "value": "female"}]})) == {"A", "C", "F"}


def test_tied_members_score_the_same_on_every_recompute(app, client, counter, db, clock):
    """Ten members with the same purchase share one score (ntile(5) used to split them in member
    order: equal customers in different classes), and a recompute never moves one: R and M are 5
    (each is at least as good as everyone), F is 2 (one visit is never frequent)."""
    from sqlalchemy import select

    from models.segment import MemberStats

    with db.transaction() as s:
        store = create_store(s, code="TIE", name="平手店", now=clock.now)
        actor, rule = Actor(store_id=store.id, kind="system"), get_rule(s)
        for i in range(10):
            m = ensure_member(s, f"U{i + 100:032x}", now=clock.now - timedelta(days=90))
            complete_join(s, m, now=clock.now - timedelta(days=90), birthday_on=date(1990, 1, 1), terms_version="t", consented_at=clock.now,
                          phone=None, gender="female")
            award(s, member_id=m.id, receipt_id=f"tie-{i}", amount=Decimal(100), visit=True, actor=actor, rule=rule,
                  now=clock.now - timedelta(days=10))

    def scores() -> list[tuple[int, int, int, str]]:
        with db.sessions() as s:
            return [(r.r_score, r.f_score, r.m_score, r.rfm_class) for r in s.scalars(select(MemberStats).order_by(MemberStats.member_id))]

    recompute(client, counter)
    first = scores()
    assert first == [(5, 2, 5, "重要發展")] * 10
    for _ in range(3):
        recompute(client, counter)
        assert scores() == first


def test_invalid_rules_point_at_the_bad_part(client, counter, people):
    cases = [
        ({"field": "colour", "op": "eq", "value": 1}, "/field"),
        ({"and": [{"field": "nes", "op": "eq", "value": "S9"}]}, "/and/0/value"),
        ({"or": [{"field": "gender", "op": "eq", "value": "male"}, {"not": {"field": "r_score", "op": "gte", "value": 7}}]}, "/or/1/not/value"),
        ({"field": "age", "op": "between", "value": [40, 20]}, "/value"),
        ({"field": "joined_on", "op": "gte", "value": "yesterday"}, "/value"),
        ({"and": []}, "/and"),
        ({"field": "tier", "op": "eq", "value": "diamond"}, "/value"),
        ({"field": "tag", "op": "eq", "value": "vip"}, "/op"),
        ([1, 2], ""),
    ]
    for rule, path in cases:
        resp = preview(client, counter, rule)
        assert resp.status_code == 422, rule
        assert resp.get_json()["code"] == "invalid_rule" and resp.get_json()["details"]["path"] == (path or "/"), (rule, resp.get_json())


def test_tags_manual_and_rule(client, counter, people):
    recompute(client, counter)
    assert client.post(f"/api/v1/admin/members/{people['A']}/tags", json={"tag": "VIP"}, headers=counter.admin).get_json()["tags"] == ["VIP"]
    assert names(preview(client, counter, {"field": "tag", "op": "has", "value": "VIP"})) == {"A"}
    rule_tag = {"name": "常客", "rule": {"field": "visits", "op": "gte", "value": 3}}
    assert client.post("/api/v1/admin/tags", json=rule_tag, headers=counter.admin).status_code == 201
    assert names(preview(client, counter, {"field": "tag", "op": "has", "value": "常客"})) == {"A", "B", "D"}
    manual_on_rule = client.post(f"/api/v1/admin/members/{people['C']}/tags", json={"tag": "常客"}, headers=counter.admin)
    assert manual_on_rule.status_code == 422 and manual_on_rule.get_json()["code"] == "rule_tag"
    assert client.delete(f"/api/v1/admin/members/{people['A']}/tags/VIP", headers=counter.admin).get_json()["tags"] == ["常客"]


def test_search_list_detail_and_csv_export(client, counter, people):
    found = client.get("/api/v1/admin/members?q=會員C", headers=counter.admin).get_json()
    assert found["total"] == 1 and found["members"][0]["member_no"] == people["C"]
    page = client.get("/api/v1/admin/members?per_page=2&page=2", headers=counter.admin).get_json()
    assert page["total"] == 6 and len(page["members"]) == 2
    detail = client.get(f"/api/v1/admin/members/{people['A']}", headers=counter.admin).get_json()
    assert detail["summary"]["balances"]["stamps"] == 5 and len(detail["ledger"]) >= 5
    seg = client.post("/api/v1/admin/segments", json={"name": "女性", "rule": {"field": "gender", "op": "eq", "value": "female"}}, headers=counter.admin)
    assert seg.status_code == 201 and seg.get_json()["count"] == 3
    export = client.get(f"/api/v1/admin/segments/{seg.get_json()['id']}/members.csv", headers=counter.admin)
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert sorted(r["name"] for r in rows) == ["會員A", "會員C", "會員F"]


def test_scoped_tokens_and_audit_log(client, counter, people):
    made = client.post("/api/v1/admin/tokens", json={"name": "分析師", "scopes": ["members:read"]}, headers=counter.admin)
    assert made.status_code == 201
    reader = {"Authorization": f"Bearer {made.get_json()['token']}"}
    assert client.get("/api/v1/admin/members", headers=reader).status_code == 200
    denied = client.post(f"/api/v1/admin/members/{people['A']}/tags", json={"tag": "x"}, headers=reader)
    assert denied.status_code == 403 and denied.get_json()["code"] == "missing_scope"
    assert client.get("/api/v1/admin/members", headers={"Authorization": "Bearer adm_nope_nope"}).status_code == 401
    client.post("/api/v1/admin/stores/SEG/staff", json={"username": "amy", "password": "secret-pass", "role": "cashier"}, headers=counter.admin)
    entries = client.get("/api/v1/admin/audit", headers=counter.admin).get_json()["entries"]
    staff = next(e for e in entries if e["action"] == "POST /api/v1/admin/stores/SEG/staff")
    assert staff["actor"] == "root" and staff["details"]["body"]["password"] == "***"
    assert not any(e["action"].endswith("/tags") and "分析師" in e["actor"] for e in entries)  # refused: not recorded


def test_dashboard_for_a_period(client, counter, people, clock):
    recompute(client, counter)
    start, end = clock.today() - timedelta(days=206), clock.today()
    resp = client.get(f"/api/v1/admin/dashboard?from={start}&to={end}", headers=counter.admin)
    assert resp.status_code == 200, resp.get_json()
    d = resp.get_json()
    assert d["members"]["total"] == 6 and d["members"]["reachable"] == 6
    # visits in the last 207 days: A (all 5: from 200 days ago), B (visits at 300..100 days ago: the last 2), C 1, D 3, E none
    assert d["visitors"] == 4 and d["regulars"] == 3
    assert d["gender"] == {"female": 3, "male": 2, "other": 1}
    assert sum(d["age"].values()) == 6 and d["age"]["30–39"] == len(aged(clock, 30, 39))  # on 2026-11-23: A 36, E 31
    assert d["visit_frequency"]["0"] == 2  # E and F
    assert d["rfm"]["重要價值"] == 1 and d["nes"]["S3"] == 2
    assert len(d["trend"]) == 207 and d["trend"][0]["day"] == start.isoformat() and d["trend"][-1]["day"] == end.isoformat()
    assert sum(t["visits"] for t in d["trend"]) == 5 + 2 + 1 + 3  # A, B, C, D inside the period
    assert d["top_stores"][0]["code"] == "SEG"
    bad = client.get(f"/api/v1/admin/dashboard?from={end}&to={start}", headers=counter.admin)
    assert bad.status_code == 422 and bad.get_json()["code"] == "invalid_period"
