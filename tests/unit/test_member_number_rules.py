"""Member numbers carry a Luhn check digit (models/member.py): a mistyped number is refused,
never matched to someone else; and the request limits (models/limits.py)."""
from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from models.limits import amount_in, whole_in
from models.member import is_valid_member_no, luhn_digit, member_no_for


@given(member_id=st.integers(1, 10**9))
def test_every_number_given_out_is_valid(member_id):
    assert is_valid_member_no(member_no_for(member_id))


@given(base=st.text(alphabet="0123456789", min_size=8, max_size=8), at=st.integers(0, 8), new=st.integers(0, 9))
def test_one_mistyped_digit_is_always_caught(base, at, new):
    number = base + luhn_digit(base)
    typo = number[:at] + str(new) + number[at + 1:]
    assert is_valid_member_no(typo) == (typo == number)


@given(base=st.text(alphabet="0123456789", min_size=8, max_size=8), at=st.integers(0, 7))
def test_two_swapped_neighbours_are_caught_unless_09_90(base, at):
    number = base + luhn_digit(base)
    swapped = number[:at] + number[at + 1] + number[at] + number[at + 2:]
    if swapped != number and {number[at], number[at + 1]} != {"0", "9"}:  # Luhn's one blind spot
        assert not is_valid_member_no(swapped)


def test_whole_numbers_are_ints_not_booleans_or_strings():
    assert whole_in(5, 1, 10) and not whole_in(True, 0, 10) and not whole_in("5", 1, 10) and not whole_in(11, 1, 10)


@given(value=st.decimals(min_value=Decimal(0), max_value=Decimal(10**6), places=2))
def test_amounts_with_two_decimals_are_taken_in_any_json_spelling(value):
    assert amount_in(value, Decimal(0), Decimal(10**6)) == value
    assert amount_in(str(value), Decimal(0), Decimal(10**6)) == value
    assert amount_in(value + Decimal("0.001"), Decimal(0), Decimal(10**7)) is None  # a third decimal
    assert amount_in(True, Decimal(0), Decimal(1)) is None and amount_in("NaN", Decimal(0), Decimal(1)) is None
