"""Segments benchmark: RFM + NES recompute on PostgreSQL against the same job in pandas.

    .venv/bin/python bench/segments.py [--members 100000] [--awards 2000000] [--rounds 3]

Needs pandas (``.venv/bin/pip install -r bench/requirements.txt``) and PostgreSQL on
127.0.0.1:5432 (user ``postgres``).  One run:

1. drops and creates the database ``bench_segments`` (it refuses a name without ``bench``),
   migrates it (``bot.db.upgrade``) and loads N joined members (COPY) and M awards, the
   purchases RFM/NES read (``INSERT … SELECT generate_series``, seeded, skewed: a few regulars,
   many occasional buyers, 10 % never bought, 10 % of awards visit-only without an amount),
   then VACUUM ANALYZE;
2. makes two rule tags through the admin API, so the recompute also refreshes tags;
3. per round (ABBA order), times
   - ours: ``POST /api/v1/admin/segments/recompute`` through the real Flask app (RFM, NES,
     rule tags, commit) and ``POST /api/v1/admin/segments/preview`` for a few rules;
   - pandas doing the same job: read the awards and members from PostgreSQL (COPY → CSV →
     ``read_csv``, pandas' fastest path), compute visits/spend/first/last, the same tie-aware
     quintiles (RANK), classes, NES and the two tags, write the results back (COPY), count the rules;
4. checks that both agree member by member (every stats column, tags, rule counts);
5. prints the timings (best, median, worst of the rounds), the ratios and the targets:
   recompute < 30 s, and faster than pandas doing the same job.  Exit 0 when all pass.

Timings on a shared machine are noisy: read the best of the rounds and the spread.
"""
from __future__ import annotations

import argparse
import io
import resource
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

try:
    import numpy as np
    import pandas as pd
except ImportError:  # pragma: no cover - told to the user
    sys.exit("bench/segments.py compares with pandas, which the app does not need: "
             ".venv/bin/pip install -r bench/requirements.txt")
import psycopg
from sqlalchemy import event
from sqlalchemy.engine import make_url

from bench.common import conninfo, recreate_database

ADMIN = "bench-segments-admin-token"
TARGET_SECONDS = 30.0
WINDOW_DAYS, CYCLE_DAYS, HISTORY_DAYS, STORES = 365, 30, 730, 10
TAGS = {  # rule tags refreshed by every recompute
    "常客": {"field": "visits", "op": "gte", "value": 40},
    "沉睡大戶": {"and": [{"field": "nes", "op": "eq", "value": "S3"}, {"field": "m_score", "op": "gte", "value": 4}]},
}
RULES = {  # segment rule counts (preview)
    "important": {"field": "rfm_class", "op": "in", "value": ["重要價值", "重要保持"]},
    "win-back big spenders": {"and": [{"field": "nes", "op": "in", "value": ["S1", "S2"]}, {"field": "m_score", "op": "gte", "value": 4}]},
    "women 25-40 not dormant": {"and": [{"field": "gender", "op": "eq", "value": "female"}, {"field": "age", "op": "between", "value": [25, 40]},
                                        {"not": {"field": "nes", "op": "eq", "value": "S3"}}]},
    "heavy or big": {"or": [{"field": "visits", "op": "gte", "value": 30}, {"field": "total_spend", "op": "gte", "value": 10000}]},
    "store S03, last 30 days": {"and": [{"field": "store", "op": "eq", "value": "S03"}, {"field": "last_visit_within_days", "op": "lte", "value": 30}]},
    "tag 常客 + birthday month": {"and": [{"field": "tag", "op": "has", "value": "常客"}, {"field": "birthday_month", "op": "eq", "value": 5}]},
}
CLASSES = {(True, True, True): "重要價值", (False, True, True): "重要保持", (True, False, True): "重要發展",
           (False, False, True): "重要挽留", (True, True, False): "一般價值", (False, True, False): "一般保持",
           (True, False, False): "一般發展", (False, False, False): "一般挽留"}
STAT_COLUMNS = ["visits", "spend", "first_visit_at", "last_visit_at", "r_score", "f_score", "m_score", "rfm_class", "nes"]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- data ------------------------------------------------------------------------------------
def build_database(url: str, members: int, awards: int, now: datetime) -> None:
    """Drop and create the database, migrate it, load members and awards fast."""
    from bot.db import upgrade
    from models.member import member_no_for

    recreate_database(url)
    upgrade(url)
    buyers = members * 9 // 10
    with psycopg.connect(conninfo(url)) as conn:
        conn.execute("SET session_replication_role = replica")  # consistent by construction: skip FK triggers
        conn.execute("INSERT INTO store (code, name, created_at) SELECT 'S' || lpad(g::text, 2, '0'), '門市' || g, %s"
                     " FROM generate_series(1, %s) g", (now, STORES))
        rng = np.random.default_rng(42)
        born = rng.integers(0, 45 * 365, members)  # days after 1960-01-01
        genders = rng.choice(["female", "male", "other"], members, p=[0.55, 0.42, 0.03])
        reachable = rng.random(members) > 0.03
        joined_days = rng.integers(0, HISTORY_DAYS + 30, members)
        with conn.cursor().copy("COPY member (id, line_user_id, display_name, language, is_reachable, followed_at, member_no, joined_at,"
                                " birthday_on, phone, gender, terms_version, consented_at, created_at) FROM STDIN") as copy:
            for i in range(members):
                mid = i + 1
                joined = now - timedelta(days=int(joined_days[i]) + 1)
                copy.write_row((mid, f"U{mid:032x}", f"會員{mid:06d}", "zh-TW", bool(reachable[i]), joined, member_no_for(mid), joined,
                                date(1960, 1, 1) + timedelta(days=int(born[i])), f"09{mid:08d}", genders[i], "2026-01", joined, joined))
        conn.execute("SELECT setval(pg_get_serial_sequence('member', 'id'), %s)", (members,))
        conn.execute("SELECT setseed(0.42)")
        # Skewed: member 1 buys most often, a tenth of the members never bought, a tenth of the
        # awards are visits without an amount.  Each member buys within a span of its own (first
        # purchase up to two years ago, last purchase anywhere from then to now), so there are
        # new, active and lapsed members in every class.
        conn.execute(
            "INSERT INTO award (store_id, receipt_id, member_id, amount, visit, stamps, points, rewards, actor_kind, created_at)"
            " SELECT 1 + (g + m) %% %(stores)s, 'r' || g, m,"
            "        CASE WHEN random() < 0.1 THEN NULL ELSE round((50 + random() * 450)::numeric) END,"
            "        true, 1, 0, 0, 'pos', %(now)s - make_interval(secs => floor(86400 * (e + random() * (s - e))))"
            " FROM (SELECT g, m, (m * 7919) %% %(days)s + 1 AS s, ((m * 7919) %% %(days)s + 1) * ((m * 104729) %% 100) / 100.0 AS e"
            "       FROM (SELECT g, 1 + floor(%(buyers)s * power(random(), 2))::bigint AS m FROM generate_series(1, %(awards)s) g) picks) spans",
            {"stores": STORES, "buyers": buyers, "now": now, "days": HISTORY_DAYS, "awards": awards})
        conn.execute("CREATE TABLE bench_meta (now timestamptz)")  # the instant the data was made for (--reuse)
        conn.execute("INSERT INTO bench_meta VALUES (%s)", (now,))
        conn.commit()
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def make_app(url: str, now: datetime):  # type: ignore[no-untyped-def]
    from bot import create_app
    from bot.config import Settings

    app = create_app(Settings(app_env="development", database_url=url, admin_token=ADMIN, log_level="WARNING",
                     line_channel_secret="bench-segments-channel-secret", secret_key="bench-segments-secret-key"))
    app.extensions["loyalty"].clock = lambda: now  # both sides compute for the same instant
    return app


# -- ours ------------------------------------------------------------------------------------
class StatementTimer:
    """Wall time of each SQL statement the app runs (for --verbose)."""

    def __init__(self, engine) -> None:  # type: ignore[no-untyped-def]
        self.rows: list[tuple[float, str]] = []
        event.listen(engine, "before_cursor_execute", self.before)
        event.listen(engine, "after_cursor_execute", self.after)

    def before(self, conn, cursor, statement, params, context, many) -> None:  # type: ignore[no-untyped-def]
        conn.info["t0"] = time.perf_counter()

    def after(self, conn, cursor, statement, params, context, many) -> None:  # type: ignore[no-untyped-def]
        self.rows.append((time.perf_counter() - conn.info.pop("t0", time.perf_counter()), " ".join(statement.split())[:110]))


def ours(client, timer: StatementTimer | None) -> dict:  # type: ignore[no-untyped-def]
    auth = {"Authorization": f"Bearer {ADMIN}"}
    if timer:
        timer.rows.clear()
    t0 = time.perf_counter()
    resp = client.post("/api/v1/admin/segments/recompute", headers=auth)
    recompute = time.perf_counter() - t0
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    statements = list(timer.rows) if timer else []
    counts, times = {}, {}
    for name, rule in RULES.items():
        t0 = time.perf_counter()
        r = client.post("/api/v1/admin/segments/preview", json={"rule": rule}, headers=auth)
        times[name] = time.perf_counter() - t0
        assert r.status_code == 200, r.get_json()
        counts[name] = r.get_json()["count"]
    return {"recompute": recompute, "rules": sum(times.values()), "rule_times": times, "counts": counts,
            "scored": body["members_scored"], "tags": body["rule_tags"], "nes": body["nes"], "statements": statements}


# -- pandas ----------------------------------------------------------------------------------
def read_sql_csv(conn, query: str, **kw) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    with conn.cursor().copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy:
        for chunk in copy:
            buf.write(chunk)
    buf.seek(0)
    return pd.read_csv(buf, **kw)


def quintile5(values: pd.Series, ascending: bool = True) -> np.ndarray:
    """models/segment.py's tie-aware quintile: 1 + 5·(RANK() − 1) // n, equal values sharing the lowest rank."""
    rank = values.rank(method="min", ascending=ascending).to_numpy(dtype=np.int64)
    return 1 + (5 * (rank - 1)) // len(values)


def pandas_stats(awards: pd.DataFrame, now: pd.Timestamp) -> pd.DataFrame:
    life = awards.groupby("member_id").agg(first_visit_at=("created_at", "min"), last_visit_at=("created_at", "max"))
    win = awards[awards["created_at"] > now - pd.Timedelta(days=WINDOW_DAYS)]
    w = win.groupby("member_id").agg(visits=("created_at", "size"), spend=("amount", "sum"), last=("created_at", "max"))
    today = now.tz_convert("Asia/Taipei").normalize().tz_localize(None)
    recency = (today - w["last"].dt.tz_convert("Asia/Taipei").dt.normalize().dt.tz_localize(None)).dt.days  # Taipei days since the last visit
    w["r_score"], w["f_score"], w["m_score"] = quintile5(recency, ascending=False), quintile5(w["visits"]), quintile5(w["spend"])
    stats = life.join(w.drop(columns="last"), how="left")
    stats["visits"] = stats["visits"].fillna(0).astype("int64")
    stats["spend"] = stats["spend"].fillna(0.0)
    for c in ("r_score", "f_score", "m_score"):  # bought, but not in the window: 1 on each
        stats[c] = stats[c].fillna(1).astype("Int64")
    hi = {c: stats[f"{c}_score"] >= 3 for c in "rfm"}
    stats["rfm_class"] = None
    for (r, f, m), name in CLASSES.items():
        stats.loc[(hi["r"] == r) & (hi["f"] == f) & (hi["m"] == m), "rfm_class"] = name
    cycle = pd.Timedelta(days=CYCLE_DAYS)
    last = stats["last_visit_at"]
    stats["nes"] = np.select([stats["first_visit_at"] > now - cycle, last > now - cycle, last > now - 2 * cycle, last > now - 3 * cycle],
                             ["N", "E0", "S1", "S2"], "S3")
    return stats


def years_ago(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def pandas_job(url: str, now: datetime) -> dict:
    ts = pd.Timestamp(now)
    times = {}
    t0 = time.perf_counter()
    with psycopg.connect(conninfo(url)) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        awards = read_sql_csv(conn, "SELECT member_id, store_id, created_at, amount FROM award", dtype={"amount": "float64"})
        members = read_sql_csv(conn, "SELECT id, gender, birthday_on, is_reachable FROM member WHERE joined_at IS NOT NULL",
                               index_col="id", parse_dates=["birthday_on"])
        stores = read_sql_csv(conn, "SELECT id, code FROM store", index_col="id")
    awards["created_at"] = pd.to_datetime(awards["created_at"], format="ISO8601", utc=True)
    times["load"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    stats = pandas_stats(awards, ts)
    m = members.join(stats, how="left")
    tags = {"常客": m.index[m["visits"].fillna(0) >= 40],
            "沉睡大戶": m.index[(m["nes"] == "S3") & (m["m_score"].fillna(0) >= 4)]}
    times["compute"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    with psycopg.connect(conninfo(url)) as conn:  # store the results as ours does (one transaction)
        conn.execute("CREATE TABLE IF NOT EXISTS pandas_member_stats (LIKE member_stats)")
        conn.execute("CREATE TABLE IF NOT EXISTS pandas_member_tag (member_id int, tag text)")
        conn.execute("TRUNCATE pandas_member_stats, pandas_member_tag")
        out = stats.reset_index()[["member_id", *STAT_COLUMNS]].assign(computed_at=ts)
        buf = io.StringIO()
        out.to_csv(buf, index=False, header=False)
        with conn.cursor().copy("COPY pandas_member_stats (member_id, " + ", ".join(STAT_COLUMNS) + ", computed_at) FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(buf.getvalue())
        with conn.cursor().copy("COPY pandas_member_tag FROM STDIN") as copy:
            for tag, ids in tags.items():
                for mid in ids:
                    copy.write_row((int(mid), tag))
        conn.commit()
    times["store"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    today = now.astimezone(ZoneInfo("Asia/Taipei")).date()
    birthday = m["birthday_on"].dt.date
    s03 = stores.index[stores["code"] == "S03"][0]
    at_s03 = awards.loc[awards["store_id"] == s03, "member_id"].unique()
    vip = m.index.isin(tags["常客"])
    masks = {
        "important": m["rfm_class"].isin(["重要價值", "重要保持"]),
        "win-back big spenders": m["nes"].isin(["S1", "S2"]) & (m["m_score"].fillna(0) >= 4),
        "women 25-40 not dormant": (m["gender"] == "female") & (birthday <= years_ago(today, 25))
        & (birthday >= years_ago(today, 41) + timedelta(days=1)) & ~(m["nes"] == "S3"),
        "heavy or big": (m["visits"].fillna(0) >= 30) | (m["spend"].fillna(0) >= 10000),
        "store S03, last 30 days": m.index.isin(at_s03) & (m["last_visit_at"] > ts - pd.Timedelta(days=30)),
        "tag 常客 + birthday month": vip & (m["birthday_on"].dt.month == 5),
    }
    counts = {name: int(mask.sum()) for name, mask in masks.items()}
    times["rules"] = time.perf_counter() - t0
    times["job"] = times["load"] + times["compute"] + times["store"]
    return {**times, "counts": counts, "tags": {k: len(v) for k, v in tags.items()}, "stats": stats}


# -- checks and report -----------------------------------------------------------------------
def compare(url: str, stats: pd.DataFrame) -> list[str]:
    with psycopg.connect(conninfo(url)) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        db = read_sql_csv(conn, "SELECT member_id, " + ", ".join(STAT_COLUMNS) + " FROM member_stats", index_col="member_id")
    db["first_visit_at"] = pd.to_datetime(db["first_visit_at"], format="ISO8601", utc=True)
    db["last_visit_at"] = pd.to_datetime(db["last_visit_at"], format="ISO8601", utc=True)
    problems = []
    if set(db.index) != set(stats.index):
        return [f"members scored: ours {len(db)}, pandas {len(stats)}"]
    db = db.loc[stats.index]
    for col in STAT_COLUMNS:
        a, b = db[col], stats[col]
        if col == "spend":
            same = (a.round(2) == b.round(2))
        elif col == "rfm_class":
            same = a.fillna("-") == b.fillna("-")
        elif col.endswith("_score"):
            same = a.astype("Int64").fillna(0) == b.fillna(0)
        else:
            same = a == b
        if not same.all():
            bad = same[~same].index[:3].tolist()
            problems.append(f"{col}: {int((~same).sum())} members differ (e.g. {bad}: ours {a.loc[bad].tolist()}, pandas {b.loc[bad].tolist()})")
    return problems


def spread(values: list[float]) -> str:
    return f"{min(values):6.2f} s  (median {statistics.median(values):.2f}, worst {max(values):.2f})"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--members", type=int, default=100_000)
    p.add_argument("--awards", type=int, default=2_000_000)
    p.add_argument("--rounds", type=int, default=3, help="timed rounds, ours and pandas alternating (ABBA)")
    p.add_argument("--setup-sql", action="append", default=[], metavar="SQL",
                   help="run this SQL on the bench database after loading it (to try an index by hand; repeatable)")
    p.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/bench_segments")
    p.add_argument("--reuse", action="store_true", help="keep the data of the previous run (same sizes) instead of rebuilding")
    p.add_argument("-v", "--verbose", action="store_true", help="print the recompute's SQL statements with their times")
    args = p.parse_args(argv)
    parsed = make_url(args.database_url)
    if parsed.host not in ("127.0.0.1", "localhost", "::1") or "bench" not in (parsed.database or ""):
        p.error("--database-url must be a loopback PostgreSQL database whose name contains 'bench' (it is dropped)")
    from bot.config import normalise_database_url

    url = normalise_database_url(args.database_url)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    now = datetime.now(UTC).replace(microsecond=0)
    t0 = time.perf_counter()
    if args.reuse:
        with psycopg.connect(conninfo(url)) as conn:
            now = conn.execute("SELECT now FROM bench_meta").fetchone()[0]  # type: ignore[index]
    else:
        build_database(url, args.members, args.awards, now)
    for statement in args.setup_sql:  # by-hand experiments (an index, a constraint) on the bench database only
        with psycopg.connect(conninfo(url), autocommit=True) as conn:
            conn.execute(statement)
            print(f"ran on {parsed.database}: {statement}")
    with psycopg.connect(conninfo(url)) as conn:
        n_members, n_awards = (conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("member", "award"))  # type: ignore[index]
        settings = {k: conn.execute(f"SHOW {k}").fetchone()[0] for k in ("server_version", "work_mem", "shared_buffers")}  # type: ignore[index]
    print(f"database {parsed.database}: {n_members:,} members, {n_awards:,} awards ({time.perf_counter() - t0:.1f}s to build);"
          f" PostgreSQL {settings['server_version']}, work_mem {settings['work_mem']}, shared_buffers {settings['shared_buffers']}")
    app = make_app(url, now)
    client = app.test_client()
    for name, rule in TAGS.items():
        resp = client.post("/api/v1/admin/tags", json={"name": name, "rule": rule}, headers={"Authorization": f"Bearer {ADMIN}"})
        assert resp.status_code in (201, 422), resp.get_json()  # 422: kept from a --reuse run
    timer = StatementTimer(app.extensions["loyalty"].db.engine) if args.verbose else None
    rss0 = peak_rss_mb()
    runs: dict[str, list[dict]] = {"ours": [], "pandas": []}
    for r in range(args.rounds):
        for side in (("ours", "pandas"), ("pandas", "ours"))[r % 2]:
            result = ours(client, timer) if side == "ours" else pandas_job(url, now)
            runs[side].append(result)
            if side == "ours":
                print(f"round {r + 1}/{args.rounds} ours:   recompute {result['recompute']:.2f} s, {len(RULES)} rule counts {result['rules']:.2f} s")
                if timer:
                    for took, sql in sorted(result["statements"], reverse=True)[:8]:
                        print(f"    {took * 1000:8.1f} ms  {sql}")
            else:
                print(f"round {r + 1}/{args.rounds} pandas: load {result['load']:.2f} s + compute {result['compute']:.2f} s"
                      f" + store {result['store']:.2f} s = {result['job']:.2f} s; rule counts {result['rules']:.2f} s")
    rss = peak_rss_mb()
    last_ours, last_pandas = runs["ours"][-1], runs["pandas"][-1]
    problems = compare(url, last_pandas["stats"])
    if last_ours["counts"] != last_pandas["counts"]:
        problems.append(f"rule counts differ: ours {last_ours['counts']}, pandas {last_pandas['counts']}")
    if last_ours["tags"] != last_pandas["tags"]:
        problems.append(f"rule tags differ: ours {last_ours['tags']}, pandas {last_pandas['tags']}")

    recompute = [x["recompute"] for x in runs["ours"]]
    job = [x["job"] for x in runs["pandas"]]
    compute = [x["compute"] for x in runs["pandas"]]
    print(f"\n{n_members:,} members, {n_awards:,} awards, {last_ours['scored']:,} scored; window {WINDOW_DAYS} d, cycle {CYCLE_DAYS} d;"
          f" best of {args.rounds} rounds (timings on a shared 2-core machine are noisy: see the spread)")
    print(f"  ours    recompute (POST /segments/recompute)   {spread(recompute)}")
    print(f"  pandas  load + compute + store                 {spread(job)}")
    print(f"  pandas  compute only (data already in memory)  {spread(compute)}")
    print(f"  pandas  load {min(x['load'] for x in runs['pandas']):.2f} s, store {min(x['store'] for x in runs['pandas']):.2f} s (best)")
    print(f"  ratio   pandas job / ours = {min(job) / min(recompute):.2f}x;  pandas compute only / ours = {min(compute) / min(recompute):.2f}x")
    print(f"  peak RSS of this process: {rss0:.0f} MB before pandas ran, {rss:.0f} MB after (ours stays in the database)")
    print(f"  NES {last_ours['nes']}; rule tags {last_ours['tags']}")
    print("\nsegment rule counts (preview: count + sample of 10)      count   ours best   pandas best")
    for name in RULES:
        best = min(x["rule_times"][name] for x in runs["ours"])
        print(f"  {name:<32} {last_ours['counts'][name]:>22,}   {best * 1000:7.0f} ms")
    print(f"  {'all ' + str(len(RULES)) + ' rules':<32} {'':>22}   {min(x['rules'] for x in runs['ours']) * 1000:7.0f} ms"
          f"   {min(x['rules'] for x in runs['pandas']) * 1000:7.0f} ms")
    targets = [(f"recompute < {TARGET_SECONDS:.0f} s", f"{min(recompute):.2f} s", min(recompute) < TARGET_SECONDS),
               ("faster than pandas (same job)", f"{min(job) / min(recompute):.2f}x", min(recompute) < min(job))]
    print("\ntargets:")
    for label, value, ok in targets:
        print(f"  {label:<32} {value:>10}  {'PASS' if ok else 'MISS'}")
    print("\nchecks: ours and pandas agree on every member's visits, spend, first/last visit, R/F/M, class, NES; tags; rule counts")
    for problem in problems:
        print(f"  MISMATCH {problem}")
    print(f"  => {'OK' if not problems else 'FAILED'}")
    app.extensions["loyalty"].db.dispose()
    return 0 if not problems and all(ok for *_, ok in targets) else 1


if __name__ == "__main__":
    sys.exit(main())
