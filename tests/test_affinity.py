"""What members buy: one member's categories and products, and "members who buy X also buy Y" on a
small data set whose support, confidence and lift are worked out by hand below; voided awards'
items count nowhere."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from models.affinity import ProductAffinity, also_bought, categories_bought, member_affinity, products_bought, rebuild_affinity
from models.shift import void_award
from models.store import Actor
from tests.purchase_data import Shop, add_products

CATALOGUE = {"A": ("拿鐵", "咖啡"), "B": ("美式", "咖啡"), "C": ("可頌", "烘焙")}  # D: a SKU the catalogue does not know

# Who bought what (SKUs, each member in the 365-day window unless said otherwise):
#   M1 A B C   M2 A B   M3 A C   M4 B C   M5 A (on two receipts)   M6 B D   M9 A B
#   M7 A B 400 days ago (outside the window)   M8 C, and A D on a receipt that was voided
BASKETS = {1: [["A", "B", "C"]], 2: [["A", "B"]], 3: [["A", "C"]], 4: [["B", "C"]], 5: [["A"], ["A"]], 6: [["B", "D"]], 9: [["A", "B"]]}
# By hand. Members who bought anything (in the window, not voided): N = 8 (M1–M6, M8, M9).
#   members_x: A 5 (M1 M2 M3 M5 M9), B 5 (M1 M2 M4 M6 M9), C 4 (M1 M3 M4 M8), D 1 (M6)
#   together:  A·B 3 (M1 M2 M9), A·C 2 (M1 M3), B·C 2 (M1 M4), B·D 1 (under MIN_MEMBERS: dropped), A·D 0 (voided)
#   (x, y): (members_both, members_x, members_y, support, confidence, lift = both·N / (x·y), rank)
EXPECTED_SKU = {
    ("A", "B"): (3, 5, 5, 3 / 8, 3 / 5, 24 / 25, 1), ("A", "C"): (2, 5, 4, 2 / 8, 2 / 5, 16 / 20, 2),
    ("B", "A"): (3, 5, 5, 3 / 8, 3 / 5, 24 / 25, 1), ("B", "C"): (2, 5, 4, 2 / 8, 2 / 5, 16 / 20, 2),
    ("C", "A"): (2, 4, 5, 2 / 8, 2 / 4, 16 / 20, 1), ("C", "B"): (2, 4, 5, 2 / 8, 2 / 4, 16 / 20, 2),  # a tie: by code
}
# Categories (D has none): 咖啡 7 (all but M8), 烘焙 4 (M1 M3 M4 M8), both 3 (M1 M3 M4), N = 8
EXPECTED_CATEGORY = {("咖啡", "烘焙"): (3, 7, 4, 3 / 8, 3 / 7, 24 / 28, 1), ("烘焙", "咖啡"): (3, 4, 7, 3 / 8, 3 / 4, 24 / 28, 1)}


def _rows(session, level: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    rows = session.scalars(select(ProductAffinity).where(ProductAffinity.level == level))
    return {(r.x, r.y): (r.members_both, r.members_x, r.members_y, r.json()["support"], r.confidence, r.lift, r.rank) for r in rows}


def _same(got: dict, expected: dict) -> None:  # type: ignore[type-arg]
    assert set(got) == set(expected)
    for pair, want in expected.items():
        assert got[pair][:3] == want[:3] and got[pair][6] == want[6], pair
        assert got[pair][3:6] == pytest.approx(want[3:6], rel=1e-6), pair


@pytest.fixture
def brand(db, clock):  # type: ignore[no-untyped-def]
    with db.transaction() as s:
        add_products(s, CATALOGUE, now=clock.now)
        shop = Shop.open(s, clock.now)
        members = {n: shop.member(n) for n in range(1, 10)}
        for n, receipts in BASKETS.items():
            for i, skus in enumerate(receipts):
                shop.buy(members[n].id, [(sku, 1, "100.00") for sku in skus], days_ago=10 + i)
        shop.buy(members[7].id, [("A", 1, "100.00"), ("B", 1, "100.00")], days_ago=400)
        shop.buy(members[8].id, [("C", 1, "60.00")], days_ago=5)
        voided = shop.buy(members[8].id, [("A", 1, "100.00"), ("D", 1, "50.00")], days_ago=0)
        void_award(s, award_id=voided.id, reason="打錯了", actor=Actor(store_id=shop.store.id, kind="staff", role="manager"), now=clock.now)
        return {n: m.id for n, m in members.items()}


def test_co_occurrence_matches_the_hand_computed_support_confidence_and_lift(db, clock, brand):
    with db.transaction() as s:
        assert rebuild_affinity(s, now=clock.now) == {"sku": 6, "category": 2}
    with db.sessions() as s:
        _same(_rows(s, "sku"), EXPECTED_SKU)
        _same(_rows(s, "category"), EXPECTED_CATEGORY)
        assert [r.y for r in also_bought(s, "C")] == ["A", "B"]
        assert also_bought(s, "D") == []  # B·D was one member: below MIN_MEMBERS


def test_every_pair_is_kept_with_min_members_one_and_the_top_n_cut_per_x(db, clock, brand):
    with db.transaction() as s:
        rebuild_affinity(s, now=clock.now, min_members=1)
        rows = _rows(s, "sku")
        assert rows[("B", "D")] == (1, 5, 1, 1 / 8, pytest.approx(1 / 5), pytest.approx(8 / 5), 3)
        assert rows[("D", "B")][6] == 1 and ("A", "D") not in rows and ("D", "A") not in rows  # the voided receipt
    with db.transaction() as s:
        rebuild_affinity(s, now=clock.now, top_n=1)  # replaces every row
        assert {pair: row[6] for pair, row in _rows(s, "sku").items()} == {("A", "B"): 1, ("B", "A"): 1, ("C", "A"): 1}


def test_the_window_decides_who_counts(db, clock, brand):
    """With a 500-day window M7 (A and B, 400 days ago) counts: N 9, A 6, B 6, A·B 4."""
    with db.transaction() as s:
        rebuild_affinity(s, now=clock.now, window_days=500)
        both, mx, my, support, confidence, lift, rank = _rows(s, "sku")[("A", "B")]
        assert (both, mx, my, rank) == (4, 6, 6, 1)
        assert (support, confidence, lift) == pytest.approx((4 / 9, 4 / 6, 4 * 9 / 36))


def test_one_members_categories_and_products_with_recency_and_frequency(db, clock):
    with db.transaction() as s:
        add_products(s, CATALOGUE, now=clock.now)
        shop = Shop.open(s, clock.now)
        m = shop.member(1)
        shop.buy(m.id, [("A", 2, "120.00"), ("C", 1, "60.00")], days_ago=10)
        shop.buy(m.id, [("A", 1, "120.00"), ("B", 1, "100.00"), ("D", 3, "15.50")], days_ago=3, names={"D": "POS 蛋塔"})
        voided = shop.buy(m.id, [("C", 5, "60.00")], days_ago=0)
        void_award(s, award_id=voided.id, reason="退貨", actor=Actor(store_id=shop.store.id, kind="staff", role="manager"), now=clock.now)
        member_id = m.id
    with db.sessions() as s:
        cats = categories_bought(s, member_id, now=clock.now)
        assert [(b.key, b.receipts, b.qty, b.spend) for b in cats] == [("咖啡", 2, 4, Decimal("460.00")), ("烘焙", 1, 1, Decimal("60.00"))]
        assert cats[0].last_at == clock.now - timedelta(days=3) and cats[1].last_at == clock.now - timedelta(days=10)
        products = products_bought(s, member_id, now=clock.now)
        assert [(b.key, b.name, b.category, b.receipts, b.qty, b.spend) for b in products] == [
            ("A", "拿鐵", "咖啡", 2, 3, Decimal("360.00")),
            ("B", "美式", "咖啡", 1, 1, Decimal("100.00")),  # the same receipts as D, bought later than C
            ("D", "POS 蛋塔", None, 1, 3, Decimal("46.50")),
            ("C", "可頌", "烘焙", 1, 1, Decimal("60.00")),
        ]
        assert [b.key for b in products_bought(s, member_id, now=clock.now, window_days=5)] == ["A", "B", "D"]
        data = member_affinity(s, member_id, now=clock.now)
        assert data["categories"][0] == {"category": "咖啡", "receipts": 2, "qty": 4, "spend": "460.00", "days_since_last": 3,
                                         "first_at": (clock.now - timedelta(days=10)).isoformat(),
                                         "last_at": (clock.now - timedelta(days=3)).isoformat()}
