"""Affinity benchmark: "members who buy X also buy Y" (models/affinity.py) in SQL on PostgreSQL,
against a scipy.sparse baseline (X^T X over a member × item 0/1 matrix) in the same run.

    .venv/bin/python bench/affinity.py [--members 100000] [--items 5000000] [--skus 300] [--categories 20]
                                       [--url postgresql://postgres@127.0.0.1:5432/test_hc] [--schema bench_affinity]
                                       [--reuse] [--sqlite /tmp/bench_affinity.db]

Needs numpy, pandas and scipy (``pip install -r bench/requirements.txt``; not the app's) and
PostgreSQL. It works in its own schema (``--schema``, default ``bench_affinity``, dropped and made
again each run unless ``--reuse``) of the given database, so the tests' ``public`` schema is never
touched. One run:

1. migrates the schema (``bot.db.upgrade``) and loads, with COPY, N joined members, their awards
   (receipts of about five items) and M line items: ``--skus`` SKUs in ``--categories`` categories,
   Zipf-like popularity (p ∝ 1/rank), each member 1–100 items (scaled to M in all), 60 % of them
   from a "home" category of their own (so pairs have structure), 1 % of items of SKUs the
   catalogue lacks, purchases spread over 400 days (some outside the 365-day window) and 0.5 % of
   awards voided (a ``void`` ledger entry); then VACUUM ANALYZE;
2. times ``models.affinity.rebuild_affinity`` (both levels, SKU and category, one transaction) and,
   for the SKU level, the statement alone;
3. times the baseline: read the same line items and voids (COPY → pandas), filter the window and the
   voids, distinct (member, item), a CSR 0/1 matrix, X^T X, then the same ranks, confidence and lift;
4. checks both agree row for row (x, y, rank, members_both, members_x, members_y exactly;
   confidence and lift to 1e-9), prints both times; with ``--sqlite PATH`` loads the same rows
   into SQLite and times the rebuild there too. Exit 0 when they agree and SQL on PostgreSQL took
   under TARGET_SECONDS.
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

try:
    import numpy as np
    import pandas as pd
    from scipy import sparse
except ImportError:  # pragma: no cover - told to the user
    sys.exit("bench/affinity.py compares with numpy/pandas/scipy, which the app does not need: "
             ".venv/bin/pip install -r bench/requirements.txt")
import psycopg

from bench.common import conninfo, cpu_seconds

TARGET_SECONDS = 60.0
WINDOW_DAYS, HISTORY_DAYS, STORES, TOP_N, MIN_MEMBERS = 365, 400, 10, 20, 2
VOID_SHARE, UNKNOWN_SHARE, HOME_SHARE, PER_RECEIPT = 0.005, 0.01, 0.6, 5


def generate(members: int, items: int, skus: int, categories: int, now: datetime, seed: int = 7) -> dict[str, pd.DataFrame]:
    """Members, products, awards and line items as DataFrames (ids from 1)."""
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, skus + 1)
    p = popularity / popularity.sum()
    sku_category = rng.integers(0, categories, skus)
    sizes = rng.integers(1, 101, members)
    sizes = np.maximum(1, np.round(sizes * items / sizes.sum())).astype(np.int64)
    n = int(sizes.sum())
    member = np.repeat(np.arange(1, members + 1), sizes)
    home = rng.choice(categories, members, p=np.bincount(sku_category, weights=p, minlength=categories))
    sku = rng.choice(skus, n, p=p)
    from_home = rng.random(n) < HOME_SHARE
    item_home = home[member - 1]
    for c in range(categories):
        inside = np.flatnonzero(sku_category == c)
        pick = np.flatnonzero(from_home & (item_home == c))
        if len(inside) and len(pick):
            sku[pick] = rng.choice(inside, len(pick), p=p[inside] / p[inside].sum())
    codes = np.array([f"P{i:04d}" for i in range(skus)], dtype=object)
    unknown = rng.random(n) < UNKNOWN_SHARE
    item_sku = codes[sku]
    item_sku[unknown] = np.array([f"U{k:04d}" for k in rng.integers(0, 50, int(unknown.sum()))], dtype=object)
    category_names = np.array([f"C{c:02d}" for c in range(categories)], dtype=object)
    item_category = category_names[sku_category[sku]]
    item_category[unknown] = None
    prices = rng.integers(30, 300, skus).astype(np.int64)
    # receipts: each member's items in order, PER_RECEIPT to a receipt
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    position = np.arange(n) - np.repeat(starts, sizes)
    receipts_per_member = (sizes + PER_RECEIPT - 1) // PER_RECEIPT
    first_receipt = np.concatenate([[0], np.cumsum(receipts_per_member)[:-1]])
    award = np.repeat(first_receipt, sizes) + position // PER_RECEIPT + 1
    awards = int(receipts_per_member.sum())
    award_member = np.repeat(np.arange(1, members + 1), receipts_per_member)
    award_at = pd.Timestamp(now) - pd.to_timedelta(rng.random(awards) * HISTORY_DAYS * 86400, unit="s").round("s")
    award_store = rng.integers(1, STORES + 1, awards)
    qty = 1 + rng.poisson(0.3, n)
    unit = prices[sku]
    unit[unknown] = 50
    line_total = unit * qty
    item_frame = pd.DataFrame({
        "award_id": award, "line_no": position % PER_RECEIPT + 1, "member_id": member, "store_id": award_store[award - 1],
        "sku": item_sku, "product_id": pd.array(np.where(unknown, 0, sku + 1), dtype="Int64"), "name": None,
        "category": item_category, "qty": qty, "unit_price": unit, "line_total": line_total, "awarded_at": award_at[award - 1]})
    item_frame.loc[unknown, "product_id"] = pd.NA
    amount = np.bincount(award - 1, weights=line_total, minlength=awards)
    award_frame = pd.DataFrame({"id": np.arange(1, awards + 1), "store_id": award_store, "receipt_id": [f"r{i}" for i in range(1, awards + 1)],
                                "member_id": award_member, "amount": amount, "created_at": award_at})
    voided = np.flatnonzero(rng.random(awards) < VOID_SHARE) + 1
    products = pd.DataFrame({"id": np.arange(1, skus + 1), "sku": codes, "name": [f"商品{i}" for i in range(skus)],
                             "category": category_names[sku_category], "price": prices})
    return {"items": item_frame, "awards": award_frame, "voided": pd.DataFrame({"award_id": voided}), "products": products}


def _copy(conn, table: str, frame: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, na_rep="\\N", date_format="%Y-%m-%d %H:%M:%S+00")
    buffer.seek(0)
    with conn.cursor().copy(f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')") as copy:
        while chunk := buffer.read(1 << 20):
            copy.write(chunk)


def build_postgres(url: str, schema: str, data: dict[str, pd.DataFrame], members: int, now: datetime) -> None:
    from bot.db import upgrade
    from models.member import member_no_for

    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{schema}"')
    upgrade(url)
    with psycopg.connect(conninfo(url)) as conn:
        conn.execute("SET session_replication_role = replica")  # consistent by construction: skip FK triggers
        conn.execute("INSERT INTO store (code, name, created_at) SELECT 'S' || lpad(g::text, 2, '0'), '門市' || g, %s"
                     " FROM generate_series(1, %s) g", (now, STORES))
        joined = now - timedelta(days=500)
        ids = np.arange(1, members + 1)
        _copy(conn, "member", pd.DataFrame({
            "id": ids, "line_user_id": [f"U{i:032x}" for i in ids], "is_reachable": True, "followed_at": joined,
            "member_no": [member_no_for(int(i)) for i in ids], "joined_at": joined, "terms_version": "2026-01",
            "consented_at": joined, "created_at": joined}))
        _copy(conn, "product", data["products"].assign(active=True, created_at=now, updated_at=now))
        _copy(conn, "award", data["awards"].assign(visit=True, stamps=1, points=0, rewards=0, actor_kind="pos"))
        _copy(conn, "award_item", data["items"])
        conn.execute("INSERT INTO ledger_entry (member_id, currency, amount, reason, store_id, actor_kind, receipt_id, award_id, created_at)"
                     " SELECT a.member_id, 'stamp', -1, 'void', a.store_id, 'staff', a.receipt_id, a.id, a.created_at"
                     " FROM award a WHERE a.id = ANY(%s)", (data["voided"]["award_id"].tolist(),))
        for table in ("member", "product", "award", "award_item", "ledger_entry"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.commit()
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def time_sql(url: str, now: datetime) -> tuple[dict[str, float], pd.DataFrame]:
    """rebuild_affinity (both levels, one transaction), then the SKU statement alone; the rows it stored."""
    from sqlalchemy import insert, select, text

    from bot.db import make_engine
    from models.affinity import COLUMNS, ProductAffinity, co_occurrence, rebuild_affinity
    from sqlalchemy.orm import Session

    engine = make_engine(url)
    times = {}
    with Session(engine) as session, session.begin():
        backend = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        t0, c0 = time.perf_counter(), cpu_seconds(backend)
        kept = rebuild_affinity(session, now=now, window_days=WINDOW_DAYS, top_n=TOP_N, min_members=MIN_MEMBERS)
        times["rebuild (sku + category)"] = time.perf_counter() - t0
        times["  its PostgreSQL CPU"] = cpu_seconds(backend) - c0
    with Session(engine) as session, session.begin():
        session.query(ProductAffinity).filter(ProductAffinity.level == "sku").delete()
        session.execute(text("SELECT set_config('work_mem', '128MB', true)"))
        t0 = time.perf_counter()
        session.execute(insert(ProductAffinity).from_select(list(COLUMNS), co_occurrence(
            "sku", now=now, window_days=WINDOW_DAYS, top_n=TOP_N, min_members=MIN_MEMBERS)))
        times["sku statement alone"] = time.perf_counter() - t0
    with Session(engine) as session:
        rows = session.execute(select(*(getattr(ProductAffinity, c) for c in COLUMNS[:10]))).all()
    engine.dispose()
    print(f"  kept: {kept}")
    return times, pd.DataFrame(rows, columns=list(COLUMNS[:10]))


def baseline_frame(url: str) -> tuple[pd.DataFrame, float]:
    """The line items and whether their award was voided, read as pandas reads fastest (COPY → CSV);
    and the CPU seconds PostgreSQL spent sending them."""
    buffer = io.BytesIO()
    with psycopg.connect(conninfo(url)) as conn:
        backend = conn.info.backend_pid
        c0 = cpu_seconds(backend)
        _read(conn, buffer)
        server = cpu_seconds(backend) - c0
    buffer.seek(0)
    return pd.read_csv(buffer, names=["member_id", "sku", "category", "at", "voided"], dtype={"sku": str, "category": str},
                       true_values=["t"], false_values=["f"]), server


def _read(conn, buffer: io.BytesIO) -> None:  # type: ignore[no-untyped-def]
    with conn.cursor().copy(
            "COPY (SELECT i.member_id, i.sku, i.category, extract(epoch FROM i.awarded_at)::bigint AS at,"
            " EXISTS (SELECT 1 FROM ledger_entry v WHERE v.award_id = i.award_id AND v.reason = 'void') AS voided"
            " FROM award_item i) TO STDOUT WITH (FORMAT csv)") as copy:
        for chunk in copy:
            buffer.write(chunk)


def baseline(frame: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """The same rows as the SQL, from a sparse member × item 0/1 matrix: C = XᵀX."""
    since, until = (now - timedelta(days=WINDOW_DAYS)).timestamp(), now.timestamp()
    live = frame[(frame["at"] > since) & (frame["at"] <= until) & ~frame["voided"]]
    out = []
    for level, column in (("sku", "sku"), ("category", "category")):
        pairs = live[["member_id", column]].dropna().drop_duplicates()
        item_codes, item_names = pd.factorize(pairs[column], sort=True)
        member_codes, _ = pd.factorize(pairs["member_id"])
        x = sparse.csr_matrix((np.ones(len(pairs), dtype=np.int32), (member_codes, item_codes)),
                              shape=(member_codes.max() + 1, len(item_names)))
        together = (x.T @ x).toarray().astype(np.int64)  # int32 products of two counts overflow past 46,340 members
        bought = np.diag(together).copy()
        total = x.shape[0]
        np.fill_diagonal(together, 0)
        xs, ys = np.nonzero(together >= MIN_MEMBERS)
        both = together[xs, ys]
        rows = pd.DataFrame({"xi": xs, "yi": ys, "members_both": both, "members_x": bought[xs], "members_y": bought[ys]})
        rows = rows.sort_values(["xi", "members_both", "members_y", "yi"], ascending=[True, False, True, True])
        rows["rank"] = rows.groupby("xi").cumcount() + 1
        rows = rows[rows["rank"] <= TOP_N]
        names = np.asarray(item_names, dtype=object)
        out.append(pd.DataFrame({"level": level, "x": names[rows["xi"]], "y": names[rows["yi"]], "rank": rows["rank"].to_numpy(),
                                 "members_both": rows["members_both"].to_numpy(), "members_x": rows["members_x"].to_numpy(),
                                 "members_y": rows["members_y"].to_numpy(), "members_total": total,
                                 "confidence": rows["members_both"].to_numpy() / rows["members_x"].to_numpy(),
                                 "lift": rows["members_both"].to_numpy() * total / (rows["members_x"].to_numpy() * rows["members_y"].to_numpy())}))
    return pd.concat(out, ignore_index=True)


def compare(sql: pd.DataFrame, base: pd.DataFrame) -> list[str]:
    keys = ["level", "x", "y"]
    exact = ["rank", "members_both", "members_x", "members_y", "members_total"]
    merged = sql.merge(base, on=keys, how="outer", suffixes=("_sql", "_base"), indicator=True)
    problems = []
    only = merged[merged["_merge"] != "both"]
    if len(only):
        problems.append(f"{len(only)} pairs in one result only, e.g. {only.head(3)[keys + ['_merge']].to_dict('records')}")
    both = merged[merged["_merge"] == "both"]
    for column in exact:
        wrong = both[both[f"{column}_sql"].astype("int64") != both[f"{column}_base"].astype("int64")]
        if len(wrong):
            problems.append(f"{len(wrong)} rows differ in {column}")
    for column in ("confidence", "lift"):
        if not np.allclose(both[f"{column}_sql"].astype(float), both[f"{column}_base"].astype(float), rtol=1e-9, atol=0):
            problems.append(f"{column} differs")
    return problems


def build_sqlite(path: str, url: str, now: datetime) -> float:
    """The same rows (read back from PostgreSQL) into a fresh SQLite file; the rebuild's time there."""
    from sqlalchemy.orm import Session

    from bot.db import make_engine, upgrade
    from models.affinity import rebuild_affinity

    Path(path).unlink(missing_ok=True)
    lite = f"sqlite:///{path}"
    upgrade(lite)
    engine = make_engine(lite)
    raw = engine.raw_connection()
    cursor = raw.cursor()
    cursor.execute("PRAGMA foreign_keys = OFF")
    cursor.execute("PRAGMA synchronous = OFF")
    cursor.execute("BEGIN")  # the driver runs in autocommit mode here: one transaction, not one per row
    with psycopg.connect(conninfo(url)) as pg:
        for table, columns in (("store", "id, code, name, created_at"), ("member", "id, line_user_id, is_reachable, followed_at, member_no, joined_at, created_at"),
                               ("award", "id, store_id, receipt_id, member_id, amount, visit, stamps, points, rewards, actor_kind, created_at"),
                               ("ledger_entry", "id, member_id, currency, amount, reason, store_id, actor_kind, receipt_id, award_id, created_at"),
                               ("award_item", "id, award_id, line_no, member_id, store_id, sku, product_id, name, category, qty, unit_price, line_total, awarded_at")):
            marks = ", ".join("?" * len(columns.split(",")))
            with pg.cursor(name=f"read_{table}") as read:
                read.execute(f"SELECT {columns} FROM {table}")
                while batch := read.fetchmany(100_000):
                    cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                                       [tuple(v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else
                                              (float(v) if type(v).__name__ == "Decimal" else v) for v in row) for row in batch])
    raw.commit()
    cursor.execute("ANALYZE")
    raw.close()
    with Session(engine) as session, session.begin():
        t0 = time.perf_counter()
        kept = rebuild_affinity(session, now=now, window_days=WINDOW_DAYS, top_n=TOP_N, min_members=MIN_MEMBERS)
        took = time.perf_counter() - t0
    engine.dispose()
    print(f"  SQLite kept: {kept}")
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=5_000_000)
    parser.add_argument("--skus", type=int, default=300)
    parser.add_argument("--categories", type=int, default=20)
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test_hc")
    parser.add_argument("--schema", default="bench_affinity")
    parser.add_argument("--reuse", action="store_true", help="keep the data of the last run (same sizes)")
    parser.add_argument("--sqlite", metavar="PATH", help="also time the rebuild on SQLite at PATH (loads the same rows)")
    args = parser.parse_args()
    if "bench" not in args.schema:
        sys.exit("--schema must contain 'bench': it is dropped and made again")
    os.environ["PGOPTIONS"] = f"-c search_path={args.schema}"  # every connection (psycopg, SQLAlchemy, Alembic) works in the bench schema
    now = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
    if not args.reuse:
        t0 = time.perf_counter()
        data = generate(args.members, args.items, args.skus, args.categories, now)
        print(f"generated {len(data['items']):,} line items on {len(data['awards']):,} receipts of {args.members:,} members "
              f"in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        build_postgres(args.url, args.schema, data, args.members, now)
        print(f"loaded into PostgreSQL (COPY, VACUUM ANALYZE) in {time.perf_counter() - t0:.1f} s")
        del data
    print("SQL on PostgreSQL (models.affinity):")
    sql_times, sql_rows = time_sql(args.url, now)
    for name, seconds in sql_times.items():
        print(f"  {name:<26} {seconds:7.2f} s")
    print(f"  (machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: wall time on a shared machine is noisy, the CPU figure less so)")
    print("baseline (pandas + scipy.sparse XᵀX):")
    t0, p0 = time.perf_counter(), time.process_time()
    frame, server = baseline_frame(args.url)
    load, load_cpu = time.perf_counter() - t0, time.process_time() - p0 + server
    t0, p0 = time.perf_counter(), time.process_time()
    base_rows = baseline(frame, now)
    compute, compute_cpu = time.perf_counter() - t0, time.process_time() - p0
    print(f"  {'read (COPY → read_csv)':<26} {load:7.2f} s   (CPU {load_cpu:.2f} s, PostgreSQL's included)\n"
          f"  {'compute (both levels)':<26} {compute:7.2f} s   (CPU {compute_cpu:.2f} s)\n  {'total':<26} {load + compute:7.2f} s")
    problems = compare(sql_rows, base_rows)
    top = sql_rows[(sql_rows["level"] == "sku") & (sql_rows["rank"] == 1)].sort_values("members_both", ascending=False).head(3)
    print("strongest SKU pairs:", ", ".join(f"{r.x}→{r.y} (both {r.members_both}, conf {r.confidence:.3f}, lift {r.lift:.2f})" for r in top.itertuples()))
    print(f"agreement: {'same rows (' + str(len(sql_rows)) + ')' if not problems else '; '.join(problems)}")
    if args.sqlite:
        print(f"SQL on SQLite: rebuild (sku + category) {build_sqlite(args.sqlite, args.url, now):.2f} s")
    ok = not problems and sql_times["rebuild (sku + category)"] < TARGET_SECONDS
    print(f"target: rebuild on PostgreSQL < {TARGET_SECONDS:.0f} s and the same rows as the baseline: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
