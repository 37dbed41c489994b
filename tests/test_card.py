"""The member card: Flex accepted by the spec, short-lived QR tokens, QR images."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from models.card import CardTokenError, issue_card_token, read_card_token
from tests.conftest import SECRET_KEY, all_text

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def qr_path(messages: list[dict]) -> str:
    match = re.search(r"https://loyalty\.example\.com(/qr/[^\"]+\.png)", all_text(messages))
    assert match, "no QR image in the card"
    return match.group(1)


def test_member_card_shows_number_tier_balance_and_qr(line, fake_line):
    user = line.user("陳先生")
    line.join(user)
    line.say(user, "會員卡")
    card = line.last(user)
    assert card[0]["type"] == "flex" and card[0]["contents"]["type"] == "bubble"
    body = all_text(card)
    for expected in ("好日子咖啡 會員卡", "陳先生", "會員編號", "一般會員", "點數", "更新 QR 碼"):
        assert expected in body
    assert fake_line.violations == []  # the spec accepted the Flex card


def test_card_postback_refreshes_the_token(line, clock):
    user = line.user()
    line.join(user)
    line.say(user, "會員卡")
    first = qr_path(line.last(user))
    clock.advance(seconds=30)
    line.tap(user, "action=card")
    assert qr_path(line.last(user)) != first


def test_non_member_is_invited_to_join(line):
    user = line.user()
    line.follow(user)
    line.say(user, "會員卡")
    assert "還不是會員" in all_text(line.last(user))


def test_qr_image_served_with_cache_lifetime(line, client, clock):
    user = line.user()
    line.join(user)
    line.say(user, "會員卡")
    path = qr_path(line.last(user))
    clock.advance(seconds=100)
    resp = client.get(path)
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    assert resp.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert "max-age=200" in resp.headers["Cache-Control"]
    clock.advance(seconds=201)
    expired = client.get(path)
    assert expired.status_code == 404 and expired.get_json()["code"] == "token_expired"


def test_qr_image_decodes_to_the_token(line, client):
    import zxingcpp as zxing
    from io import BytesIO

    from PIL import Image

    user = line.user()
    line.join(user)
    line.say(user, "會員卡")
    path = qr_path(line.last(user))
    token = path.removeprefix("/qr/").removesuffix(".png")
    img = Image.open(BytesIO(client.get(path).data))
    assert [r.text for r in zxing.read_barcodes(img)] == [token]


def test_token_round_trip():
    token = issue_card_token(SECRET_KEY, "100000018", now=NOW)
    assert read_card_token(SECRET_KEY, token, now=NOW + timedelta(seconds=299), max_age=300) == "100000018"


def test_expired_token_is_rejected():
    token = issue_card_token(SECRET_KEY, "100000018", now=NOW)
    with pytest.raises(CardTokenError) as err:
        read_card_token(SECRET_KEY, token, now=NOW + timedelta(seconds=301), max_age=300)
    assert err.value.code == "token_expired"


def test_tampered_token_is_rejected():
    token = issue_card_token(SECRET_KEY, "100000018", now=NOW)
    other = token.replace("100000018", "100000026", 1)  # someone else's number, same signature
    with pytest.raises(CardTokenError) as err:
        read_card_token(SECRET_KEY, other, now=NOW, max_age=300)
    assert err.value.code == "token_invalid"


def test_token_for_another_member_cannot_be_forged_with_another_key():
    forged = issue_card_token("guessed-key", "100000026", now=NOW)
    with pytest.raises(CardTokenError) as err:
        read_card_token(SECRET_KEY, forged, now=NOW, max_age=300)
    assert err.value.code == "token_invalid"


def test_token_from_the_future_is_rejected():
    token = issue_card_token(SECRET_KEY, "100000018", now=NOW + timedelta(hours=1))
    with pytest.raises(CardTokenError):
        read_card_token(SECRET_KEY, token, now=NOW, max_age=300)


def card_rows(messages: list[dict]) -> dict[str, str]:
    """The card's label → value rows (every horizontal box of two texts)."""
    rows: dict[str, str] = {}

    def walk(node):  # type: ignore[no-untyped-def]
        if isinstance(node, dict):
            kids = node.get("contents")
            if node.get("layout") == "horizontal" and isinstance(kids, list) and len(kids) == 2 \
                    and all(k.get("type") == "text" for k in kids):
                rows[kids[0]["text"]] = kids[1]["text"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(messages)
    return rows


def test_card_shows_the_members_tier_and_exact_balances(line, client, counter, make_member):
    for body in ({"code": "green", "name": "綠卡", "rank": 0, "threshold": 0},
                 {"code": "silver", "name": "銀卡", "rank": 1, "threshold": 3000}):
        assert client.post("/api/v1/admin/tiers", json=body, headers=counter.admin).status_code == 201
    user, number = make_member("林小姐")
    counter.rule(amount_per_point="10", stamps_per_visit=1)
    line.say(user, "會員卡")
    rows = card_rows(line.last(user))
    assert rows["等級"] == "綠卡" and rows["點數"] == "0" and rows["集章"] == "0"  # the lowest tier until one is earned

    assert counter.award(number, "R-1", amount=2500, visit=True).status_code == 201
    assert counter.award(number, "R-2", amount=1200, visit=True).status_code == 201
    line.say(user, "會員卡")
    rows = card_rows(line.last(user))
    assert rows["等級"] == "銀卡" and rows["點數"] == "370" and rows["集章"] == "2"


def test_prefetched_card_figures_give_way_to_entries_added_later(db, make_member):
    """The webhook may read the card's figures with the event's claim (models.card.prefetch);
    a ledger entry or a tier change later in the same transaction makes the card read them again."""
    from models.card import CardSummary, card_summary, prefetch
    from models.ledger import add_entry
    from models.member import get_by_line_user

    user, _ = make_member()
    with db.transaction() as s:
        member = get_by_line_user(s, user, lock=True)
        prefetch(s, member, ["金卡", 5, 7])
        assert card_summary(s, member) == CardSummary(tier_name="金卡", points=7, stamps=5)
        add_entry(s, member_id=member.id, currency="point", amount=3, reason="correction", actor=None, now=NOW)
        s.flush()
        assert card_summary(s, member) == CardSummary(tier_name=None, points=3, stamps=0)
        prefetch(s, member, ["金卡", 5, 7])
        with s.no_autoflush:
            member.tier_id = -1  # any other tier than the one prefetched with (never written)
            assert card_summary(s, member).points == 3
        s.rollback()
