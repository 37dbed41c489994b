"""Click tracking per member: a campaign with web links goes out one push per member (the fake LINE
server validates every body), each link rewritten to the bot's /r/<token>; the redirect records who
clicked, refuses forged tokens with a neutral 404 and never redirects anywhere but the campaign's
own links; the report, the CSV and the segment rule read the clicks; a crash resumes exactly once."""
from __future__ import annotations

import base64
import re
from collections import Counter
from datetime import date
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from bot.jobs import worker as tasks
from bot.jobs.campaign_sender import run_campaign, run_due
from models import campaign as cm
from models import campaign_link as cl
from models.campaign import CampaignRecipient, MarketingSend
from models.ledger import award
from models.member import Member, complete_join, ensure_member
from models.rule import get_rule
from models.store import Actor, Store
from tests.conftest import SECRET_KEY

pytestmark = pytest.mark.usefixtures("business_hours")
BASE = "https://loyalty.example.com/r/"
WINTER, MENU = "https://cafe.example.com/winter?utm_source=line", "https://cafe.example.com/menu"
FLEX = {"type": "bubble",
        "hero": {"type": "box", "layout": "vertical", "contents": [{"type": "text", "text": "冬季限定"}],
                 "action": {"type": "uri", "label": "冬季", "uri": WINTER}},
        "body": {"type": "box", "layout": "vertical", "contents": [{"type": "text", "text": "冬季限定拿鐵上市"}]},
        "footer": {"type": "box", "layout": "vertical", "contents": [
            {"type": "button", "action": {"type": "uri", "label": "看菜單", "uri": MENU}},
            {"type": "button", "action": {"type": "uri", "label": "打電話", "uri": "tel:0227001234"}},
            {"type": "button", "action": {"type": "uri", "label": "冬季新品", "uri": WINTER}}]}}
KEY = cl.link_key(SECRET_KEY)


@pytest.fixture
def crowd(db, clock, fake_line):  # type: ignore[no-untyped-def]
    """12 joined members; returns {LINE user id: member id}."""
    ids = {}
    with db.transaction() as s:
        for i in range(12):
            user = f"U{i + 9000:032x}"
            m = ensure_member(s, user, now=clock.now)
            complete_join(s, m, now=clock.now, birthday_on=date(1990, 1, 1), terms_version="t", consented_at=clock.now, phone=None, gender=None)
            ids[user] = m.id
    fake_line.quota_value = 10_000
    return ids


def create(client, counter, **body):  # type: ignore[no-untyped-def]
    payload = {"name": "冬季新品", "kind": "flex", "content": {"alt_text": "冬季限定", "contents": FLEX}, **body}
    resp = client.post("/api/v1/admin/campaigns", json=payload, headers=counter.admin)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def send(client, counter, campaign_id):  # type: ignore[no-untyped-def]
    assert client.post(f"/api/v1/admin/campaigns/{campaign_id}/send", json={}, headers=counter.admin).status_code == 202
    tasks.wait_for_jobs()


def pushes(fake_line):  # type: ignore[no-untyped-def]
    return [r for r in fake_line.requests(path="/v2/bot/message/push") if not r.injected]


def uris(message: dict) -> list[str]:  # type: ignore[type-arg]
    found: list[str] = []

    def walk(node):  # type: ignore[no-untyped-def]
        if isinstance(node, dict):
            if node.get("type") == "uri":
                found.append(node["uri"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message)
    return found


def links(db, campaign_id):  # type: ignore[no-untyped-def]
    with db.sessions() as s:
        return {link.url: link.id for link in s.scalars(select(cl.CampaignLink).where(cl.CampaignLink.campaign_id == campaign_id))}


def token_for(fake_line, user: str, url_index: int = 0) -> str:
    (delivery,) = [d for d in fake_line.messages_to(user) if d["kind"] == "push"]
    return uris(delivery["messages"][0])[url_index].rsplit("/r/", 1)[1]


def report(client, counter, campaign_id, days=14):  # type: ignore[no-untyped-def]
    resp = client.get(f"/api/v1/admin/campaigns/{campaign_id}/report?days={days}", headers=counter.admin)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


# --- tokens ----------------------------------------------------------------------------------
def test_tokens_are_signed_per_member_and_hide_the_member_id():
    token = cl.make_token(KEY, 7, 123_456)
    assert re.fullmatch(r"[A-Za-z0-9_-]{30}", token)
    assert cl.open_token(KEY, token) == (7, 123_456)
    assert cl.make_token(KEY, 7, 123_456) == token  # a resumed send rewrites the same message
    assert cl.make_token(KEY, 7, 123_457) != token and cl.make_token(KEY, 8, 123_456) != token
    raw = base64.urlsafe_b64decode(token + "==")
    assert (123_456).to_bytes(6, "big") not in raw and b"123456" not in token.encode()  # the member id is not in clear
    assert cl.open_token(cl.link_key("another secret"), token) is None


def test_every_changed_character_of_a_token_opens_nothing():
    token = cl.make_token(KEY, 41, 9_001)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for i, char in enumerate(token):
        for other in alphabet:
            if other != char:
                assert cl.open_token(KEY, token[:i] + other + token[i + 1:]) is None, (i, other)
    for bad in ("", token[:-1], token + "A", token.upper(), "=" * 30, "%" * 30, token[:-2] + "=="):
        assert cl.open_token(KEY, bad) is None


# --- sending ---------------------------------------------------------------------------------
def test_a_campaign_with_links_is_pushed_per_member_with_their_own_tokens(client, counter, crowd, fake_line, db):
    campaign_id = create(client, counter)
    send(client, counter, campaign_id)
    assert fake_line.requests(path="/v2/bot/message/multicast") == []
    calls = pushes(fake_line)
    assert sorted(r.json["to"] for r in calls) == sorted(crowd)  # everyone once
    assert len({r.headers["x-line-retry-key"] for r in calls}) == len(crowd)
    assert all(r.json["customAggregationUnits"] == [f"campaign_{campaign_id}"] for r in calls)
    link_ids = links(db, campaign_id)
    assert set(link_ids) == {WINTER, MENU}  # the same URL twice is one link; tel: is not a web link
    for r in calls:
        hero, menu, tel, winter = uris(r.json["messages"][0])
        assert tel == "tel:0227001234" and hero == winter
        for url, target in ((hero, WINTER), (menu, MENU)):
            assert url.startswith(BASE)
            assert cl.open_token(KEY, url.removeprefix(BASE)) == (link_ids[target], crowd[r.json["to"]])  # this member's own token
        assert r.json["to"] not in str(r.json["messages"])  # no LINE user id in any URL
    got = report(client, counter, campaign_id)
    assert (got["status"], got["sent"], got["failed"]) == ("sent", 12, 0)
    assert got["clicks"]["tracked"] is True and got["clicks"]["unique_clickers"] == 0
    with db.sessions() as s:
        assert s.scalar(select(MarketingSend.id).where(MarketingSend.source == f"campaign:{campaign_id}").limit(1)) is not None


def test_a_campaign_without_links_stays_on_multicast(client, counter, crowd, fake_line):
    resp = client.post("/api/v1/admin/campaigns", json={"name": "文字", "kind": "text", "content": {"text": "週末半價 https://cafe.example.com"}},
                       headers=counter.admin)
    send(client, counter, resp.get_json()["id"])
    assert pushes(fake_line) == [] and len(fake_line.requests(path="/v2/bot/message/multicast")) == 1
    assert report(client, counter, resp.get_json()["id"])["clicks"]["tracked"] is False


def test_per_member_send_keeps_the_holdout_the_cap_blocked_members_and_quiet_hours(client, counter, crowd, fake_line, db, clock):
    users = list(crowd)
    with db.transaction() as s:
        s.get(Member, crowd[users[0]]).is_reachable = False
        for _ in range(3):  # at the frequency cap (3 a week)
            s.add(MarketingSend(member_id=crowd[users[1]], source="campaign:0", sent_at=clock.now))
    campaign_id = create(client, counter, holdout_pct=50)
    clock.set_taipei(22)
    send(client, counter, campaign_id)
    assert pushes(fake_line) == []  # quiet hours: it waits
    clock.set_taipei(9, 30, days=1)
    assert run_due(app_svc(client)) == {campaign_id: "sent"}
    with db.sessions() as s:
        groups = dict(s.execute(select(CampaignRecipient.member_id, CampaignRecipient.group).where(CampaignRecipient.campaign_id == campaign_id)).all())
    held = {u for u in users if groups.get(crowd[u]) == "holdout"}
    assert held and users[0] not in groups  # blocked: not even a recipient
    expected = {u for u in users[2:] if u not in held}
    assert {r.json["to"] for r in pushes(fake_line)} == expected and len(pushes(fake_line)) == len(expected)
    got = report(client, counter, campaign_id)
    assert got["skipped"] == ({"capped": 1} if users[1] not in held else {}) and got["sent"] == len(expected)


def app_svc(client):  # type: ignore[no-untyped-def]
    return client.application.extensions["loyalty"]


def test_a_crash_in_the_middle_of_a_batch_resumes_with_everyone_sent_once(client, counter, crowd, fake_line, monkeypatch):
    svc = app_svc(client)
    monkeypatch.setattr(cm, "BATCH_SIZE", 5)  # 12 members: batches of 5, 5 and 2
    campaign_id = create(client, counter)
    with svc.db.transaction() as s:
        cm.schedule(s, cm.get_campaign(s, campaign_id), now=svc.now())
    real, calls = svc.line.push, {"n": 0}

    def killed_on_the_seventh(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 7:
            raise SystemExit("worker killed in the middle of batch 2")
        return real(*args, **kwargs)

    monkeypatch.setattr(svc.line, "push", killed_on_the_seventh)
    with pytest.raises(SystemExit):
        run_campaign(svc, campaign_id)
    monkeypatch.setattr(svc.line, "push", real)
    with svc.db.sessions() as s:
        assert [b.status for b in s.scalars(select(cm.CampaignBatch).order_by(cm.CampaignBatch.batch_no))] == ["sent", "pending", "pending"]
    assert len({r.headers["x-line-retry-key"] for r in pushes(fake_line)}) >= 5  # batch 1, and what of batch 2 was not killed
    assert run_due(svc) == {campaign_id: "sent"}
    calls_ = pushes(fake_line)
    keys = Counter(r.headers["x-line-retry-key"] for r in calls_)
    assert len(keys) == 12  # one key per member, the same after the crash
    assert 2 in keys.values()  # batch 2 went again with the same keys
    for key in keys:
        assert sorted(r.status for r in calls_ if r.headers["x-line-retry-key"] == key) in ([200], [200, 409])  # LINE: 409, delivered nothing
    assert all(len([d for d in fake_line.messages_to(u) if d["kind"] == "push"]) == 1 for u in crowd)  # nobody twice
    got = report(client, counter, campaign_id)
    assert (got["sent"], got["failed"], got["pending"]) == (12, 0, 0)


def test_a_member_line_refuses_is_failed_alone(client, counter, crowd, fake_line):
    fake_line.inject("/v2/bot/message/push", 400, times=1, body={"message": "The property, 'to', in the request body is invalid"})
    campaign_id = create(client, counter)
    send(client, counter, campaign_id)
    got = report(client, counter, campaign_id)
    assert (got["sent"], got["failed"]) == (11, 1)


# --- the redirect ----------------------------------------------------------------------------
def test_the_redirect_records_who_clicked_and_counts_a_second_click_once(client, counter, crowd, fake_line, db, clock):
    campaign_id = create(client, counter)
    send(client, counter, campaign_id)
    a, b = list(crowd)[:2]
    resp = client.get(f"/r/{token_for(fake_line, a)}")
    assert resp.status_code == 302 and resp.headers["Location"] == WINTER
    assert resp.headers["Cache-Control"] == "no-store" and resp.headers["Referrer-Policy"] == "no-referrer"
    clock.advance(minutes=5)
    assert client.get(f"/r/{token_for(fake_line, a)}").status_code == 302
    assert client.get(f"/r/{token_for(fake_line, a, 1)}").headers["Location"] == MENU
    assert client.head(f"/r/{token_for(fake_line, b)}").status_code == 302  # a link checker's HEAD is not a click
    with db.sessions() as s:
        rows = {(c.member_id, c.link_id): (c.clicks, c.first_at, c.last_at) for c in s.scalars(select(cl.CampaignClick))}
    ids = links(db, campaign_id)
    assert set(rows) == {(crowd[a], ids[WINTER]), (crowd[a], ids[MENU])}
    clicks, first, last = rows[(crowd[a], ids[WINTER])]
    assert clicks == 2 and (last - first).total_seconds() == 300
    got = report(client, counter, campaign_id)["clicks"]
    assert (got["unique_clickers"], got["clicks"]) == (1, 3)  # twice by the same member: one unique clicker


def test_forged_and_unknown_tokens_get_the_same_neutral_404(client, counter, crowd, fake_line, db):
    campaign_id = create(client, counter)
    send(client, counter, campaign_id)
    token = token_for(fake_line, list(crowd)[0])
    flipped = token[:12] + ("A" if token[12] != "A" else "B") + token[13:]
    unknown_link = cl.make_token(KEY, 999_999, crowd[list(crowd)[0]])  # signed, but no such link
    answers = [client.get(f"/r/{t}") for t in (flipped, unknown_link, "nonsense", "A" * 30, token[:-1])]
    assert {r.status_code for r in answers} == {404}
    assert len({r.get_data() for r in answers}) == 1  # the same page whatever went wrong
    page = answers[0].get_data(as_text=True)
    assert "這個連結無效或已失效" in page and "cafe.example.com" not in page and token[:10] not in page
    assert answers[0].headers["Cache-Control"] == "no-store"
    with db.sessions() as s:
        assert s.scalar(select(cl.CampaignClick.link_id).limit(1)) is None


def test_the_redirect_is_never_open(client, counter, crowd, fake_line):
    campaign_id = create(client, counter)
    send(client, counter, campaign_id)
    token = token_for(fake_line, list(crowd)[0])
    for path in (f"/r/{token}?next=https://evil.example.com", f"/r/{token}?url=//evil.example.com"):
        resp = client.get(path)
        assert resp.status_code == 302 and resp.headers["Location"] == WINTER  # only the recorded URL
    for path in ("/r/https://evil.example.com", "/r//evil.example.com", "/r/%2F%2Fevil.example.com", "/r/..%2F..%2Fevil", "/r/"):
        resp = client.get(path)
        assert resp.status_code == 404, path
        assert "evil" not in (resp.headers.get("Location") or "")


def test_a_link_of_an_unsafe_scheme_is_never_followed(client, counter, crowd, fake_line, db, clock):
    campaign_id = create(client, counter)
    send(client, counter, campaign_id)
    with db.transaction() as s:  # a row nobody could have recorded through a campaign
        link = cl.CampaignLink(campaign_id=campaign_id, position=9, url="javascript:alert(1)", label=None, created_at=clock.now)
        s.add(link)
        s.flush()
        link_id = link.id
    resp = client.get(f"/r/{cl.make_token(KEY, link_id, crowd[list(crowd)[0]])}")
    assert resp.status_code == 404 and "Location" not in resp.headers


# --- the report, the CSV and the segment rule -------------------------------------------------
def test_report_numbers_on_a_small_known_campaign(client, counter, crowd, fake_line, db, clock):
    campaign_id = create(client, counter)
    send(client, counter, campaign_id)
    users = list(crowd)
    with db.transaction() as s:
        actor = Actor(store_id=s.scalar(select(Store.id)), kind="system")
        award(s, member_id=crowd[users[2]], receipt_id="before", amount=Decimal(999), visit=True, actor=actor, rule=get_rule(s), now=clock.now)
    clock.advance(hours=1)
    for user, index in ((users[0], 0), (users[0], 0), (users[1], 0), (users[1], 1), (users[2], 1), (users[3], 0)):
        assert client.get(f"/r/{token_for(fake_line, user, index)}").status_code == 302
    clock.advance(hours=2)
    with db.transaction() as s:
        actor = Actor(store_id=s.scalar(select(Store.id)), kind="system")
        for i, (user, amount) in enumerate(((users[0], 150), (users[1], 250), (users[4], 500))):  # users[4] never clicked
            award(s, member_id=crowd[user], receipt_id=f"after{i}", amount=Decimal(amount), visit=True, actor=actor, rule=get_rule(s), now=clock.now)
    got = report(client, counter, campaign_id)["clicks"]
    assert (got["unique_clickers"], got["clicks"], got["click_rate"]) == (4, 6, round(4 / 12, 4))
    by_url = {link["url"]: link for link in got["links"]}
    assert (by_url[WINTER]["unique_clickers"], by_url[WINTER]["clicks"], by_url[WINTER]["click_rate"]) == (3, 4, 0.25)
    assert (by_url[MENU]["unique_clickers"], by_url[MENU]["clicks"], by_url[MENU]["click_rate"]) == (2, 2, round(2 / 12, 4))
    assert got["after_click"] == {"buyers": 2, "revenue": "400.00", "coupons_redeemed": 0, "conversion": 0.5}  # the purchase before the click is not one
    who = client.get(f"/api/v1/admin/campaigns/{campaign_id}/clicks", headers=counter.admin).get_json()
    assert who["total"] == 4
    with db.sessions() as s:
        numbers = {s.get(Member, crowd[u]).member_no: u for u in users}
    assert [numbers[c["member_no"]] for c in who["clickers"]] == users[:4]  # first clickers first
    assert [c["bought_after_click"] for c in who["clickers"]] == ["150.00", "250.00", "0.00", "0.00"]
    csv = client.get(f"/api/v1/admin/campaigns/{campaign_id}/report.csv", headers=counter.admin).get_data(as_text=True)
    rows = {tuple(line.split(",")[:3]) for line in csv.lstrip("\ufeff").splitlines()}
    assert {("clicked_tracked", "target", "4"), ("bought_after_click", "target", "2"), ("redeemed_after_click", "target", "0"),
            ("link_1", "target", "3"), ("link_2", "target", "2")} <= rows


def test_a_segment_rule_selects_the_members_who_clicked_a_campaign(client, counter, crowd, fake_line):
    campaign_id = create(client, counter)
    send(client, counter, campaign_id)
    users = list(crowd)
    for user in users[:3]:
        client.get(f"/r/{token_for(fake_line, user)}")
    rule = {"field": "clicked_campaign", "op": "eq", "value": campaign_id}
    resp = client.post("/api/v1/admin/segments/preview", json={"rule": rule}, headers=counter.admin)
    assert resp.status_code == 200 and resp.get_json()["count"] == 3
    resp = client.post("/api/v1/admin/segments/preview", json={"rule": {"not": rule}}, headers=counter.admin)
    assert resp.get_json()["count"] == 9
    resp = client.post("/api/v1/admin/segments/preview", json={"rule": {"field": "clicked_campaign", "op": "in", "value": [campaign_id + 1]}},
                       headers=counter.admin)
    assert resp.get_json()["count"] == 0
    bad = client.post("/api/v1/admin/segments/preview", json={"rule": {"field": "clicked_campaign", "op": "eq", "value": "x"}}, headers=counter.admin)
    assert bad.status_code == 422 and bad.get_json()["details"]["path"] == "/value"
    follow_up = client.post("/api/v1/admin/campaigns", json={"name": "點過的人", "kind": "text", "content": {"text": "謝謝關注"}, "rule": rule},
                            headers=counter.admin)
    assert follow_up.get_json()["estimate"]["audience"] == 3
    assert urlsplit(BASE).path == "/r/"
