"""Small wording and layout a member meets (issue: the chat as its people meet it): a balanced stamp
grid, one history row per purchase, a help that lists every feature, a welcome without stray spaces,
and an invitation card without the friend's button."""
from __future__ import annotations

import pytest

from handlers.stamps import stamp_grid
from tests.conftest import all_text


@pytest.mark.parametrize(("size", "rows"), [(8, [4, 4]), (10, [5, 5]), (7, [4, 3]), (5, [5]), (12, [4, 4, 4]), (6, [3, 3]), (1, [1])])
def test_the_stamp_grid_has_balanced_rows_of_at_most_five(size, rows):
    assert [len(row.contents) for row in stamp_grid(3, size)] == rows


def test_one_purchase_is_one_history_row_with_both_units(line, make_member, counter):
    user, number = make_member("小綠")
    counter.rule(amount_per_point="10", stamps_per_visit=1)
    assert counter.award(number, "R-1", amount="350", visit=True).status_code == 201
    line.say(user, "集點卡")
    card = line.last(user)[0]["contents"]["body"]["contents"]
    rows = [c for c in card if c.get("type") == "box" and c.get("layout") == "horizontal" and len(c.get("contents", [])) == 3]
    texts = [[x["text"] for x in row["contents"]] for row in rows]
    purchase = [r for r in texts if r[1] == "消費集點"]
    assert len(purchase) == 1, texts
    assert purchase[0][2] == "+1 章、+35 點"


def test_help_lists_every_feature_for_a_member(line, make_member):
    user, _ = make_member("小藍")
    line.say(user, "說明")
    reply = all_text(line.last(user))
    for feature in ("會員卡", "集點卡", "我的優惠券", "會員權益", "邀請好友", "會員資料", "門市據點"):
        assert feature in reply, feature


def test_the_welcome_names_the_brand_without_stray_spaces(line):
    user = line.user("阿青")
    line.follow(user)
    assert "阿青您好！謝謝您加入好日子咖啡的 LINE 好友" in all_text(line.last(user))
