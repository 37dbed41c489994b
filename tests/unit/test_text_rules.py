"""LINE's text limit (handlers/messages.py ``fit_text``): 5,000 characters as LINE counts them
(UTF-16 code units), cut with … rather than refused by LINE."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from handlers.messages import TEXT_LIMIT, fit_text, line_length


def test_fit_text_counts_as_line_does():
    assert fit_text("短") == "短"
    emoji = "😀" * 3000  # two UTF-16 units each
    cut = fit_text(emoji)
    assert line_length(cut) <= TEXT_LIMIT and cut.endswith("…") and cut[:-1] == "😀" * (len(cut) - 1)
    assert fit_text("a" * TEXT_LIMIT) == "a" * TEXT_LIMIT


@given(body=st.text(alphabet=st.sampled_from("a字😀\n"), max_size=60), limit=st.integers(2, 40))
def test_what_fits_is_kept_whole_and_the_rest_is_a_prefix_and_an_ellipsis(body, limit):
    cut = fit_text(body, limit)
    assert line_length(cut) <= limit
    if line_length(body) <= limit:
        assert cut == body
    else:
        assert cut.endswith("…") and body.startswith(cut[:-1])
