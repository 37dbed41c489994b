"""RFM scores (models/segment.py ``_score``): a tie-aware quintile 1–5 among the members who bought in
the window. The rule is a SQL expression, so it is evaluated here by SQLite in memory on literal
rows: no schema, no app, no fixture database."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Boolean, Engine, Integer, create_engine, literal, select, union_all

from models.segment import _score

members = st.lists(st.tuples(st.integers(0, 6), st.booleans()), min_size=1, max_size=40)


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    engine = create_engine("sqlite://")
    yield engine
    engine.dispose()


def scores(engine: Engine, rows: list[tuple[int, bool]]) -> list[int]:
    table = union_all(*(select(literal(i, Integer).label("id"), literal(v, Integer).label("v"), literal(w, Boolean).label("w"))
                        for i, (v, w) in enumerate(rows))).subquery("m")
    query = select(table.c.id, _score(table.c.v, table.c.w)).order_by(table.c.id)
    with engine.connect() as conn:
        return [int(score) for _, score in conn.execute(query)]


def test_five_members_in_the_window_get_one_score_each(engine):
    assert scores(engine, [(10, True), (20, True), (30, True), (40, True), (50, True), (99, False)]) == [1, 2, 3, 4, 5, 1]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(rows=members)
def test_scores_are_quintiles_that_ties_share_and_the_best_gets_five(engine, rows):
    got = scores(engine, rows)
    inside = [(v, s) for (v, w), s in zip(rows, got) if w]
    assert all(s == 1 for (_, w), s in zip(rows, got) if not w)  # outside the window: 1
    assert all(1 <= s <= 5 for s in got)
    for v, s in inside:
        assert all(s2 == s for v2, s2 in inside if v2 == v)  # equal values, equal scores
        assert all(s2 >= s for v2, s2 in inside if v2 > v)  # more is never scored lower
    if inside:
        best = max(v for v, _ in inside)
        assert all(s == 5 for v, s in inside if v == best)
