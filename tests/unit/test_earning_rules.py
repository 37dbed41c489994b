"""Earning (models/rule.py ``earn_for``) and the daily caps (``capped``): what one purchase earns."""
from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

from hypothesis import given
from hypothesis import strategies as st

from models.rule import EarningRule, capped, earn_for

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2)
rates = st.none() | st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1000"), places=2)
multipliers = st.sampled_from([Decimal(1), Decimal("1.5"), Decimal(2), Decimal(3)])


def rule(*, per_visit: int = 1, per_stamp: Decimal | None = None, per_point: Decimal | None = Decimal(10),
         min_spend: Decimal = Decimal(0)) -> EarningRule:
    return EarningRule(stamps_per_visit=per_visit, amount_per_stamp=per_stamp, amount_per_point=per_point, min_spend=min_spend)


def test_the_default_rule_earns_a_stamp_a_visit_and_a_point_per_ten_dollars():
    assert earn_for(rule(), amount=Decimal("129"), visit=True) == (earn_for(rule(), amount=Decimal("129.99"), visit=True))
    earned = earn_for(rule(), amount=Decimal("129"), visit=True)
    assert (earned.stamps, earned.points) == (1, 12)
    assert earn_for(rule(), amount=None, visit=True).points == 0  # a visit without an amount: the stamp only


def test_below_the_minimum_spend_nothing_is_earned_not_even_the_visit():
    r = rule(per_visit=2, min_spend=Decimal(100))
    assert earn_for(r, amount=Decimal("99.99"), visit=True) == earn_for(r, amount=Decimal(0), visit=True)
    assert (earn_for(r, amount=Decimal("99.99"), visit=True).stamps, earn_for(r, amount=Decimal(100), visit=True).stamps) == (0, 2)


@given(amount=amounts, per_stamp=rates, per_point=rates, per_visit=st.integers(0, 5), multiplier=multipliers)
def test_what_a_purchase_earns_is_the_rule_rounded_down(amount, per_stamp, per_point, per_visit, multiplier):
    earned = earn_for(rule(per_visit=per_visit, per_stamp=per_stamp, per_point=per_point), amount=amount, visit=True, multiplier=multiplier)
    stamps = per_visit + (int((amount / per_stamp).to_integral_value(ROUND_FLOOR)) if per_stamp else 0)
    points = int((amount / per_point * multiplier).to_integral_value(ROUND_FLOOR)) if per_point else 0
    assert (earned.stamps, earned.points) == (stamps, points)
    assert earned.points <= amount * multiplier / per_point if per_point else earned.points == 0  # never rounded up


@given(a=amounts, b=amounts, per_stamp=rates, per_point=rates, multiplier=multipliers)
def test_spending_more_never_earns_less(a, b, per_stamp, per_point, multiplier):
    r = rule(per_stamp=per_stamp, per_point=per_point)
    low, high = sorted((a, b))
    less, more = (earn_for(r, amount=x, visit=True, multiplier=multiplier) for x in (low, high))
    assert less.stamps <= more.stamps and less.points <= more.points


@given(amount=amounts, per_point=rates.filter(bool))
def test_a_tier_multiplier_never_lowers_points(amount, per_point):
    r = rule(per_point=per_point)
    assert earn_for(r, amount=amount, visit=False, multiplier=Decimal(2)).points >= earn_for(r, amount=amount, visit=False).points


@given(earned=st.integers(0, 10_000), already=st.integers(0, 10_000), cap=st.none() | st.integers(0, 10_000))
def test_the_daily_cap_is_never_exceeded_and_never_takes_back(earned, already, cap):
    granted = capped(earned, already, cap)
    assert 0 <= granted <= earned
    if cap is None:
        assert granted == earned
    elif already <= cap:
        assert already + granted <= cap
        assert granted == min(earned, cap - already)  # the rest of today's allowance, no less
    else:
        assert granted == 0  # over the cap already (the cap was lowered today): nothing more, nothing taken back
