"""The console's everyday settings over the admin API: console accounts (owners only, the last
owner kept), the points rewards catalogue, stores' POS keys (never their secrets) and the referral
programme, each with its refusals in the one error shape and its audit entries."""
from __future__ import annotations

import pytest

from models.admin_user import ROLES, create_admin_user
from tests.conftest import ADMIN_TOKEN
from tests.test_ledger_concurrency_pg import run_together

ROOT = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
PASSWORD = "s3cret-pass"
USERS = "/api/v1/admin/users"
NOT_OWNERS = ("analyst", "marketer", "manager")


def make_account(app, email: str, role: str) -> None:  # type: ignore[no-untyped-def]
    svc = app.extensions["loyalty"]
    with svc.db.transaction() as session:
        create_admin_user(session, email=email, password=PASSWORD, role=role, display_name=email.split("@")[0].title(), now=svc.now())


def sign_in(client, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/admin/auth/login", json={"email": email, "password": password})


def bearer(client, email: str, password: str = PASSWORD) -> dict[str, str]:  # type: ignore[no-untyped-def]
    resp = sign_in(client, email, password)
    assert resp.status_code == 200, resp.get_json()
    return {"Authorization": f"Bearer {resp.get_json()['token']}"}


@pytest.fixture
def team(app, client) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    """One account per role (owner@brand.tw, …), each signed in: role → headers."""
    for role in ROLES:
        make_account(app, f"{role}@brand.tw", role)
    return {role: bearer(client, f"{role}@brand.tw") for role in ROLES}


def refused(resp, status: int, code: str, field: str | None = None) -> None:  # type: ignore[no-untyped-def]
    body = resp.get_json()
    assert resp.status_code == status, body
    assert set(body) == {"code", "message", "details"} and body["code"] == code and body["message"], body
    if field is not None:
        assert body["details"].get("field") == field, body


def audit(client) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    return client.get("/api/v1/admin/audit", headers=ROOT).get_json()["entries"]


# --- console accounts ------------------------------------------------------------------------

def test_an_owner_lists_creates_resets_disables_and_enables_accounts(client, team, clock):
    owner = team["owner"]
    listed = client.get(USERS, headers=owner).get_json()["users"]
    assert [u["email"] for u in listed] == ["analyst@brand.tw", "manager@brand.tw", "marketer@brand.tw", "owner@brand.tw"]
    assert listed[3]["role"] == "owner" and listed[3]["active"] is True and listed[3]["last_login_at"] == clock.now.isoformat()
    assert "password_hash" not in str(listed) and "pbkdf2" not in str(listed)

    made = client.post(USERS, json={"email": " Ana@Brand.tw", "name": "安娜", "role": "marketer", "password": "first-pass"}, headers=owner)
    assert made.status_code == 201, made.get_json()
    assert {k: made.get_json()[k] for k in ("email", "name", "role", "active", "failed_logins")} == {
        "email": "ana@brand.tw", "name": "安娜", "role": "marketer", "active": True, "failed_logins": 0}
    ana = bearer(client, "ana@brand.tw", "first-pass")
    assert client.get("/api/v1/admin/members", headers=ana).status_code == 200

    reset = client.post(f"{USERS}/ana@brand.tw/password", json={"password": "second-pass"}, headers=owner)
    assert reset.status_code == 200 and reset.get_json()["email"] == "ana@brand.tw"
    assert client.get("/api/v1/admin/members", headers=ana).status_code == 401  # signed out everywhere
    assert sign_in(client, "ana@brand.tw", "first-pass").status_code == 401
    ana = bearer(client, "ana@brand.tw", "second-pass")

    disabled = client.post(f"{USERS}/ANA@brand.tw/disable", headers=owner)
    assert disabled.status_code == 200 and disabled.get_json()["active"] is False
    assert client.get("/api/v1/admin/members", headers=ana).status_code == 401
    assert sign_in(client, "ana@brand.tw", "second-pass").status_code == 401
    enabled = client.post(f"{USERS}/ana@brand.tw/enable", headers=owner)
    assert enabled.status_code == 200 and enabled.get_json()["active"] is True
    assert sign_in(client, "ana@brand.tw", "second-pass").status_code == 200

    entries = [e for e in audit(client) if e["action"].startswith("POST /api/v1/admin/users")]
    assert [e["action"] for e in reversed(entries)] == [
        "POST /api/v1/admin/users", "POST /api/v1/admin/users/ana@brand.tw/password",
        "POST /api/v1/admin/users/ANA@brand.tw/disable", "POST /api/v1/admin/users/ana@brand.tw/enable"]
    assert all(e["actor"].endswith(":console owner@brand.tw") for e in entries)
    assert entries[-1]["details"]["body"] == {"email": " Ana@Brand.tw", "name": "安娜", "role": "marketer", "password": "***"}
    assert "first-pass" not in str(entries) and "second-pass" not in str(entries)


@pytest.mark.parametrize("role", NOT_OWNERS)
def test_only_an_owner_manages_accounts(client, team, role):
    headers = team[role]
    calls = [("GET", USERS, None), ("POST", USERS, {"email": "x@brand.tw", "password": "long-enough", "role": "owner"}),
             ("POST", f"{USERS}/analyst@brand.tw/disable", None), ("POST", f"{USERS}/analyst@brand.tw/enable", None),
             ("POST", f"{USERS}/analyst@brand.tw/password", {"password": "taken-over"})]
    before = len(audit(client))
    for method, path, body in calls:
        resp = client.open(path, method=method, json=body, headers=headers)
        refused(resp, 403, "missing_scope")
        assert resp.get_json()["details"] == {"scope": "settings:manage"}, path
    users = client.get(USERS, headers=team["owner"]).get_json()["users"]
    assert len(users) == 4 and all(u["active"] for u in users)
    assert sign_in(client, "analyst@brand.tw").status_code == 200  # the password is unchanged
    assert len(audit(client)) == before + 1  # only that sign-in: refusals leave no entry


def test_bad_account_input_names_the_field(client, team):
    owner = team["owner"]
    good = {"email": "new@brand.tw", "password": "long-enough", "role": "analyst"}
    for body, status, code, field in (
        ({}, 422, "invalid_role", "role"),
        ({**good, "email": "not-an-email"}, 422, "invalid_email", "email"),
        ({**good, "email": 42}, 422, "invalid_email", "email"),
        ({**good, "password": "short"}, 422, "weak_password", "password"),
        ({**good, "password": 12345678}, 422, "invalid_password", "password"),
        ({**good, "password": "x" * 201}, 422, "invalid_password", "password"),
        ({**good, "role": "boss"}, 422, "invalid_role", "role"),
        ({**good, "name": "x" * 121}, 422, "invalid_name", "name"),
        ({**good, "email": "OWNER@brand.tw"}, 409, "admin_user_exists", None),
    ):
        refused(client.post(USERS, json=body, headers=owner), status, code, field)
    refused(client.post(USERS, data="nope", headers=owner), 422, "invalid_json")
    refused(client.post(f"{USERS}/analyst@brand.tw/password", json={"password": "short"}, headers=owner), 422, "weak_password", "password")
    refused(client.post(f"{USERS}/analyst@brand.tw/password", json={}, headers=owner), 422, "weak_password", "password")
    refused(client.post(f"{USERS}/analyst@brand.tw/password", data="x", headers=owner), 422, "invalid_json")
    for action in ("disable", "enable", "password"):
        refused(client.post(f"{USERS}/nobody@brand.tw/{action}", json={"password": "long-enough"}, headers=owner), 404, "admin_user_not_found")
    assert len(client.get(USERS, headers=owner).get_json()["users"]) == 4


def test_the_last_active_owner_cannot_be_disabled(app, client, team):
    owner = team["owner"]
    refused(client.post(f"{USERS}/owner@brand.tw/disable", headers=owner), 409, "last_owner")
    refused(client.post(f"{USERS}/owner@brand.tw/disable", headers=ROOT), 409, "last_owner")
    assert client.get(USERS, headers=owner).status_code == 200  # still signed in, still active

    made = client.post(USERS, json={"email": "boss@brand.tw", "password": "long-enough", "role": "owner"}, headers=owner)
    assert made.status_code == 201
    assert client.post(f"{USERS}/boss@brand.tw/disable", headers=owner).get_json()["active"] is False
    refused(client.post(f"{USERS}/owner@brand.tw/disable", headers=owner), 409, "last_owner")  # the other one is off now
    assert client.post(f"{USERS}/boss@brand.tw/enable", headers=owner).status_code == 200
    boss = bearer(client, "boss@brand.tw", "long-enough")

    # with another active owner, an owner may disable themself: signed out at once
    assert client.post(f"{USERS}/owner@brand.tw/disable", headers=owner).status_code == 200
    assert client.get(USERS, headers=owner).status_code == 401
    refused(client.post(f"{USERS}/boss@brand.tw/disable", headers=boss), 409, "last_owner")
    cli = app.test_cli_runner().invoke(args=["loyalty", "admin-user", "disable", "boss@brand.tw"])
    assert cli.exit_code != 0 and "last_owner" in cli.output  # the command line keeps the rule too


def test_two_owners_disabling_each_other_at_once_leave_one(pg_only, app, client):
    for name in ("a", "b"):
        make_account(app, f"{name}@brand.tw", "owner")
    headers = [bearer(client, "a@brand.tw"), bearer(client, "b@brand.tw")]
    results = run_together(app, 2, lambda i, c: c.post(f"{USERS}/{'ba'[i]}@brand.tw/disable", headers=headers[i]))
    # the loser is refused as the last owner (409), or, when the winner committed before its
    # sign-in was checked, as signed out (401); never both disabled
    statuses = sorted(r.status_code for r in results)
    assert statuses in ([200, 401], [200, 409]), [r.get_json() for r in results]
    users = client.get(USERS, headers=ROOT).get_json()["users"]
    assert sum(u["active"] for u in users) == 1


# --- points rewards --------------------------------------------------------------------------

def test_rewards_are_added_edited_withdrawn_and_offered_again(client, team, counter):
    owner = team["owner"]
    made = client.post("/api/v1/admin/rewards", json={"name": "手工餅乾", "points_cost": 30}, headers=owner)
    assert made.status_code == 201
    reward = made.get_json()
    url = f"/api/v1/admin/rewards/{reward['id']}"
    changed = client.put(url, json={"name": " 手工燕麥餅乾 ", "points_cost": 25}, headers=owner)
    assert changed.status_code == 200
    assert changed.get_json() == {"id": reward["id"], "name": "手工燕麥餅乾", "points_cost": 25, "active": True}
    at_counter = lambda: client.get("/api/v1/rewards", headers=counter.cashier).get_json()["rewards"]  # noqa: E731
    assert at_counter() == [{"id": reward["id"], "name": "手工燕麥餅乾", "points_cost": 25}]

    assert client.put(url, json={"active": False}, headers=owner).get_json()["active"] is False
    assert at_counter() == []
    listed = client.get("/api/v1/admin/rewards", headers=owner).get_json()["rewards"]
    assert listed == [{"id": reward["id"], "name": "手工燕麥餅乾", "points_cost": 25, "active": False}]
    assert client.put(url, json={"active": True}, headers=owner).status_code == 200
    assert len(at_counter()) == 1
    assert audit(client)[0]["action"] == f"PUT {url}"


def test_bad_reward_input_names_the_field(client, team):
    owner = team["owner"]
    for body, code, field in (
        ({"name": "餅乾", "points_cost": 0}, "invalid_reward", "points_cost"),
        ({"name": "餅乾", "points_cost": 1_000_001}, "invalid_reward", "points_cost"),
        ({"name": "餅乾", "points_cost": "10"}, "invalid_points_cost", "points_cost"),
        ({"points_cost": 10}, "invalid_name", "name"),
    ):
        refused(client.post("/api/v1/admin/rewards", json=body, headers=owner), 422, code, field)
    reward = client.post("/api/v1/admin/rewards", json={"name": "餅乾", "points_cost": 10}, headers=owner).get_json()
    url = f"/api/v1/admin/rewards/{reward['id']}"
    for body, field in (({"points_cost": -1}, "points_cost"), ({"points_cost": 2.5}, "points_cost"), ({"points_cost": True}, "points_cost"),
                        ({"name": ""}, "name"), ({"name": "x" * 121}, "name"), ({"active": "no"}, "active")):
        refused(client.put(url, json=body, headers=owner), 422, "invalid_reward", field)
    refused(client.put(url, json={"price": 3}, headers=owner), 422, "unknown_field", "price")  # any operation's unknown field
    refused(client.put(url, data="nope", headers=owner), 422, "invalid_json")
    refused(client.put("/api/v1/admin/rewards/999999", json={"active": False}, headers=owner), 404, "reward_not_found")
    refused(client.put(url, json={"active": False}, headers=team["marketer"]), 403, "missing_scope")
    assert client.get("/api/v1/admin/rewards", headers=owner).get_json()["rewards"] == [{**reward, "active": True}]


# --- POS keys --------------------------------------------------------------------------------

def test_pos_keys_are_listed_without_secrets_and_revoked(client, team, counter, clock):
    owner = team["owner"]
    keys_url = "/api/v1/admin/stores/TPE01/api-keys"
    made = client.post(keys_url, json={"label": "櫃檯 POS"}, headers=owner)
    assert made.status_code == 201 and made.headers["Cache-Control"] == "no-store"
    key = made.get_json()
    secret = key["api_key"].split("_", 2)[2]
    assert key["api_key"] == f"pos_{key['key_id']}_{secret}" and key["label"] == "櫃檯 POS" and key["active"] is True
    pos = {"Authorization": f"Bearer {key['api_key']}"}
    assert client.get("/api/v1/me", headers=pos).get_json()["store"]["code"] == "TPE01"

    plain = client.post(keys_url, json={}, headers=owner).get_json()
    listed = client.get(keys_url, headers=owner)
    assert listed.status_code == 200
    assert [k["key_id"] for k in listed.get_json()["keys"]] == [plain["key_id"], key["key_id"]]  # newest first
    assert listed.get_json()["keys"][0]["label"] == "POS"
    assert listed.get_json()["keys"][1] == {"key_id": key["key_id"], "label": "櫃檯 POS", "store": "TPE01", "hint": f"pos_{key['key_id']}_…",
                                            "created_at": clock.now.isoformat(), "revoked_at": None, "active": True}
    assert secret not in listed.get_data(as_text=True) and "hash" not in listed.get_data(as_text=True)

    clock.advance(minutes=5)
    revoked = client.post(f"{keys_url}/{key['key_id']}/revoke", headers=owner)
    assert revoked.status_code == 200 and revoked.get_json()["active"] is False
    assert revoked.get_json()["revoked_at"] == clock.now.isoformat()
    refused(client.get("/api/v1/me", headers=pos), 401, "invalid_api_key")
    clock.advance(minutes=5)
    again = client.post(f"{keys_url}/{key['key_id']}/revoke", headers=owner)
    assert again.status_code == 200 and again.get_json()["revoked_at"] == revoked.get_json()["revoked_at"]  # nothing changes
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain['api_key']}"}).status_code == 200  # the other key works

    assert secret not in str(audit(client))
    assert [e["action"] for e in audit(client)[:2]] == [f"POST {keys_url}/{key['key_id']}/revoke"] * 2


def test_pos_key_refusals(client, team, counter):
    owner = team["owner"]
    assert client.post("/api/v1/admin/stores", json={"code": "TPE02", "name": "台北大安店"}, headers=owner).status_code == 201
    key = client.post("/api/v1/admin/stores/TPE01/api-keys", json={"label": "POS 1"}, headers=owner).get_json()
    refused(client.post(f"/api/v1/admin/stores/TPE02/api-keys/{key['key_id']}/revoke", headers=owner), 404, "api_key_not_found")
    refused(client.post("/api/v1/admin/stores/TPE01/api-keys/nope/revoke", headers=owner), 404, "api_key_not_found")
    refused(client.get("/api/v1/admin/stores/NOPE/api-keys", headers=owner), 404, "store_not_found")
    refused(client.post("/api/v1/admin/stores/NOPE/api-keys", json={}, headers=owner), 404, "store_not_found")
    for label in ("x" * 121, 123, ["POS"]):
        refused(client.post("/api/v1/admin/stores/TPE01/api-keys", json={"label": label}, headers=owner), 422, "invalid_label", "label")
    for role in NOT_OWNERS:
        refused(client.get("/api/v1/admin/stores/TPE01/api-keys", headers=team[role]), 403, "missing_scope")
        refused(client.post("/api/v1/admin/stores/TPE01/api-keys", json={}, headers=team[role]), 403, "missing_scope")
        refused(client.post(f"/api/v1/admin/stores/TPE01/api-keys/{key['key_id']}/revoke", headers=team[role]), 403, "missing_scope")
    assert [k["active"] for k in client.get("/api/v1/admin/stores/TPE01/api-keys", headers=owner).get_json()["keys"]] == [True]


# --- referral programme ----------------------------------------------------------------------

def test_the_referral_programme_from_the_console(client, team):
    owner, url = team["owner"], "/api/v1/admin/referral-program"
    assert client.get(url, headers=owner).get_json()["new_friend_hours"] == 24
    changed = client.put(url, json={"enabled": False, "referrer_reward": {"kind": "points", "amount": 50}, "friend_reward": None,
                                    "min_purchase": "150", "monthly_cap": None, "new_friend_hours": 48}, headers=owner)
    assert changed.status_code == 200, changed.get_json()
    got = client.get(url, headers=owner).get_json()
    assert {k: got[k] for k in ("enabled", "referrer_reward", "friend_reward", "min_purchase", "monthly_cap", "new_friend_hours")} == {
        "enabled": False, "referrer_reward": {"kind": "points", "amount": 50}, "friend_reward": None,
        "min_purchase": "150", "monthly_cap": None, "new_friend_hours": 48}
    for body, field in (({"new_friend_hours": 0}, "new_friend_hours"), ({"new_friend_hours": None}, "new_friend_hours"),
                        ({"min_purchase": "abc"}, "min_purchase"), ({"min_purchase": "1.234"}, "min_purchase"),
                        ({"min_purchase": "99999999999"}, "min_purchase"), ({"monthly_cap": "3"}, "monthly_cap"),
                        ({"referrer_reward": {"kind": "stamps", "amount": None}}, "referrer_reward"),
                        ({"friend_reward": {"kind": "coupon", "coupon_template_id": None}}, "friend_reward")):
        refused(client.put(url, json=body, headers=owner), 422, "invalid_referral_program", field)
    assert client.get(url, headers=owner).get_json()["new_friend_hours"] == 48  # nothing half-saved
    for role in NOT_OWNERS:
        refused(client.get(url, headers=team[role]), 403, "missing_scope")
        refused(client.put(url, json={"enabled": True}, headers=team[role]), 403, "missing_scope")


# --- the document and the page ---------------------------------------------------------------

def test_the_new_routes_are_documented_with_their_scope(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    expected = {("/api/v1/admin/users", "get"), ("/api/v1/admin/users", "post"), ("/api/v1/admin/users/{email}/disable", "post"),
                ("/api/v1/admin/users/{email}/enable", "post"), ("/api/v1/admin/users/{email}/password", "post"),
                ("/api/v1/admin/rewards/{reward_id}", "put"), ("/api/v1/admin/stores/{code}/api-keys", "get"),
                ("/api/v1/admin/stores/{code}/api-keys/{key_id}/revoke", "post")}
    for path, method in expected:
        operation = paths[path][method]
        assert operation["security"] == [{"admin": ["settings:manage"]}], path
        assert {"401", "403"} <= set(operation["responses"]), path
        if "{" in path:
            assert "404" in operation["responses"], path
    assert "last_owner" in paths["/api/v1/admin/users/{email}/disable"]["post"]["responses"]["409"]["description"]
    assert "secret" in paths["/api/v1/admin/stores/{code}/api-keys"]["get"]["summary"]


def test_the_console_page_loads_the_settings_modules(client):
    html = client.get("/admin/settings/users").get_data(as_text=True)
    for name in ("i18n-settings.js", "forms.js", "settings-rewards.js", "settings-referral.js", "settings-pos.js", "settings-users.js"):
        assert f'src="/static/admin/{name}"' in html, name
        resp = client.get(f"/static/admin/{name}")
        assert resp.status_code == 200 and len(resp.data) > 500, name
        resp.close()
