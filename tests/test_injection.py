"""Injection through what members and marketers type: formulas in CSV exports, str.format in
message texts, tier colours in style attributes and Flex, and the coupon void/re-redeem loop."""
from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select, update

from handlers.texts import Texts
from models.journey import Journey
from models.tier import Tier
from tests.conftest import all_text
from tests.test_coupons import coupon_token, issue, redeem, template

pytestmark = pytest.mark.usefixtures("business_hours")  # journeys send in shop hours


# --- 1. formulas in CSV exports --------------------------------------------------------------

FORMULAS = ['=HYPERLINK("https://evil.example","點我")', "+886 2 1234", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1"]


def test_safe_cell_defuses_text_that_would_start_a_formula():
    from bot.api.csvexport import safe_cell

    for value in FORMULAS:
        assert safe_cell(value) == "'" + value
    for value in ("0912345678", "王小明", "a=b", " =1", "", "'quoted"):
        assert safe_cell(value) == value  # a phone starts with 0; only the first character matters
    for value in (-5, 3, True, None):
        assert safe_cell(value) is value  # our own typed columns: a negative number stays a number


def test_segment_export_prefixes_formula_names_with_a_quote(client, counter, make_member, db):
    from models.member import Member

    numbers = {}
    for name in ('=HYPERLINK("https://evil.example","點我")', "@SUM(A1)", "-2+3", "王小明", "tab", "cr"):
        numbers[name] = make_member(name)[1]
    with db.transaction() as s:  # a name can start with a tab or a carriage return too
        for name, stored in (("tab", "\t=1+1"), ("cr", "\r=1+1")):
            s.execute(update(Member).where(Member.member_no == numbers[name]).values(display_name=stored))
    seg = client.post("/api/v1/admin/segments", json={"name": "全部", "rule": {}}, headers=counter.admin)
    assert seg.status_code == 201, seg.get_json()
    export = client.get(f"/api/v1/admin/segments/{seg.get_json()['id']}/members.csv", headers=counter.admin)
    assert export.status_code == 200
    rows = {r["member_no"]: r for r in csv.DictReader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff")))}
    assert rows[numbers['=HYPERLINK("https://evil.example","點我")']]["name"] == '\'=HYPERLINK("https://evil.example","點我")'
    assert rows[numbers["@SUM(A1)"]]["name"] == "'@SUM(A1)"
    assert rows[numbers["-2+3"]]["name"] == "'-2+3"
    assert (rows[numbers["tab"]]["name"], rows[numbers["cr"]]["name"]) == ("'\t=1+1", "'\r=1+1")
    plain = rows[numbers["王小明"]]
    assert (plain["name"], plain["phone"], plain["reachable"]) == ("王小明", "0912345678", "True")
    assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows.values() for v in r.values())


# --- 2. placeholders, never str.format -------------------------------------------------------

def test_render_fills_known_names_only_and_never_evaluates():
    from models.placeholder import render

    values = {"name": "阿明", "brand": "好日子"}
    assert render("嗨 {name}，{brand} 歡迎您 {{name}}", values) == "嗨 阿明，好日子 歡迎您 {name}"
    for kept in ("{brand.__class__.__init__.__globals__}", "{name:>400000000}", "{name!r}", "{0}", "{}", "{name[0]}", "{nope}", "{", "}"):
        assert render(f"x{kept}y", values) == f"x{kept}y"
    assert render("{n:,}", {"n": 1234567}, grouping=True) == "1,234,567"
    assert render("{n:,}", {"n": 1234567}) == "{n:,}"  # grouping only where the caller allows it


def test_check_names_the_offending_placeholder():
    from models.placeholder import PlaceholderError, check

    check("嗨 {name} {{literal}}", ("name",))
    for bad in ("{brand.__class__}", "{name:>9}", "{name!s}", "{0}", "{}", "{name[0]}", "{nickname}", "a } b", "{ name }"):
        with pytest.raises(PlaceholderError) as err:
            check(f"嗨 {bad}", ("name", "brand"))
        assert err.value.placeholder in bad


def test_text_table_keeps_its_placeholders_and_refuses_attribute_access(tmp_path):
    texts = Texts(brand="好日子")
    assert texts("stamps_points", points=12345) == "目前點數 12,345 點"
    assert texts("card_title") == "好日子 會員卡"
    with pytest.raises(KeyError):
        texts("welcome")  # {name} missing: loud in tests, as before
    with pytest.raises(ValueError):
        Texts({"welcome": "{name.__class__.__mro__}"}, brand="x")("welcome", name="n")  # not evaluated
    bad = tmp_path / "texts.json"
    bad.write_text('{"welcome": "嗨 {name.__class__}"}', encoding="utf-8")
    with pytest.raises(ValueError, match="welcome"):
        Texts.load(str(bad), brand="x")
    good = tmp_path / "ok.json"
    good.write_text('{"stamps_points": "點數：{points:,}"}', encoding="utf-8")
    assert Texts.load(str(good), brand="x")("stamps_points", points=1000) == "點數：1,000"


@pytest.mark.parametrize("text", [
    "{brand.__class__.__init__.__globals__}", "{name:>400000000}", "{name!r}", "{0}", "{}", "{tier[0]}", "嗨 {", "嗨 }",
])
def test_journey_text_with_anything_but_plain_placeholders_is_refused(client, counter, text):
    resp = client.put("/api/v1/admin/journeys/welcome", json={"text": text}, headers=counter.admin)
    assert resp.status_code == 422, resp.get_json()
    body = resp.get_json()
    assert set(body) == {"code", "message", "details"} and body["code"] == "invalid_journey"
    assert body["details"]["field"] == "text" and body["details"]["placeholder"] in text
    saved = client.get("/api/v1/admin/journeys", headers=counter.admin).get_json()["journeys"][0]
    assert saved["text"] != text


def test_journey_plain_placeholders_and_escaped_braces_are_saved(client, counter):
    resp = client.put("/api/v1/admin/journeys/welcome", json={"text": "{{會員}} {name} 歡迎加入 {brand}"}, headers=counter.admin)
    assert resp.status_code == 200 and resp.get_json()["text"] == "{{會員}} {name} 歡迎加入 {brand}"


def _pushes(fake_line, user) -> list[str]:  # type: ignore[no-untyped-def]
    return [m["text"] for d in fake_line.messages_to(user) if d["kind"] == "push" for m in d["messages"] if m["type"] == "text"]


def test_a_text_saved_before_the_rule_is_sent_as_written_not_evaluated(client, counter, make_member, fake_line, db):
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    assert client.put("/api/v1/admin/journeys/welcome", json={"enabled": True}, headers=counter.admin).status_code == 200
    stored = "歡迎 {name}！{brand.__class__.__init__.__globals__} {name:>6000} {{x}}"
    with db.transaction() as s:  # as the old validation let it through
        s.execute(update(Journey).where(Journey.kind == "welcome").values(text=stored))
    user, _ = make_member("阿明")
    sent = _pushes(fake_line, user)
    assert "歡迎 阿明！{brand.__class__.__init__.__globals__} {name:>6000} {x}" in sent


def test_a_journey_message_is_cut_at_lines_5000_characters(client, counter, make_member, fake_line):
    client.get("/api/v1/admin/journeys", headers=counter.admin)
    assert client.put("/api/v1/admin/journeys/welcome", json={"enabled": True}, headers=counter.admin).status_code == 200
    counter.rule(reward_name="歡" * 100)  # long placeholder values make 1,000 characters of text far more
    saved = client.put("/api/v1/admin/journeys/welcome", json={"text": "{reward}" * 125}, headers=counter.admin)
    assert saved.status_code == 200, saved.get_json()
    user, _ = make_member()
    [sent] = [t for t in _pushes(fake_line, user) if t.startswith("歡歡")]
    assert len(sent) == 5000 and sent.endswith("…")  # 12,500 characters rendered


def test_fit_text_counts_as_line_does():
    from handlers.messages import TEXT_LIMIT, fit_text, line_length

    assert fit_text("短") == "短"
    emoji = "😀" * 3000  # two UTF-16 units each
    cut = fit_text(emoji)
    assert line_length(cut) <= TEXT_LIMIT and cut.endswith("…") and cut[:-1] == "😀" * (len(cut) - 1)
    assert fit_text("a" * TEXT_LIMIT) == "a" * TEXT_LIMIT


def test_a_campaign_text_longer_than_line_allows_is_refused(client, counter):
    resp = client.post("/api/v1/admin/campaigns", json={"name": "長", "kind": "text", "content": {"text": "字" * 5001}}, headers=counter.admin)
    assert resp.status_code == 422 and resp.get_json()["code"] == "invalid_campaign" and resp.get_json()["details"]["field"] == "content"
    ok = client.post("/api/v1/admin/campaigns", json={"name": "剛好", "kind": "text", "content": {"text": "字" * 5000}}, headers=counter.admin)
    assert ok.status_code == 201, ok.get_json()


# --- 3. tier colours ---------------------------------------------------------------------------

@pytest.mark.parametrize("color", ["red", "#abc", "#12345G", "#1234567", "#FFFFFF;background:url(https://evil.example)", "", None, 123])
def test_tier_colour_must_be_rrggbb(client, counter, tiers, color):
    made = client.post("/api/v1/admin/tiers", json={"code": "x", "name": "X", "rank": 7, "color": color}, headers=counter.admin)
    assert made.status_code == 422 and made.get_json()["code"] == "invalid_tier" and made.get_json()["details"] == {"field": "color"}
    changed = client.put("/api/v1/admin/tiers/gold", json={"color": color}, headers=counter.admin)
    assert changed.status_code == 422 and changed.get_json()["details"] == {"field": "color"}
    gold = [t for t in client.get("/api/v1/admin/tiers", headers=counter.admin).get_json()["tiers"] if t["code"] == "gold"][0]
    assert gold["color"] == "#B8860B"


def test_tier_colour_either_case_is_kept(client, counter, tiers):
    assert client.put("/api/v1/admin/tiers/gold", json={"color": "#b8860c"}, headers=counter.admin).get_json()["color"] == "#b8860c"
    made = client.post("/api/v1/admin/tiers", json={"code": "vip", "name": "VIP", "rank": 3, "color": "#ABCDEF"}, headers=counter.admin)
    assert made.status_code == 201 and made.get_json()["color"] == "#ABCDEF"


def test_a_bad_colour_saved_before_shows_the_default(client, counter, tiers, line, make_member, db):
    with db.transaction() as s:
        s.execute(update(Tier).where(Tier.code == "gold").values(color="red;x:y"))
    listed = {t["code"]: t["color"] for t in client.get("/api/v1/admin/tiers", headers=counter.admin).get_json()["tiers"]}
    assert listed == {"basic": "#6F4E37", "silver": "#8A8D91", "gold": "#6F4E37"}
    lookups = client.get("/api/v1/admin/lookups", headers=counter.admin).get_json()["tiers"]
    assert {t["code"]: t["color"] for t in lookups}["gold"] == "#6F4E37"
    user, _ = make_member()
    line.say(user, "會員權益")
    bubbles = line.last(user)[0]["contents"]["contents"]
    assert [b["header"]["backgroundColor"] for b in bubbles] == ["#6F4E37", "#8A8D91", "#6F4E37"]
    assert "red;x:y" not in all_text(line.last(user))


# --- 4. coupon void / re-redeem --------------------------------------------------------------

def test_a_redemption_is_voided_once_and_each_void_is_audited(client, counter, line, make_member, db):
    tpl = template(client, counter)
    user, number = make_member()
    issue(client, counter, tpl["id"], number)
    token = coupon_token(line, user)
    void = {"token": token, "reason": "結帳取消"}
    assert redeem(client, counter, token).status_code == 200
    first = client.post("/api/v1/coupons/void-redemption", json=void, headers=counter.manager)
    assert first.status_code == 200 and first.get_json()["coupon"]["status"] == "issued"
    assert redeem(client, counter, token).status_code == 200
    again = client.post("/api/v1/coupons/void-redemption", json={**void, "reason": "又取消"}, headers=counter.manager)
    assert again.status_code == 409, again.get_json()
    body = again.get_json()
    assert body["code"] == "coupon_void_limit" and body["details"] == {"voids": 1, "limit": 1}
    assert redeem(client, counter, token).get_json()["code"] == "coupon_already_redeemed"  # the second redemption stands

    code = token.split(".")[0]
    audit = client.get("/api/v1/admin/audit", headers=counter.admin).get_json()["entries"]
    voids = [e for e in audit if e["action"] == "POST /api/v1/coupons/void-redemption"]
    assert len(voids) == 1
    assert voids[0]["actor"].startswith("staff:") and voids[0]["actor"].endswith(":manager-tpe01")
    assert voids[0]["details"] == {"coupon": code, "reason": "結帳取消", "store": "TPE01"}

    from models.coupon import CouponEvent

    with db.sessions() as s:
        kinds = list(s.scalars(select(CouponEvent.kind).order_by(CouponEvent.id)))
    assert kinds == ["issued", "redeemed", "voided", "redeemed"]


def test_voiding_an_unredeemed_coupon_still_says_not_redeemed(client, counter, line, make_member):
    tpl = template(client, counter)
    user, number = make_member()
    issue(client, counter, tpl["id"], number)
    token = coupon_token(line, user)
    redeem(client, counter, token)
    void = {"token": token, "reason": "結帳取消"}
    assert client.post("/api/v1/coupons/void-redemption", json=void, headers=counter.manager).status_code == 200
    twice = client.post("/api/v1/coupons/void-redemption", json=void, headers=counter.manager)
    assert twice.status_code == 409 and twice.get_json()["code"] == "coupon_not_redeemed"
