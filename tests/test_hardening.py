"""Hardening: request bodies are bounded on every route, production never runs on the published
development secrets, and every answer carries the browser security headers."""
from __future__ import annotations

import http.client
import io
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from bot import create_app
from bot.dev import lineevents as ev
from bot.config import DEMO_ADMIN_TOKEN, DEV_SECRET, ConfigError, Settings
from models.webhook import WebhookEvent
from tests.conftest import ADMIN_TOKEN, CHANNEL_SECRET

ROOT = Path(__file__).resolve().parents[1]
MB = 1024 * 1024


class EndlessBody:
    """A request body that never ends (a WSGI input stream), counting what the app reads of it.
    It goes in as ``wsgi.input``: the test client would measure an ``input_stream`` by seeking."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        assert size is not None and size >= 0, "read to the end of an endless body"
        self.read_bytes += size
        return b" " * size

    def readline(self, size: int = -1) -> bytes:
        return self.read(max(size, 0))


@pytest.fixture
def parser_calls(monkeypatch):  # type: ignore[no-untyped-def]
    """Every signature check the webhook starts (bot/web/webhook.py builds one WebhookParser per request)."""
    import bot.web.webhook

    calls: list[str] = []
    real = bot.web.webhook.WebhookParser

    def spy(secret: str):  # type: ignore[no-untyped-def]
        calls.append("parse")
        return real(secret)

    monkeypatch.setattr(bot.web.webhook, "WebhookParser", spy)
    return calls


def assert_too_large(resp, limit: int) -> None:  # type: ignore[no-untyped-def]
    assert resp.status_code == 413, resp.data[:200]
    assert resp.get_json() == {"code": "request_too_large", "message": f"The request body is larger than {limit} bytes",
                               "details": {"max_bytes": limit}}


# ── request bodies ──────────────────────────────────────────────────────────


def test_a_300_mb_webhook_is_refused_by_its_length_before_it_is_read(client, app, db, parser_calls):
    body = EndlessBody()
    resp = client.post("/callback", environ_overrides={"wsgi.input": body, "CONTENT_LENGTH": str(300 * MB)},
                       headers={"X-Line-Signature": "c2lnbmF0dXJl", "Content-Type": "application/json"})
    assert_too_large(resp, app.config["MAX_CONTENT_LENGTH"])
    assert body.read_bytes == 0  # not a byte read
    assert parser_calls == []  # nor a signature computed
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(WebhookEvent)) == 0


def test_a_chunked_webhook_without_length_is_cut_off_at_the_limit(client, app, parser_calls):
    """As gunicorn and Werkzeug's server hand a chunked body over: no Content-Length, the stream
    ends where the client's chunks do (``wsgi.input_terminated``)."""
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = EndlessBody()
    resp = client.post("/callback", environ_overrides={"wsgi.input": body, "wsgi.input_terminated": True},
                       headers={"X-Line-Signature": "c2lnbmF0dXJl", "Transfer-Encoding": "chunked"})
    assert_too_large(resp, limit)
    assert body.read_bytes == limit + 1  # the limit, and the byte that proves the body is longer
    assert parser_calls == []


def test_a_chunked_webhook_under_the_limit_is_handled_as_ever(client, line, db, fake_line):
    user = line.user()
    raw = ev.payload(ev.follow_event(user))
    resp = client.post("/callback", environ_overrides={"wsgi.input": io.BytesIO(raw), "wsgi.input_terminated": True},
                       headers={"X-Line-Signature": ev.sign(CHANNEL_SECRET, raw), "Transfer-Encoding": "chunked"})
    assert resp.status_code == 200, resp.get_json()
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(WebhookEvent)) == 1
    assert len(fake_line.requests(path="/v2/bot/message/reply")) == 1


def test_a_chunked_json_body_under_the_limit_reaches_its_route(client):
    raw = b'{"username": "nobody", "password": "wrong password"}'
    resp = client.post("/api/v1/auth/login", environ_overrides={"wsgi.input": io.BytesIO(raw), "wsgi.input_terminated": True},
                       headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    assert resp.status_code == 401 and resp.get_json()["code"] == "invalid_credentials"  # read as JSON, refused as a login


def test_a_signed_webhook_one_byte_over_the_limit_is_refused(client, app, parser_calls):
    limit = app.config["MAX_CONTENT_LENGTH"]
    raw = ev.payload(ev.follow_event(ev.new_user_id()))
    raw = raw[:-1] + b" " * (limit + 1 - len(raw)) + raw[-1:]  # still the same JSON, padded
    assert len(raw) == limit + 1
    resp = client.post("/callback", data=raw, headers={"X-Line-Signature": ev.sign(CHANNEL_SECRET, raw)})
    assert_too_large(resp, limit)
    assert parser_calls == []


def test_a_body_at_the_limit_reaches_the_signature_check(client, app, parser_calls):
    limit = app.config["MAX_CONTENT_LENGTH"]
    resp = client.post("/callback", data=b" " * limit, headers={"X-Line-Signature": "c2lnbmF0dXJl"})
    assert resp.status_code == 400 and resp.get_json()["code"] == "invalid_signature"
    assert parser_calls == ["parse"]


@pytest.mark.parametrize("method,path", [
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/admin/stores"),
    ("PUT", "/api/v1/admin/earning-rule"),
    ("GET", "/healthz"),  # a route that never reads a body is refused all the same
    ("POST", "/no/such/route"),
])
def test_every_route_refuses_an_oversized_body_unread(client, app, method, path):
    body = EndlessBody()
    resp = client.open(path, method=method, environ_overrides={"wsgi.input": body, "CONTENT_LENGTH": str(50 * MB)},
                       headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"})
    assert_too_large(resp, app.config["MAX_CONTENT_LENGTH"])
    assert body.read_bytes == 0


def test_the_limit_is_a_setting(settings, clock):  # type: ignore[no-untyped-def]
    assert Settings.from_env({"APP_ENV": "development"}, dotenv=False).max_request_bytes == MB
    assert Settings.from_env({"APP_ENV": "development", "MAX_REQUEST_BYTES": "2048"}, dotenv=False).max_request_bytes == 2048
    with pytest.raises(ConfigError, match="MAX_REQUEST_BYTES"):
        Settings.from_env({"APP_ENV": "development", "MAX_REQUEST_BYTES": "-1"}, dotenv=False)
    app = create_app(settings.with_overrides(max_request_bytes=2048))
    try:
        assert app.config["MAX_CONTENT_LENGTH"] == 2048
        resp = app.test_client().post("/api/v1/auth/login", data=b"{" + b" " * 2048 + b"}", content_type="application/json")
        assert_too_large(resp, 2048)
    finally:
        app.extensions["loyalty"].db.dispose()


def test_a_chunked_upload_over_a_real_socket_is_refused(settings, parser_calls):  # type: ignore[no-untyped-def]
    """Werkzeug's server dechunks as gunicorn does; 8 MB sent in chunks, of which the app reads ~64 KB."""
    app = create_app(settings.with_overrides(max_request_bytes=64 * 1024))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
        chunks = (b" " * 8192 for _ in range(1024))
        try:
            conn.request("POST", "/callback", body=chunks, encode_chunked=True,
                         headers={"X-Line-Signature": "c2lnbmF0dXJl", "Transfer-Encoding": "chunked"})
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may stop listening to the rest; its answer is already on the wire
        resp = conn.getresponse()
        assert resp.status == 413
        assert b'"request_too_large"' in resp.read()
        assert parser_calls == []
        conn.close()
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        app.extensions["loyalty"].db.dispose()


# ── secrets ─────────────────────────────────────────────────────────────────

PRODUCTION = {
    "APP_ENV": "production",
    "LINE_CHANNEL_SECRET": "s",
    "LINE_CHANNEL_ACCESS_TOKEN": "t",
    "SECRET_KEY": "k",
    "PUBLIC_BASE_URL": "https://bot.example.com",
    "DATABASE_URL": "postgresql://u:p@db/loyalty",
}


def test_unset_app_env_is_production_and_names_every_missing_variable():
    with pytest.raises(ConfigError) as err:
        Settings.from_env({}, dotenv=False)
    for name in ("LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "SECRET_KEY", "PUBLIC_BASE_URL", "DATABASE_URL", "APP_ENV=development"):
        assert name in str(err.value)


def test_unset_app_env_with_every_secret_set_runs_as_production():
    env = {k: v for k, v in PRODUCTION.items() if k != "APP_ENV"}
    s = Settings.from_env({**env, "DEV_TOOLS": "1"}, dotenv=False)
    assert s.is_production and s.dev_tools is False and s.secret_key == "k"


@pytest.mark.parametrize("env", [{"APP_ENV": "production"}, {}], ids=["production", "unset"])
def test_production_refuses_the_published_values(env):
    given = {**PRODUCTION, **env, "SECRET_KEY": DEV_SECRET, "LINE_CHANNEL_SECRET": DEV_SECRET, "ADMIN_TOKEN": DEMO_ADMIN_TOKEN}
    if not env:
        given.pop("APP_ENV")
    with pytest.raises(ConfigError) as err:
        Settings.from_env(given, dotenv=False)
    message = str(err.value)
    for name in ("SECRET_KEY", "LINE_CHANNEL_SECRET", "ADMIN_TOKEN"):
        assert name in message
    assert "LINE_CHANNEL_ACCESS_TOKEN" not in message and DEV_SECRET not in message  # names, never values


def test_the_development_flag_allows_the_published_values():
    s = Settings.from_env({"APP_ENV": "development"}, dotenv=False)
    assert (s.secret_key, s.line_channel_secret, s.admin_token) == (DEV_SECRET, DEV_SECRET, None)
    assert Settings.from_env({}, dotenv=False, default_env="development").secret_key == DEV_SECRET  # the demo's way


def test_an_unknown_app_env_is_refused():
    with pytest.raises(ConfigError, match="APP_ENV must be one of production, development, test, not 'prod'"):
        Settings.from_env({**PRODUCTION, "APP_ENV": "prod"}, dotenv=False)


def test_settings_made_in_code_obey_production_too():
    """The factory takes Settings objects (tests, the demo, overrides): the same refusal holds."""
    with pytest.raises(ConfigError) as err:
        Settings(app_env="production")  # every secret left at its published development value
    for name in ("LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "SECRET_KEY"):
        assert name in str(err.value)
    good = Settings.from_env(PRODUCTION, dotenv=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        good.with_overrides(secret_key=DEV_SECRET)
    with pytest.raises(ConfigError, match="DEV_TOOLS"):
        good.with_overrides(dev_tools=True)


def run(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """A Procfile command in a clean environment (empty secrets override any .env of the checkout)."""
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k not in ("ADMIN_TOKEN", "DEV_TOOLS")}
    blank = {name: "" for name in PRODUCTION if name != "APP_ENV"}
    return subprocess.run(args, cwd=ROOT, env={**clean, **blank, **env}, capture_output=True, text=True, timeout=timeout)


def bin_(name: str) -> str:
    return str(Path(sys.executable).parent / name)


@pytest.mark.parametrize("command", [
    ["flask", "--app", "bot", "db", "upgrade"],  # release:
    ["celery", "-A", "bot.jobs.worker", "worker", "--pool", "solo", "--loglevel", "warning"],  # worker:
    ["celery", "-A", "bot.jobs.worker", "beat", "--loglevel", "warning", "--schedule", "/dev/null"],  # scheduler:
], ids=["release", "worker", "scheduler"])
def test_procfile_processes_stop_at_start_naming_the_missing_secrets(command):
    done = run([bin_(command[0]), *command[1:]], {"APP_ENV": "production", "PUBLIC_BASE_URL": "https://bot.example.com"})
    assert done.returncode != 0, done.stdout + done.stderr
    out = done.stdout + done.stderr
    for name in ("LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "SECRET_KEY", "DATABASE_URL"):
        assert name in out, out[-2000:]


def test_procfile_runs_every_process_as_production():
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip():
            assert line.split(":", 1)[1].strip().startswith("APP_ENV=production "), line


def test_flask_cli_runs_in_development_with_the_flag(tmp_path):
    done = run([bin_("flask"), "--app", "bot", "db", "upgrade"], {"APP_ENV": "development", "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.db'}"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "dev.db").exists()


def test_gunicorn_app_refuses_to_load_without_app_env():
    done = run([sys.executable, "-c", "from bot import create_app; create_app()"], {})
    assert done.returncode != 0 and "Refusing to start in production" in done.stderr, done.stderr[-2000:]


# ── headers ─────────────────────────────────────────────────────────────────


@pytest.fixture
def dev_client(settings, clock):  # type: ignore[no-untyped-def]
    app = create_app(settings.with_overrides(dev_tools=True))
    app.extensions["loyalty"].clock = clock
    yield app.test_client()
    app.extensions["loyalty"].db.dispose()


PAGES = ["/cashier", "/static/cashier.html", "/admin", "/admin/members/1", "/static/admin/index.html", "/docs", "/simulator", "/terms"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_its_policy_and_cannot_be_framed(dev_client, path):
    resp = dev_client.get(path)
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    csp = {d.split()[0]: d.split()[1:] for d in (part.strip() for part in resp.headers["Content-Security-Policy"].split(";"))}
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert "'unsafe-inline'" not in csp.get("script-src", []) and "'unsafe-eval'" not in csp.get("script-src", [])
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    assert resp.headers["X-Frame-Options"] == "DENY"


def test_the_cashier_policy_allows_only_its_own_files(dev_client):
    from bot.web.pages import CASHIER_CSP

    assert dev_client.get("/cashier").headers["Content-Security-Policy"] == CASHIER_CSP
    assert dev_client.get("/static/cashier.html").headers["Content-Security-Policy"] == CASHIER_CSP
    assert CASHIER_CSP.startswith("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self';")
    assert "form-action 'none'" in CASHIER_CSP


@pytest.mark.parametrize("path", ["/healthz", "/openapi.json", "/static/cashier.js", "/api/v1/scan", "/no/such/page"])
def test_every_other_answer_allows_nothing(client, path):
    from bot.security import DEFAULT_CSP

    resp = client.get(path)
    assert resp.headers["Content-Security-Policy"] == DEFAULT_CSP
    assert "default-src 'none'" in DEFAULT_CSP and "frame-ancestors 'none'" in DEFAULT_CSP
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
