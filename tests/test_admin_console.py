"""The admin console's API: accounts from the CLI, sign-in (wrong password, lock, expiry, sign-out),
roles mapped onto scopes, the forms' choices, a manager's balance adjustment, and the /admin page."""
from __future__ import annotations

from datetime import timedelta

import pytest

from bot.app import create_app  # noqa: F401  (the app fixture builds it)
from tests.conftest import ADMIN_TOKEN

ROOT = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def accounts(app):  # type: ignore[no-untyped-def]
    """One account per role, made the way production makes them: the CLI."""
    runner = app.test_cli_runner()
    for role in ("analyst", "marketer", "manager", "owner"):
        result = runner.invoke(args=["loyalty", "admin-user", "create", f"{role}@brand.tw", "--role", role, "--name", role.title(),
                                     "--password", "s3cret-pass"])
        assert result.exit_code == 0, result.output
        assert f"created {role}@brand.tw ({role}" in result.output
    return runner


def sign_in(client, email: str, password: str = "s3cret-pass", environ: dict | None = None):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/admin/auth/login", json={"email": email, "password": password}, environ_base=environ or {})


def bearer(client, email: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    resp = sign_in(client, email)
    assert resp.status_code == 200, resp.get_json()
    return {"Authorization": f"Bearer {resp.get_json()['token']}"}


def test_sign_in_gives_a_token_every_admin_route_accepts(client, accounts, clock):
    resp = sign_in(client, "Owner@Brand.tw ")  # case and spaces do not matter
    body = resp.get_json()
    assert resp.status_code == 200 and body["token"].startswith("adm_")
    assert body["user"] == {"email": "owner@brand.tw", "name": "Owner", "role": "owner", "active": True,
                            "scopes": ["members:read", "campaigns:manage", "settings:manage", "members:adjust"],
                            "last_login_at": clock.now.isoformat()}
    assert body["expires_at"] == (clock.now + timedelta(hours=8)).isoformat()
    auth = {"Authorization": f"Bearer {body['token']}"}
    assert client.get("/api/v1/admin/dashboard", headers=auth).status_code == 200
    assert client.post("/api/v1/admin/stores", json={"code": "S1", "name": "一號店"}, headers=auth).status_code == 201
    me = client.get("/api/v1/admin/auth/me", headers=auth).get_json()
    assert me["user"]["email"] == "owner@brand.tw" and me["who"].endswith(":console owner@brand.tw")
    audit = client.get("/api/v1/admin/audit", headers=ROOT).get_json()["entries"]
    assert [e["action"] for e in audit[:2]] == ["POST /api/v1/admin/stores", "POST /api/v1/admin/auth/login"]
    assert all(e["actor"] == me["who"] for e in audit[:2])
    assert "s3cret" not in str(audit)


def test_wrong_credentials_answer_401_in_the_error_shape(client, accounts):
    for email, password in (("owner@brand.tw", "wrong-password"), ("nobody@brand.tw", "s3cret-pass"), ("", "")):
        resp = sign_in(client, email, password)
        assert resp.status_code == 401
        assert resp.get_json() == {"code": "invalid_credentials", "message": "Wrong email or password", "details": {}}
    assert client.post("/api/v1/admin/auth/login", data="nope").get_json()["code"] == "invalid_json"


def test_failures_from_one_address_wait_longer_each_time_others_sign_in(client, accounts, clock):
    """Five wrong passwords from one address make that address wait (1 s, then 2 s, 4 s …); the
    account's owner elsewhere signs in at once, and is told how many attempts failed meanwhile."""
    attacker = {"REMOTE_ADDR": "203.0.113.9"}
    for _ in range(5):
        assert sign_in(client, "marketer@brand.tw", "guess-guess", environ=attacker).status_code == 401
    held = sign_in(client, "marketer@brand.tw", environ=attacker)  # even the right password
    assert held.status_code == 429 and held.get_json()["code"] == "too_many_attempts"
    assert held.get_json()["details"]["retry_after_seconds"] == 1
    waits = []
    for _ in range(4):
        clock.advance(seconds=held.get_json()["details"]["retry_after_seconds"])
        assert sign_in(client, "marketer@brand.tw", "guess-guess", environ=attacker).status_code == 401
        held = sign_in(client, "marketer@brand.tw", "guess-guess", environ=attacker)
        waits.append(held.get_json()["details"]["retry_after_seconds"])
    assert waits == [2, 4, 8, 16]
    nobody = [sign_in(client, "nobody@brand.tw", "guess-guess", environ=attacker) for _ in range(6)]  # unknown names: the same answers
    assert [r.status_code for r in nobody] == [401] * 5 + [429] and nobody[5].get_json() == held.get_json() | {"details": {"retry_after_seconds": 1}}

    office = sign_in(client, "marketer@brand.tw", environ={"REMOTE_ADDR": "198.51.100.20"})
    assert office.status_code == 200 and office.get_json()["failed_attempts"] == 9
    owner = bearer(client, "owner@brand.tw")
    row = next(u for u in client.get("/api/v1/admin/users", headers=owner).get_json()["users"] if u["email"] == "marketer@brand.tw")
    assert row["failed_logins"] == 0  # told once, at that sign-in
    clock.advance(minutes=16)
    assert sign_in(client, "marketer@brand.tw", environ=attacker).status_code == 200


def test_an_address_trying_many_names_waits_too(client, accounts, clock):
    spray = {"REMOTE_ADDR": "203.0.113.50"}
    answers = [sign_in(client, f"user{i}@brand.tw", "guess-guess", environ=spray).status_code for i in range(31)]
    assert answers[:30] == [401] * 30 and answers[30] == 429
    assert sign_in(client, "owner@brand.tw", environ={"REMOTE_ADDR": "198.51.100.20"}).status_code == 200


def test_an_unknown_name_costs_the_same_hash_as_a_real_one(app):
    import models.store

    assert models.store.dummy_hash().startswith(models.store.PASSWORD_METHOD.split(":")[0])


def test_every_api_answer_says_which_day_it_is_in_taipei(client, accounts, clock):
    """Pages take "today" from X-Business-Date: the app's clock, in Taipei, on every API answer."""
    clock.set_taipei(7, 30)  # still yesterday in UTC
    for path in ("/api/v1/admin/dashboard", "/api/v1/admin/nope", "/api/v1/scan"):
        resp = client.get(path, headers=bearer(client, "analyst@brand.tw"))
        assert resp.headers["X-Business-Date"] == clock.today().isoformat(), path
    clock.set_taipei(23, 59)
    assert client.get("/api/v1/admin/dashboard", headers=bearer(client, "analyst@brand.tw")).headers["X-Business-Date"] == clock.today().isoformat()
    before = clock.today()
    clock.advance(minutes=1)  # midnight in Taipei: a new business day
    day = client.get("/api/v1/admin/dashboard", headers=bearer(client, "analyst@brand.tw")).headers["X-Business-Date"]
    assert day == (before + timedelta(days=1)).isoformat()
    assert "X-Business-Date" not in client.get("/admin").headers  # pages get it from their API calls


def test_sessions_expire_and_sign_out_ends_them(client, accounts, clock):
    auth = bearer(client, "analyst@brand.tw")
    clock.advance(hours=7, minutes=59)
    assert client.get("/api/v1/admin/members", headers=auth).status_code == 200
    clock.advance(minutes=1)
    expired = client.get("/api/v1/admin/members", headers=auth)
    assert expired.status_code == 401 and expired.get_json()["code"] == "session_expired"

    auth = bearer(client, "analyst@brand.tw")
    assert client.post("/api/v1/admin/auth/logout", headers=auth).get_json() == {"revoked": True}
    assert client.get("/api/v1/admin/members", headers=auth).status_code == 401
    # the root token is not a session: signing it "out" changes nothing
    assert client.post("/api/v1/admin/auth/logout", headers=ROOT).get_json() == {"revoked": False}
    assert client.get("/api/v1/admin/members", headers=ROOT).status_code == 200


def test_roles_map_onto_the_scopes(client, accounts):
    rule = {"amount_per_point": "20"}
    cases = {  # (read members, save a segment, change earning rules)
        "analyst": (200, 403, 403), "marketer": (200, 201, 403), "manager": (200, 201, 403), "owner": (200, 201, 200),
    }
    for role, expected in cases.items():
        auth = bearer(client, f"{role}@brand.tw")
        got = (client.get("/api/v1/admin/members", headers=auth).status_code,
               client.post("/api/v1/admin/segments", json={"name": f"seg {role}", "rule": {}}, headers=auth).status_code,
               client.put("/api/v1/admin/earning-rule", json=rule, headers=auth).status_code)
        assert got == expected, role


def test_cli_password_reset_and_disable_sign_the_user_out(client, accounts):
    auth = bearer(client, "marketer@brand.tw")
    result = accounts.invoke(args=["loyalty", "admin-user", "password", "marketer@brand.tw", "--password", "n3w-password"])
    assert result.exit_code == 0, result.output
    assert client.get("/api/v1/admin/members", headers=auth).status_code == 401
    assert sign_in(client, "marketer@brand.tw").status_code == 401
    auth = {"Authorization": f"Bearer {sign_in(client, 'marketer@brand.tw', 'n3w-password').get_json()['token']}"}
    assert accounts.invoke(args=["loyalty", "admin-user", "disable", "marketer@brand.tw"]).exit_code == 0
    assert client.get("/api/v1/admin/members", headers=auth).status_code == 401
    assert sign_in(client, "marketer@brand.tw", "n3w-password").status_code == 401
    listing = accounts.invoke(args=["loyalty", "admin-user", "list"]).output
    assert "marketer@brand.tw\tmarketer\tdisabled" in listing and "owner@brand.tw\towner\tactive" in listing
    again = accounts.invoke(args=["loyalty", "admin-user", "create", "owner@brand.tw", "--password", "whatever-1"])
    assert again.exit_code != 0 and "admin_user_exists" in again.output
    weak = accounts.invoke(args=["loyalty", "admin-user", "create", "x@brand.tw", "--password", "short"])
    assert weak.exit_code != 0 and "weak_password" in weak.output


def test_adjusting_a_balance_needs_a_manager_and_a_reason(client, accounts, counter, make_member):
    _, number = make_member("王小姐")
    counter.award(number, "r-1", amount="100", visit=True)
    url = f"/api/v1/admin/members/{number}/adjustments"
    marketer = client.post(url, json={"currency": "points", "amount": 5, "reason": "補點"}, headers=bearer(client, "marketer@brand.tw"))
    assert marketer.status_code == 403 and marketer.get_json()["details"] == {"scope": "members:adjust"}

    manager = bearer(client, "manager@brand.tw")
    assert client.post(url, json={"currency": "points", "amount": 5}, headers=manager).get_json()["code"] == "invalid_reason"
    assert client.post(url, json={"currency": "coins", "amount": 5, "reason": "x"}, headers=manager).get_json()["code"] == "invalid_currency"
    assert client.post(url, json={"currency": "points", "amount": 0, "reason": "x"}, headers=manager).get_json()["code"] == "invalid_amount"
    too_much = client.post(url, json={"currency": "stamps", "amount": -2, "reason": "多蓋了"}, headers=manager)
    assert too_much.status_code == 409 and too_much.get_json()["code"] == "insufficient_balance"

    done = client.post(url, json={"currency": "points", "amount": 5, "reason": "系統當機補點"}, headers=manager)
    assert done.status_code == 201, done.get_json()
    assert done.get_json()["balances"] == {"stamps": 1, "points": 15}
    entry = done.get_json()["entry"]
    assert (entry["reason"], entry["note"], entry["actor_kind"], entry["store_id"]) == ("correction", "系統當機補點", "admin", None)
    detail = client.get(f"/api/v1/admin/members/{number}", headers=manager).get_json()
    assert detail["summary"]["balances"] == {"stamps": 1, "points": 15}
    applied, audit = client.get("/api/v1/admin/audit", headers=ROOT).get_json()["entries"][:2]
    assert audit["action"] == f"POST {url}" and "manager@brand.tw" in audit["actor"] and audit["details"]["body"]["reason"] == "系統當機補點"
    assert applied["action"] == "correction.applied" and applied["actor"] == audit["actor"]
    assert {k: applied["details"][k] for k in ("store", "member", "currency", "delta", "reason")} == {
        "store": None, "member": number, "currency": "point", "delta": 5, "reason": "系統當機補點"}


def test_lookups_list_what_the_forms_offer(client, accounts, counter, tiers):
    body = client.get("/api/v1/admin/lookups", headers=bearer(client, "analyst@brand.tw")).get_json()
    assert [t["code"] for t in body["tiers"]] == ["basic", "silver", "gold"]
    assert body["stores"] == [{"code": "TPE01", "name": "台北信義店"}]
    assert body["rule_fields"]["gender"] == {"ops": ["eq", "in"], "kind": "enum", "choices": ["male", "female", "other"], "bounds": None}
    assert body["rule_fields"]["r_score"]["bounds"] == [1, 5]


def test_the_console_page_is_served_under_admin(client):
    for path in ("/admin", "/admin/", "/admin/members/100000018", "/admin/campaigns/new"):
        resp = client.get(path)
        assert resp.status_code == 200 and resp.mimetype == "text/html", path
        html = resp.get_data(as_text=True)
        assert '<html lang="zh-Hant-TW">' in html and "/static/admin/core.js" in html
        assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
        resp.close()
    assert "//cdn" not in html and "http://" not in html and "https://" not in html


def test_vendored_chartjs_matches_the_readme():
    import hashlib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    section = (root / "static" / "vendor" / "README.md").read_text(encoding="utf-8").split("## Chart.js", 1)[1]
    for name in ("chart.umd.js", "LICENSE.md"):
        digest = hashlib.sha256((root / "static" / "vendor" / "chartjs" / name).read_bytes()).hexdigest()
        assert f"`chartjs/{name}`: `{digest}`" in section, f"{name}: README sha256 is stale"
    assert "MIT License" in (root / "static" / "vendor" / "chartjs" / "LICENSE.md").read_text(encoding="utf-8")
