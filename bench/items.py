"""Receipt line items: what they add to an award, and the catalogue's queries over many lines.

    .venv/bin/python bench/items.py [--members 20000] [--awards 200000] [--lines 3] [--requests 200]

Builds a temporary SQLite database (migrated; members, awards and their line items made by SQL:
300 SKUs in the catalogue and 60 it does not know, one line in ten unknown), then times through the
real Flask app, in this process, one request at a time: an award without items and with 10 items
(median and p99 wall time), GET /api/v1/admin/products (the unknown SKUs' aggregate over every line)
and mapping one unknown SKU (PUT /products/{sku}: the past lines linked in one UPDATE). Prints figures.
"""
from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ADMIN = "bench-items-admin-token"


def build(path: Path, members: int, awards: int, lines: int, now: datetime) -> None:
    from bot.db import upgrade
    from models.member import member_no_for

    upgrade(f"sqlite:///{path}")
    stamp = now.strftime("%Y-%m-%d %H:%M:%S")
    conn = sqlite3.connect(path)
    conn.create_function("member_no", 1, member_no_for)
    conn.execute("INSERT INTO store (id, code, name, created_at) VALUES (1, 'S01', '門市1', ?)", (stamp,))
    conn.execute(
        "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < ?) "
        "INSERT INTO member (id, line_user_id, display_name, is_reachable, followed_at, member_no, joined_at, created_at) "
        "SELECT i, printf('U%032x', i), printf('會員%06d', i), 1, ?, member_no(i), ?, ? FROM g", (members, stamp, stamp, stamp))
    conn.execute(
        "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 300) "
        "INSERT INTO product (sku, name, category, price, active, created_at, updated_at) "
        "SELECT printf('SKU%03d', i), printf('商品%03d', i), printf('類別%d', i % 12), 30 + i % 200, 1, ?, ? FROM g", (stamp, stamp))
    conn.execute(
        "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < ?) "
        "INSERT INTO award (store_id, receipt_id, member_id, amount, visit, stamps, points, rewards, actor_kind, created_at) "
        "SELECT 1, 'r' || i, 1 + abs(random()) % ?, 100, 0, 0, 10, 0, 'pos', datetime(?, printf('-%d seconds', i)) FROM g",
        (awards, members, stamp))
    conn.execute(
        "WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < ?), "
        "l AS (SELECT a.id AS award_id, a.member_id, a.created_at, n.k, (a.id * 7919 + n.k * 104729) % 3300 AS pick FROM award a, n) "
        "INSERT INTO award_item (award_id, line_no, member_id, store_id, sku, product_id, name, category, qty, unit_price, line_total, awarded_at) "
        "SELECT award_id, k, member_id, 1, CASE WHEN pick < 3000 THEN printf('SKU%03d', 1 + pick % 300) ELSE printf('NEW%02d', pick % 60) END, "
        " CASE WHEN pick < 3000 THEN 1 + pick % 300 END, '品項', CASE WHEN pick < 3000 THEN printf('類別%d', (1 + pick % 300) % 12) END,"
        " 1, 50, 50, created_at FROM l", (lines,))
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


def timed(fn, n: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def summary(ms: list[float]) -> str:
    ms = sorted(ms)
    return f"median {statistics.median(ms):.1f} ms, p99 {ms[max(0, int(len(ms) * 0.99) - 1)]:.1f} ms (n={len(ms)})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--awards", type=int, default=200_000)
    parser.add_argument("--lines", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "items.db"
        t0 = time.perf_counter()
        build(path, args.members, args.awards, args.lines, now)
        print(f"built {args.awards:,} awards with {args.awards * args.lines:,} lines in {time.perf_counter() - t0:.1f} s")

        from bot import create_app
        from bot.config import Settings
        from models.card import issue_card_token
        from models.member import member_no_for

        app = create_app(Settings(app_env="test", database_url=f"sqlite:///{path}", admin_token=ADMIN))
        client = app.test_client()
        admin = {"Authorization": f"Bearer {ADMIN}"}
        key = client.post("/api/v1/admin/stores/S01/api-keys", json={"label": "bench"}, headers=admin).get_json()["api_key"]
        pos = {"Authorization": f"Bearer {key}"}
        items = [{"sku": f"SKU{1 + i * 7:03d}", "qty": 1 + i % 2, "unit_price": 50} for i in range(10)]
        total = sum(i["qty"] * 50 for i in items)

        def award(with_items: bool, round_: int):  # type: ignore[no-untyped-def]
            def go(i: int) -> None:
                card = issue_card_token(app.extensions["loyalty"].settings.secret_key, member_no_for(1 + (i * 31) % args.members),
                                        now=app.extensions["loyalty"].now())
                body = {"token": card, "receipt_id": f"b-{round_}-{i}", "amount": total}
                if with_items:
                    body["items"] = items
                resp = client.post("/api/v1/awards", json=body, headers=pos)
                assert resp.status_code == 201, resp.get_json()
            return go

        for round_, with_items in enumerate((False, True, False, True)):  # alternating, warm
            ms = timed(award(with_items, round_), args.requests)
            print(f"award {'with 10 items' if with_items else 'without items'}: {summary(ms)}")
        listing = []
        ms = timed(lambda i: listing.append(client.get("/api/v1/admin/products", headers=admin).get_json()), 5)
        print(f"GET /admin/products (300 products, {len(listing[0]['unknown_skus'])} unknown SKUs over every line): {summary(ms)}")
        top = listing[0]["unknown_skus"][0]
        t0 = time.perf_counter()
        mapped = client.put(f"/api/v1/admin/products/{top['sku']}", json={"name": "新商品"}, headers=admin).get_json()
        print(f"mapping {top['sku']}: {mapped['items_linked']:,} past lines linked in {(time.perf_counter() - t0) * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
