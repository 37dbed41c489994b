"""Credentials with a life cycle: admin tokens listed, revoked, expiring and never outliving the
console user who minted them; staff accounts disabled, reset and signed out everywhere; counter
sign-ins throttled per address; and a password policy beyond length."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import ADMIN_TOKEN

ROOT = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
OWNER, OTHER = "owner@brand.tw", "second@brand.tw"


@pytest.fixture
def owners(app):  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()
    for email in (OWNER, OTHER):
        out = runner.invoke(args=["loyalty", "admin-user", "create", email, "--role", "owner", "--password", "s3cret-pass"])
        assert out.exit_code == 0, out.output
    return runner


def console(client, email: str, password: str = "s3cret-pass") -> dict[str, str]:  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/admin/auth/login", json={"email": email, "password": password})
    assert resp.status_code == 200, resp.get_json()
    return {"Authorization": f"Bearer {resp.get_json()['token']}"}


def mint(client, headers, **body) -> dict:  # type: ignore[no-untyped-def,type-arg]
    resp = client.post("/api/v1/admin/tokens", json={"name": "CRM", "scopes": ["settings:manage"], **body}, headers=headers)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def bearer(token: dict) -> dict[str, str]:  # type: ignore[type-arg]
    return {"Authorization": f"Bearer {token['token']}"}


# --- admin tokens ---------------------------------------------------------------------------

def test_tokens_are_listed_revoked_and_expire(client, owners, clock):
    made = mint(client, ROOT, expires_in_days=7)
    assert made["expires_at"] == (clock.now + timedelta(days=7)).isoformat() and made["active"] and made["kind"] == "api"
    forever = mint(client, ROOT, name="POS sync")
    assert client.get("/api/v1/admin/stores", headers=bearer(made)).status_code == 200
    listed = client.get("/api/v1/admin/tokens", headers=ROOT).get_json()["tokens"]
    assert [t["name"] for t in listed] == ["POS sync", "CRM"] and "token" not in listed[0] and "secret" not in str(listed)

    clock.advance(days=7)
    expired = client.get("/api/v1/admin/stores", headers=bearer(made))
    assert expired.status_code == 401 and expired.get_json()["code"] == "session_expired"
    revoked = client.delete(f"/api/v1/admin/tokens/{forever['id']}", headers=ROOT)
    assert revoked.status_code == 200 and revoked.get_json()["revoked_at"] == clock.now.isoformat() and not revoked.get_json()["active"]
    assert client.get("/api/v1/admin/stores", headers=bearer(forever)).status_code == 401
    assert [t["active"] for t in client.get("/api/v1/admin/tokens", headers=ROOT).get_json()["tokens"]] == [False, False]
    assert client.delete("/api/v1/admin/tokens/999", headers=ROOT).get_json()["code"] == "token_not_found"
    sessions = client.get("/api/v1/admin/tokens?sessions=1", headers=ROOT).get_json()["tokens"]
    assert sessions == client.get("/api/v1/admin/tokens", headers=ROOT).get_json()["tokens"]  # nobody signed in to the console yet


@pytest.mark.parametrize("body", [{"expires_in_days": 0}, {"expires_in_days": 99999}, {"expires_in_days": "7"},
                                  {"scopes": [[[[]]]]}, {"name": "x" * 121}])
def test_a_bad_token_request_names_its_field(client, body):
    resp = client.post("/api/v1/admin/tokens", json={"name": "CRM", "scopes": ["members:read"], **body}, headers=ROOT)
    assert resp.status_code == 422 and resp.get_json()["details"]["field"] == next(iter(body))


def test_a_disabled_owners_tokens_stop_working(client, owners):
    """Minted by an owner who is then disabled: the token used to keep working (and made a new owner)."""
    session = console(client, OWNER)
    theirs = mint(client, session)
    chained = mint(client, bearer(theirs), name="made with the owner's token")
    rooted = mint(client, ROOT, name="made with the root token")
    assert theirs["created_by_id"] == chained["created_by_id"] is not None and rooted["created_by_id"] is None
    assert client.post(f"/api/v1/admin/users/{OWNER}/disable", headers=console(client, OTHER)).status_code == 200
    for token in (theirs, chained):
        refused = client.post("/api/v1/admin/users", json={"email": "evil@x.tw", "role": "owner", "password": "long-and-new"}, headers=bearer(token))
        assert refused.status_code == 401, token["name"]
    assert client.get("/api/v1/admin/stores", headers=bearer(rooted)).status_code == 200


def test_a_new_password_revokes_the_tokens_a_user_made(client, owners):
    theirs = mint(client, console(client, OTHER))
    assert client.post(f"/api/v1/admin/users/{OTHER}/password", json={"password": "brand-new-pass"}, headers=ROOT).status_code == 200
    assert client.get("/api/v1/admin/stores", headers=bearer(theirs)).status_code == 401


def test_tokens_from_the_command_line(client, owners):
    out = owners.invoke(args=["loyalty", "token", "create", "nightly export", "--scope", "members:read", "--days", "30"])
    assert out.exit_code == 0, out.output
    plain = out.output.split(": ", 1)[1].split()[0]
    assert client.get("/api/v1/admin/members", headers={"Authorization": f"Bearer {plain}"}).status_code == 200
    listed = owners.invoke(args=["loyalty", "token", "list"]).output
    token_id = listed.split("\t")[0]
    assert "nightly export\tmembers:read\tactive" in listed
    assert owners.invoke(args=["loyalty", "token", "revoke", token_id]).exit_code == 0
    assert "\trevoked\t" in owners.invoke(args=["loyalty", "token", "list"]).output
    assert client.get("/api/v1/admin/members", headers={"Authorization": f"Bearer {plain}"}).status_code == 401
    assert owners.invoke(args=["loyalty", "token", "revoke", "999"]).exit_code != 0


# --- staff accounts ---------------------------------------------------------------------------

def staff_url(counter, action: str, who: str = "") -> str:  # type: ignore[no-untyped-def]
    return f"/api/v1/admin/stores/{counter.code}/staff/{who or f'cashier-{counter.code}'.lower()}/{action}"


def test_disabling_a_cashier_refuses_them_at_once(client, counter):
    assert client.get("/api/v1/me", headers=counter.cashier).status_code == 200
    resp = client.post(staff_url(counter, "disable"), headers=counter.admin)
    assert resp.status_code == 200 and resp.get_json()["active"] is False
    assert client.get("/api/v1/me", headers=counter.cashier).status_code == 401
    assert client.post("/api/v1/auth/login", json={"username": "cashier-tpe01", "password": "correct horse"}).status_code == 401
    client.post(staff_url(counter, "enable"), headers=counter.admin)
    assert client.get("/api/v1/me", headers=counter.cashier).status_code == 401  # the old token stays dead
    assert client.post("/api/v1/auth/login", json={"username": "cashier-tpe01", "password": "correct horse"}).status_code == 200
    assert client.post(staff_url(counter, "disable", "nobody"), headers=counter.admin).get_json()["code"] == "staff_not_found"
    assert client.post(staff_url(counter, "disable"), headers=counter.cashier).status_code == 401  # staff tokens are not admin tokens


def test_a_new_password_and_sign_out_end_every_session(client, counter):
    tablet = client.post("/api/v1/auth/login", json={"username": "manager-tpe01", "password": "correct horse"}).get_json()["token"]
    weak = client.post(staff_url(counter, "password", "manager-tpe01"), json={"password": "12345678"}, headers=counter.admin)
    assert weak.status_code == 422 and weak.get_json()["code"] == "weak_password"
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {tablet}"}).status_code == 200  # a refusal changes nothing
    assert client.post(staff_url(counter, "password", "manager-tpe01"), json={"password": "a new one!"}, headers=counter.admin).status_code == 200
    for headers in (counter.manager, {"Authorization": f"Bearer {tablet}"}):
        refused = client.get("/api/v1/me", headers=headers)
        assert refused.status_code == 401 and refused.get_json()["code"] == "session_revoked"
    login = client.post("/api/v1/auth/login", json={"username": "manager-tpe01", "password": "a new one!"})
    assert login.status_code == 200
    fresh = {"Authorization": f"Bearer {login.get_json()['token']}"}
    assert client.post(staff_url(counter, "sign-out", "manager-tpe01"), headers=counter.admin).status_code == 200
    assert client.get("/api/v1/me", headers=fresh).get_json()["code"] == "session_revoked"


def test_staff_from_the_command_line(app, client, counter):
    runner = app.test_cli_runner()
    out = runner.invoke(args=["loyalty", "staff", "disable", counter.code, "cashier-tpe01"])
    assert out.exit_code == 0 and "disabled" in out.output
    assert client.get("/api/v1/me", headers=counter.cashier).status_code == 401
    out = runner.invoke(args=["loyalty", "staff", "password", counter.code, "cashier-tpe01", "--password", "password"])
    assert out.exit_code != 0 and "weak_password" in out.output
    assert runner.invoke(args=["loyalty", "staff", "enable", counter.code, "cashier-tpe01"]).exit_code == 0
    assert runner.invoke(args=["loyalty", "staff", "sign-out", counter.code, "manager-tpe01"]).exit_code == 0
    assert client.get("/api/v1/me", headers=counter.manager).status_code == 401
    assert runner.invoke(args=["loyalty", "staff", "enable", counter.code, "nobody"]).exit_code != 0


def test_counter_sign_ins_are_throttled_per_address(client, counter, clock):
    """60 wrong passwords then the right one used to answer 200."""
    till = {"REMOTE_ADDR": "203.0.113.7"}
    login = lambda password, env=till: client.post("/api/v1/auth/login", json={"username": "cashier-tpe01", "password": password}, environ_base=env)  # noqa: E731
    assert [login("guess-guess").status_code for _ in range(5)] == [401] * 5
    held = login("correct horse")
    assert held.status_code == 429 and held.get_json()["details"]["retry_after_seconds"] == 1
    assert login("correct horse", {"REMOTE_ADDR": "198.51.100.3"}).status_code == 200  # the real cashier at another till
    clock.advance(seconds=1)
    assert login("correct horse").status_code == 200


@pytest.mark.parametrize("password", ["12345678", "        ", "aaaaaaaaaa", "Password1", "cashier-new"])
def test_easy_passwords_are_refused(client, counter, password):
    resp = client.post(f"/api/v1/admin/stores/{counter.code}/staff", json={"username": "cashier-new", "password": password}, headers=counter.admin)
    assert resp.status_code == 422 and resp.get_json()["code"] == "weak_password"
    own_name = "ana@brand.tw" if password == "cashier-new" else password
    console_account = client.post("/api/v1/admin/users", json={"email": "ana@brand.tw", "role": "analyst", "password": own_name}, headers=counter.admin)
    assert console_account.status_code == 422 and console_account.get_json()["code"] == "weak_password"


# --- member numbers -----------------------------------------------------------------------------

def test_member_numbers_are_random_and_typed_ones_are_rate_limited(client, counter, make_member, clock, monkeypatch):
    """Numbers were 10000000 + id: one cashier walked 300 of them in a second, seeing names and balances."""
    import bot.api.cashier
    from models.member import is_valid_member_no

    numbers = [make_member(f"會員{i}")[1] for i in range(3)]
    assert all(is_valid_member_no(n) and len(n) == 9 for n in numbers)
    assert sorted(int(n[:-1]) for n in numbers) != list(range(int(min(numbers)[:-1]), int(min(numbers)[:-1]) + 3))  # not neighbours
    monkeypatch.setattr(bot.api.cashier, "TYPED_LIMIT", 5)
    typed = [client.post("/api/v1/scan", json={"member_no": n}, headers=counter.cashier).status_code for n in [*numbers, "100000018", "100000026"]]
    assert typed == [200, 200, 200, 404, 404]  # wrong numbers count too
    refused = client.post("/api/v1/scan", json={"member_no": numbers[0]}, headers=counter.cashier)
    assert refused.status_code == 429 and refused.get_json()["code"] == "too_many_lookups"
    assert refused.get_json()["details"]["retry_after_seconds"] == 600
    assert client.post("/api/v1/scan", json={"member_no": numbers[0]}, headers=counter.manager).status_code == 200  # per credential
    clock.advance(minutes=10)
    assert client.post("/api/v1/scan", json={"member_no": numbers[0]}, headers=counter.cashier).status_code == 200


def test_behind_a_trusted_proxy_the_throttle_keys_on_the_client(app, client, counter, settings, clock):
    from bot import create_app

    behind = create_app(settings.with_overrides(trusted_proxies=1))
    behind.extensions["loyalty"].clock = clock
    proxied = behind.test_client()
    login = lambda client_ip: proxied.post("/api/v1/auth/login", json={"username": "cashier-tpe01", "password": "guess-guess"},  # noqa: E731
                                           headers={"X-Forwarded-For": client_ip}, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert [login("203.0.113.7").status_code for _ in range(6)] == [401] * 5 + [429]
    assert login("198.51.100.3").status_code == 401  # another customer's phone behind the same proxy: not held
    behind.extensions["loyalty"].db.dispose()
