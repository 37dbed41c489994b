"""Taiwan mobile numbers (models/member.py ``normalise_phone``): one rule for joining, the profile,
the counter and pre-members."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.member import normalise_phone
from models.premember import mask_phone

PHONE = "0912345678"
local = st.text(alphabet="0123456789", min_size=8, max_size=8).map(lambda rest: "09" + rest)
separators = st.sampled_from(["", " ", "-", ".", "(", ")"])


@pytest.mark.parametrize("raw, phone", [
    ("0912345678", PHONE), ("0912-345-678", PHONE), ("+886 912 345 678", PHONE), ("886912345678", PHONE), ("(0912) 345678", PHONE),
    ("912345678", None), ("0212345678", None), ("09123456789", None), ("+8860912345678", None), ("", None),
])
def test_taiwan_mobiles_are_normalised(raw, phone):
    assert normalise_phone(raw) == phone
    assert mask_phone(PHONE) == "0912****78"


@given(phone=local, seps=st.lists(separators, min_size=10, max_size=10))
def test_separators_anywhere_and_the_country_code_name_the_same_number(phone, seps):
    spaced = "".join(d + s for d, s in zip(phone, seps))
    assert normalise_phone(spaced) == phone
    assert normalise_phone("+886" + phone[1:]) == normalise_phone("886" + phone[1:]) == phone


@given(raw=st.text(max_size=20))
def test_a_normalised_number_is_always_ten_digits_starting_09_and_stays_itself(raw):
    phone = normalise_phone(raw)
    if phone is not None:
        assert len(phone) == 10 and phone.startswith("09") and phone.isdigit()
        assert normalise_phone(phone) == phone
