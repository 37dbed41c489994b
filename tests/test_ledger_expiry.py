"""Expiry under changing periods (hypothesis state machine).

Any sequence of awards (with full stamp cards), redemptions, corrections, expiry-period changes,
time passing and expiry runs, against a pure-Python FIFO model: every credit is a lot with its
time, every debit (redemption, card reward, negative correction, expiry) takes the oldest lots
first, and an earning is due once it is older than the period of the rule *now* (a period
changed later moves the due date of earnings made before it; no period: nothing is due).

After every step:

* ``balance(member, c)`` == the sum of the member's entries for ``c`` == the model, and >= 0;
* ``expire_due`` at ``T`` expires exactly what the model says is left of the due lots, so
  afterwards no earning older than the current period holds value; checked on the raw entries
  too, without the model: under FIFO what is left of a balance is its newest units, so the
  balance must fit in the earnings made since ``T - period``;
* a second ``expire_due`` at the same instant expires nothing and adds no row;
* the expiry job's candidates (``members_with_due_lots``) are exactly the members with something due.

Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL; ~10-20 s per database.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from models.errors import DomainError
from models.expiry import expire_due, members_with_due_lots
from models.ledger import InsufficientBalance, LedgerEntry, award, balance, correct
from models.reward import create_item, redeem_item
from models.rule import get_rule, update_rule
from tests.test_ledger_properties import seed_store

CURRENCIES = ("stamp", "point")
N_MEMBERS = 2
PERIODS = st.sampled_from([None, 1, 3, 7, 30, 60])

SETTINGS = settings(
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    database=None,  # no .hypothesis/ folder in the work tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass
class Lot:
    at: datetime
    left: int


@dataclass
class Wallet:
    member_id: int
    lots: dict[str, list[Lot]] = field(default_factory=lambda: {c: [] for c in CURRENCIES})

    def balance(self, currency: str) -> int:
        return sum(lot.left for lot in self.lots[currency])

    def credit(self, currency: str, amount: int, at: datetime) -> None:
        self.lots[currency].append(Lot(at, amount))

    def debit(self, currency: str, amount: int) -> None:
        assert 0 < amount <= self.balance(currency)
        for lot in self.lots[currency]:
            take = min(lot.left, amount)
            lot.left, amount = lot.left - take, amount - take

    def expire(self, currency: str, now: datetime, days: int | None) -> int:
        if days is None:
            return 0
        due = 0
        for lot in self.lots[currency]:
            if lot.at <= now - timedelta(days=days):
                due, lot.left = due + lot.left, 0
        return due


class ExpiryMachine(RuleBasedStateMachine):
    def __init__(self, db) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.db = db
        self.now = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)
        self.seq = 0
        self.cashier, self.manager, ids = seed_store(db, "EXP01", now=self.now, members=N_MEMBERS)
        self.wallets: list[Wallet] = [Wallet(i) for i in ids]
        self.items: list[tuple[int, int]] = []

    def _next(self, prefix: str) -> str:
        self.seq += 1
        return f"{prefix}-{self.seq}"

    def _refused(self, exc_type: type[DomainError], fn) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(exc_type):
            with self.db.transaction() as s:
                fn(s)

    @initialize(card_size=st.sampled_from([3, 5, 50]), stamp_days=PERIODS, point_days=PERIODS,
                costs=st.lists(st.integers(1, 120), min_size=1, max_size=3))
    def setup(self, card_size: int, stamp_days: int | None, point_days: int | None, costs: list[int]) -> None:
        self.card_size = card_size
        self.days = {"stamp": stamp_days, "point": point_days}
        with self.db.transaction() as s:
            update_rule(s, {"amount_per_point": "1", "stamps_per_visit": 1, "amount_per_stamp": None, "card_size": card_size,
                            "daily_cap_stamps": None, "daily_cap_points": None, "min_spend": "0",
                            "stamp_expiry_days": stamp_days, "point_expiry_days": point_days}, now=self.now)
            self.items = [(create_item(s, name=f"品項{c}", points_cost=c, now=self.now).id, c) for c in costs]

    # -- operations ---------------------------------------------------------------------------
    @rule(m=st.integers(0, N_MEMBERS - 1), amount=st.integers(0, 200), visit=st.booleans())
    def purchase(self, m: int, amount: int, visit: bool) -> None:
        w = self.wallets[m]
        with self.db.transaction() as s:
            result = award(s, member_id=w.member_id, receipt_id=self._next("R"), amount=Decimal(amount), visit=visit,
                           actor=self.cashier, rule=get_rule(s), now=self.now)
        assert (result.stamps, result.points) == (int(visit), amount)
        if amount:
            w.credit("point", amount, self.now)
        if visit:
            w.credit("stamp", 1, self.now)
        while w.balance("stamp") >= self.card_size:  # a full card: its reward takes the oldest stamps
            w.debit("stamp", self.card_size)
        assert (result.stamp_balance, result.point_balance) == (w.balance("stamp"), w.balance("point"))

    @rule(m=st.integers(0, N_MEMBERS - 1), pick=st.integers(0, 10**6))
    def redeem(self, m: int, pick: int) -> None:
        w = self.wallets[m]
        item_id, cost = self.items[pick % len(self.items)]

        def call(s):  # type: ignore[no-untyped-def]
            return redeem_item(s, member_id=w.member_id, item_id=item_id, request_id=self._next("Q"), actor=self.cashier, now=self.now)

        if w.balance("point") < cost:
            self._refused(InsufficientBalance, call)
            return
        with self.db.transaction() as s:
            call(s)
        w.debit("point", cost)

    @rule(m=st.integers(0, N_MEMBERS - 1), currency=st.sampled_from(CURRENCIES), amount=st.integers(-60, 60).filter(bool))
    def correction(self, m: int, currency: str, amount: int) -> None:
        w = self.wallets[m]

        def call(s):  # type: ignore[no-untyped-def]
            return correct(s, member_id=w.member_id, currency=currency, amount=amount, note="調整", actor=self.manager,
                           now=self.now, rule=get_rule(s))

        if amount < 0 and w.balance(currency) < -amount:
            self._refused(InsufficientBalance, call)
            return
        with self.db.transaction() as s:
            call(s)
        if amount > 0:
            w.credit(currency, amount, self.now)
        else:
            w.debit(currency, -amount)

    @rule(currency=st.sampled_from(CURRENCIES), days=PERIODS)
    def change_period(self, currency: str, days: int | None) -> None:
        event("period " + ("shortened" if (days or 10**9) < (self.days[currency] or 10**9) else "lengthened or kept"))
        with self.db.transaction() as s:
            update_rule(s, {f"{currency}_expiry_days": days}, now=self.now)
        self.days[currency] = days

    @rule(days=st.integers(0, 40), hours=st.integers(0, 23))
    def time_passes(self, days: int, hours: int) -> None:
        self.now += timedelta(days=days, hours=hours)

    @rule()
    def expiry_run(self) -> None:
        with self.db.sessions() as s:
            candidates = set(members_with_due_lots(s, self.now))
        due = {(w.member_id, c) for w in self.wallets for c in CURRENCIES if self._due(w, c)}
        assert candidates == due, f"the job would visit {candidates}; something is due for {due}"
        for w in self.wallets:
            for c in CURRENCIES:
                want = w.expire(c, self.now, self.days[c])
                with self.db.transaction() as s:
                    got = expire_due(s, member_id=w.member_id, currency=c, now=self.now)
                with self.db.transaction() as s:
                    rows = s.scalar(select(func.count()).select_from(LedgerEntry))
                    again = expire_due(s, member_id=w.member_id, currency=c, now=self.now)
                    assert s.scalar(select(func.count()).select_from(LedgerEntry)) == rows + (1 if again else 0)
                assert got == want, f"expire_due took {got} {c}s at {self.now}; FIFO under a {self.days[c]}-day period says {want}"
                assert again == 0, "a second run at the same instant expired more"
                if got:
                    event(f"expired {c}s")
                self._nothing_old_holds_value(w, c)

    def _due(self, w: Wallet, c: str) -> bool:
        days = self.days[c]
        return days is not None and any(lot.left and lot.at <= self.now - timedelta(days=days) for lot in w.lots[c])

    def _nothing_old_holds_value(self, w: Wallet, c: str) -> None:
        days = self.days[c]
        if days is None:
            return
        cutoff = self.now - timedelta(days=days)
        assert all(lot.left == 0 for lot in w.lots[c] if lot.at <= cutoff)
        with self.db.sessions() as s:
            left = balance(s, w.member_id, c)
            young = s.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                LedgerEntry.member_id == w.member_id, LedgerEntry.currency == c, LedgerEntry.amount > 0, LedgerEntry.created_at > cutoff))
        assert left <= young, f"{left} {c}s left, but only {young} were earned in the last {days} days"

    # -- invariants ---------------------------------------------------------------------------
    @invariant()
    def balances_are_sums_of_entries_and_match_the_model(self) -> None:
        with self.db.sessions() as s:
            rows = s.execute(select(LedgerEntry.member_id, LedgerEntry.currency, LedgerEntry.amount)).all()
            balances = {(w.member_id, c): balance(s, w.member_id, c) for w in self.wallets for c in CURRENCIES}
        for w in self.wallets:
            for c in CURRENCIES:
                summed = sum(r.amount for r in rows if (r.member_id, r.currency) == (w.member_id, c))
                assert balances[(w.member_id, c)] == summed == w.balance(c) >= 0, (c, balances[(w.member_id, c)], summed, w.balance(c))


def test_expiry_follows_the_current_period_fifo(db):  # type: ignore[no-untyped-def]
    run_state_machine_as_test(lambda: ExpiryMachine(db), settings=SETTINGS)
