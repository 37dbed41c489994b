"""Ledger properties under any sequence of counter operations (hypothesis state machine).

The machine calls the domain functions directly, one ``db.transaction()`` per operation (as a
request does), and keeps its own pure-Python model: FIFO lots per member and currency, the
earning arithmetic with daily caps per Taipei business day, grants, receipts and redemptions.
After every step it checks, against a separate query of the raw entries:

* ``balance(member, c)`` == the sum of that member's ``LedgerEntry.amount`` for ``c`` == the model, and >= 0;
* reward grants == card_reward entries (per member) == the model;
* a repeated receipt / request id answers with the original result when it repeats the same
  purchase / redemption, and is refused (``receipt_already_awarded`` / ``request_id_reused``) when
  it comes with another member, amount, visit or reward; either way, like any refused operation
  (insufficient balance, not a manager, nothing to award, a used grant), it adds no rows at all;
* ``expire_due`` expires exactly what the FIFO model says is left of the lots past their date
  (never more), and a second run at the same instant expires nothing.

The earning rule is drawn once per example; tests/test_ledger_expiry.py changes the expiry
periods in between.  Runs on SQLite
and, with TEST_DATABASE_URL, on PostgreSQL; the tables are emptied per example.  ~15-20 s per
database; a failure shrinks for up to a few minutes before it is reported.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from models import metadata
from models.errors import Conflict, DomainError, InvalidInput, NotFound
from models.expiry import expire_due
from models.ledger import Award, InsufficientBalance, LedgerEntry, award, balance, correct, lock_member, spend
from models.member import complete_join, ensure_member
from models.reward import Redemption, RewardGrant, create_item, redeem_item, use_grant
from models.rule import get_rule, update_rule
from models.store import Actor, Forbidden, create_staff, create_store

TAIPEI = ZoneInfo("Asia/Taipei")
CURRENCIES = ("stamp", "point")
N_MEMBERS = 2

SETTINGS = settings(
    max_examples=40,
    stateful_step_count=25,
    deadline=None,
    database=None,  # no .hypothesis/ folder in the work tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# -- the model ----------------------------------------------------------------------------------
@dataclass
class Lot:
    left: int
    expires_at: datetime | None


@dataclass
class MemberModel:
    member_id: int
    lots: dict[str, list[Lot]] = field(default_factory=lambda: {c: [] for c in CURRENCIES})
    earned: dict[tuple[date, str], int] = field(default_factory=dict)  # award earnings per business day
    grants: list[int] = field(default_factory=list)
    used_grants: set[int] = field(default_factory=set)

    def balance(self, currency: str) -> int:
        return sum(lot.left for lot in self.lots[currency])

    def credit(self, currency: str, amount: int, expires_at: datetime | None) -> None:
        assert amount > 0
        self.lots[currency].append(Lot(amount, expires_at))

    def debit(self, currency: str, amount: int) -> None:
        """Consume the oldest lots first."""
        assert 0 < amount <= self.balance(currency)
        for lot in self.lots[currency]:
            take = min(lot.left, amount)
            lot.left -= take
            amount -= take
            if not amount:
                return

    def expire(self, currency: str, now: datetime) -> int:
        """What is left of the lots past their date; they are gone afterwards."""
        due = 0
        for lot in self.lots[currency]:
            if lot.expires_at is not None and lot.expires_at <= now:
                due += lot.left
                lot.left = 0
        return due


def floor_div(amount: Decimal, per: Decimal) -> int:
    """floor(amount / per) in whole cents, independent of the domain's Decimal rounding."""
    return int(amount * 100) // int(per * 100)


def expires(now: datetime, days: int | None) -> datetime | None:
    return now + timedelta(days=days) if days else None


amounts = st.one_of(
    st.none(),
    st.integers(0, 3000).map(Decimal),
    st.decimals(min_value=0, max_value=1500, places=2, allow_nan=False, allow_infinity=False),
)
member_ix = st.integers(0, N_MEMBERS - 1)


def empty_all(engine) -> None:  # type: ignore[no-untyped-def]
    """Empty every table between examples. Like conftest's truncate_all, but DELETE on PostgreSQL
    too: TRUNCATE of ~20 tables costs ~200 ms there, DELETE of a few rows ~7 ms (ids keep counting)."""
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())


def seed_store(db, code: str, *, now: datetime, members: int) -> tuple[Actor, Actor, list[int]]:  # type: ignore[no-untyped-def]
    """An empty database with one store, its cashier and manager, and ``members`` joined members."""
    empty_all(db.engine)
    with db.transaction() as s:
        store = create_store(s, code=code, name=f"{code} 店", now=now)
        staff = [create_staff(s, store, username=f"{code.lower()}-{role}", password="correct horse", role=role,
                              display_name=role[0], now=now) for role in ("cashier", "manager")]
        ids = []
        for i in range(members):
            m = ensure_member(s, f"U{i:032x}", now=now)
            complete_join(s, m, now=now, birthday_on=date(1990, 5, 20), terms_version="2026-01",
                          consented_at=now, phone=None, gender=None)
            ids.append(m.id)
    cashier, manager = (Actor(store_id=store.id, kind="staff", staff_id=st.id, role=st.role) for st in staff)
    return cashier, manager, ids


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self, db) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.db = db
        self.now = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)  # 23:30 in Taipei: business days (caps) matter soon
        self.seq = 0
        self.cashier, self.manager, ids = seed_store(db, "PROP01", now=self.now, members=N_MEMBERS)
        self.members: list[MemberModel] = [MemberModel(i) for i in ids]
        # receipt -> (member ix, award id, (stamps, points, rewards), (amount, visit))
        self.receipts: dict[str, tuple[int, int, tuple[int, int, int], tuple[Decimal | None, bool]]] = {}
        self.requests: dict[str, tuple[int, int, int, int]] = {}  # request id -> (member ix, redemption id, points, item id)
        self.items: list[tuple[int, int]] = []  # (item id, cost)
        self.rows = {"entries": 0, "awards": 0, "redemptions": 0, "grants": 0}  # rows the model expects

    # -- helpers ------------------------------------------------------------------------------
    def _refused(self, exc_type: type[DomainError], fn, code: str) -> DomainError:  # type: ignore[no-untyped-def]
        """``fn`` must fail with ``exc_type``; the model does not change, so the invariant then
        proves the refusal added no row anywhere (entries, awards, redemptions, grants)."""
        with pytest.raises(exc_type) as info:
            with self.db.transaction() as s:
                fn(s)
        assert info.value.code == code
        return info.value

    def _new_id(self, prefix: str) -> str:
        self.seq += 1
        return f"{prefix}-{self.seq}"

    # -- setup --------------------------------------------------------------------------------
    @initialize(
        card_size=st.integers(1, 6),
        stamps_per_visit=st.integers(0, 3),
        amount_per_stamp=st.sampled_from([None, "50", "100", "33.33"]),
        amount_per_point=st.sampled_from(["1", "10", "10", "25", None]),
        min_spend=st.sampled_from(["0", "0", "50"]),
        daily_cap_stamps=st.sampled_from([None, None, 4, 12]),
        daily_cap_points=st.sampled_from([None, None, 100, 600]),
        stamp_expiry_days=st.sampled_from([None, 1, 7, 30]),
        point_expiry_days=st.sampled_from([None, 1, 7, 30]),
        costs=st.lists(st.integers(1, 150), min_size=1, max_size=4),
    )
    def setup(self, costs: list[int], **changes) -> None:  # type: ignore[no-untyped-def]
        with self.db.transaction() as s:
            r = update_rule(s, changes, now=self.now)
            self.card_size = r.card_size
            self.spv, self.min_spend = r.stamps_per_visit, r.min_spend
            self.aps, self.app = r.amount_per_stamp, r.amount_per_point
            self.caps = {"stamp": r.daily_cap_stamps, "point": r.daily_cap_points}
            self.days = {"stamp": r.stamp_expiry_days, "point": r.point_expiry_days}
            for cost in costs:
                item = create_item(s, name=f"品項{cost}", points_cost=cost, now=self.now)
                self.items.append((item.id, cost))

    # -- operations ---------------------------------------------------------------------------
    @rule(m=member_ix, amount=amounts, visit=st.booleans(), repeat=st.integers(0, 3), pick=st.integers(0, 10**6),
          pad=st.booleans(), retry=st.booleans())
    def award_receipt(self, m: int, amount: Decimal | None, visit: bool, repeat: int, pick: int, pad: bool,
                      retry: bool = False) -> None:
        if repeat == 0 and self.receipts:  # about one in four: a receipt id seen before
            receipt = sorted(self.receipts)[pick % len(self.receipts)]
            if retry:  # half of them a true retry: the same member and purchase again
                m, (amount, visit) = self.receipts[receipt][0], self.receipts[receipt][3]
        else:
            receipt = self._new_id("R")
        mm = self.members[m]

        def call(s):  # type: ignore[no-untyped-def]
            sent = f"  {receipt} " if pad else receipt  # ids are trimmed: the padded id is the same receipt
            return award(s, member_id=mm.member_id, receipt_id=sent, amount=amount, visit=visit,
                         actor=self.cashier, rule=get_rule(s), now=self.now)

        if amount is None and not visit:  # checked before the receipt is looked up
            self._refused(InvalidInput, call, "nothing_to_award")
            return
        if receipt in self.receipts:
            owner, award_id, original, purchase = self.receipts[receipt]
            if owner != m or purchase != (amount, visit):
                event("award: receipt of another member or purchase refused")
                self._refused(Conflict, call, "receipt_already_awarded")
                return
            event("award: repeated receipt replayed")
            with self.db.transaction() as s:
                result = call(s)
            assert result.replayed and result.award_id == award_id
            assert (result.stamps, result.points, result.rewards) == original
            assert (result.stamp_balance, result.point_balance) == (mm.balance("stamp"), mm.balance("point"))
            return

        # the model's expectation
        earned = {"stamp": 0, "point": 0}
        if amount is None or amount >= self.min_spend:
            earned["stamp"] = self.spv if visit else 0
            if amount is not None and amount > 0:
                if self.aps:
                    earned["stamp"] += floor_div(amount, self.aps)
                if self.app:
                    earned["point"] = floor_div(amount, self.app)
        day = self.now.astimezone(TAIPEI).date()
        got = {}
        for c in CURRENCIES:
            cap, already = self.caps[c], mm.earned.get((day, c), 0)
            got[c] = earned[c] if cap is None else max(0, min(earned[c], cap - already))
        with self.db.transaction() as s:
            result = call(s)
        assert not result.replayed
        assert (result.stamps, result.points) == (got["stamp"], got["point"]), (earned, got, result)
        assert result.capped == (got != earned)
        for c in CURRENCIES:
            if got[c]:
                mm.earned[(day, c)] = mm.earned.get((day, c), 0) + got[c]
                mm.credit(c, got[c], expires(self.now, self.days[c]))
        rewards = 0
        while mm.balance("stamp") >= self.card_size:
            mm.debit("stamp", self.card_size)
            rewards += 1
        assert result.rewards == rewards == len(result.reward_ids)
        event("award: new" + (", capped" if result.capped else "") + (", card filled" if rewards else ""))
        mm.grants.extend(result.reward_ids)
        assert (result.stamp_balance, result.point_balance) == (mm.balance("stamp"), mm.balance("point"))
        self.rows["entries"] += (got["stamp"] > 0) + (got["point"] > 0) + rewards
        self.rows["awards"] += 1
        self.rows["grants"] += rewards
        self.receipts[receipt] = (m, result.award_id, (result.stamps, result.points, result.rewards), (amount, visit))

    @rule(m=member_ix, visits=st.integers(1, 3), amount=st.integers(300, 3000))
    def big_purchases(self, m: int, visits: int, amount: int) -> None:
        """A few visits with a large amount each: cards fill, points pile up."""
        for _ in range(visits):
            self.award_receipt(m=m, amount=Decimal(amount), visit=True, repeat=1, pick=0, pad=False, retry=False)

    @rule(m=member_ix, item=st.integers(0, 10**6), affordable=st.sampled_from([True, True, False]),
          repeat=st.integers(0, 3), pick=st.integers(0, 10**6), retry=st.sampled_from([True, True, False]))
    def redeem(self, m: int, item: int, affordable: bool, repeat: int, pick: int, retry: bool) -> None:
        if affordable:  # mostly the member who has the points, and an item they can afford
            m = max(range(N_MEMBERS), key=lambda i: (self.members[i].balance("point"), -i))
        mm = self.members[m]
        choices = [i for i in self.items if i[1] <= mm.balance("point")] if affordable else []
        item_id, cost = (choices or self.items)[item % len(choices or self.items)]
        if repeat == 0 and self.requests:  # an id seen before: mostly a retry, else another member's or item's
            request_id = sorted(self.requests)[pick % len(self.requests)]
            if retry:
                m, item_id = self.requests[request_id][0], self.requests[request_id][3]
                mm, cost = self.members[m], dict(self.items)[item_id]
        else:
            request_id = self._new_id("Q")

        def call(s):  # type: ignore[no-untyped-def]
            return redeem_item(s, member_id=mm.member_id, item_id=item_id, request_id=request_id, actor=self.cashier, now=self.now)

        if request_id in self.requests:
            owner, red_id, points, original_item = self.requests[request_id]
            if (owner, original_item) != (m, item_id):
                event("redeem: request id of another member or reward refused")
                self._refused(Conflict, call, "request_id_reused")
                return
            with self.db.transaction() as s:
                result = call(s)
            assert result.replayed and result.redemption_id == red_id and result.points == points
            event("redeem: repeated request replayed")
            assert result.point_balance == mm.balance("point")
            return
        if mm.balance("point") < cost:
            event("redeem: insufficient balance refused")
            exc = self._refused(InsufficientBalance, call, "insufficient_balance")
            assert exc.details == {"balance": mm.balance("point"), "needed": cost, "currency": "point"}
            return
        with self.db.transaction() as s:
            result = call(s)
        mm.debit("point", cost)
        assert not result.replayed and result.points == cost and result.point_balance == mm.balance("point")
        self.rows["entries"] += 1
        self.rows["redemptions"] += 1
        self.requests[request_id] = (m, result.redemption_id, cost, item_id)
        event("redeem: ok")

    @rule(m=member_ix, amount=st.integers(1, 12))
    def spend_stamps(self, m: int, amount: int) -> None:
        mm = self.members[m]

        def call(s):  # type: ignore[no-untyped-def]
            lock_member(s, mm.member_id)
            return spend(s, member_id=mm.member_id, currency="stamp", amount=amount, reason="redeem", actor=self.cashier, now=self.now)

        if mm.balance("stamp") < amount:
            self._refused(InsufficientBalance, call, "insufficient_balance")
            return
        with self.db.transaction() as s:
            entry = call(s)
            assert entry.amount == -amount
        mm.debit("stamp", amount)
        self.rows["entries"] += 1

    @rule(m=member_ix, currency=st.sampled_from(CURRENCIES), amount=st.integers(-40, 40).filter(bool),
          as_manager=st.sampled_from([True, True, True, False]))
    def correction(self, m: int, currency: str, amount: int, as_manager: bool) -> None:
        mm = self.members[m]
        actor = self.manager if as_manager else self.cashier

        def call(s):  # type: ignore[no-untyped-def]
            return correct(s, member_id=mm.member_id, currency=currency, amount=amount, note="盤點調整", actor=actor,
                           now=self.now, rule=get_rule(s))

        if not as_manager:
            self._refused(Forbidden, call, "manager_only")
            return
        if amount < 0 and mm.balance(currency) < -amount:
            self._refused(InsufficientBalance, call, "insufficient_balance")
            return
        with self.db.transaction() as s:
            entry = call(s)
            assert entry.amount == amount and entry.reason == "correction"
        if amount > 0:
            mm.credit(currency, amount, expires(self.now, self.days[currency]))
        else:
            mm.debit(currency, -amount)
        self.rows["entries"] += 1

    @rule(hours=st.integers(1, 12))
    def later_that_day(self, hours: int) -> None:
        """Hours pass (often across midnight in Taipei, where daily caps start again)."""
        self.now += timedelta(hours=hours)

    @rule(days=st.integers(0, 40), hours=st.integers(0, 23))
    def time_passes_and_lots_expire(self, days: int, hours: int) -> None:
        self.now += timedelta(days=days, hours=hours)
        for mm in self.members:
            for c in CURRENCIES:
                want = mm.expire(c, self.now)
                with self.db.transaction() as s:
                    got = expire_due(s, member_id=mm.member_id, currency=c, now=self.now)
                    again = expire_due(s, member_id=mm.member_id, currency=c, now=self.now)
                assert got <= want, f"expire_due took {got} {c}s; the unspent expired lots hold only {want}"
                assert got == want, f"expire_due took {got} {c}s; FIFO says {want}"
                assert again == 0, "a second run at the same instant expired more"
                self.rows["entries"] += 1 if got else 0
                if got:
                    event(f"expire: {c}s expired")

    @rule(m=member_ix, pick=st.integers(0, 10**6), other=st.sampled_from([False, False, False, True]))
    def use_a_grant(self, m: int, pick: int, other: bool) -> None:
        owner = self.members[m]
        if not owner.grants:
            return
        grant_id = owner.grants[pick % len(owner.grants)]
        presenter = self.members[(m + 1) % N_MEMBERS] if other else owner

        def call(s):  # type: ignore[no-untyped-def]
            return use_grant(s, grant_id=grant_id, member_id=presenter.member_id, actor=self.cashier, now=self.now)

        if other:
            self._refused(NotFound, call, "grant_not_found")
        elif grant_id in owner.used_grants:
            self._refused(Conflict, call, "grant_used")
        else:
            with self.db.transaction() as s:
                call(s)
            owner.used_grants.add(grant_id)  # handing over a reward moves no stamps: rows unchanged

    # -- invariants ---------------------------------------------------------------------------
    @invariant()
    def ledger_matches_entries_and_model(self) -> None:
        counts = [select(func.count()).select_from(t).scalar_subquery() for t in (LedgerEntry, Award, Redemption, RewardGrant)]
        with self.db.sessions() as s:
            rows = s.execute(select(LedgerEntry.member_id, LedgerEntry.currency, LedgerEntry.amount, LedgerEntry.reason)).all()
            grants = s.execute(select(RewardGrant.member_id, RewardGrant.id, RewardGrant.used_at)).all()
            table_rows = dict(zip(("entries", "awards", "redemptions", "grants"), s.execute(select(*counts)).one()))
            balances = {(mm.member_id, c): balance(s, mm.member_id, c) for mm in self.members for c in CURRENCIES}
        # nothing refused, replayed or handed over added a row; everything else added exactly its rows
        assert table_rows == self.rows, (table_rows, self.rows)
        for mm in self.members:
            for c in CURRENCIES:
                recomputed = sum(r.amount for r in rows if r.member_id == mm.member_id and r.currency == c)
                got = balances[(mm.member_id, c)]
                assert got == recomputed == mm.balance(c), (c, got, recomputed, mm.balance(c))
                assert got >= 0
                assert all(lot.left >= 0 for lot in mm.lots[c])
            card_rewards = sum(1 for r in rows if r.member_id == mm.member_id and r.reason == "card_reward")
            mine = [g for g in grants if g.member_id == mm.member_id]
            assert len(mine) == card_rewards == len(mm.grants)
            assert {g.id for g in mine if g.used_at is not None} == mm.used_grants


def test_ledger_state_machine(db):  # type: ignore[no-untyped-def]
    run_state_machine_as_test(lambda: LedgerMachine(db), settings=SETTINGS)
