"""Issue 22: personal data stays out of logs. A database error logged with its traceback, and
searches for a phone number and a name through the Procfile's own gunicorn command, leave no LINE
user id, phone number or name in any log line."""
from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import text

from bot.logredact import RedactFilter, redact
from tests.conftest import CHANNEL_SECRET

ROOT = Path(__file__).resolve().parents[1]
NAME, PHONE = "王小明", "0911222333"
USER_ID = re.compile(r"U[0-9a-f]{32}")


def test_redact_masks_ids_phones_searches_and_named_values():
    user = "U316c" + "0" * 28
    line = (f"event e1 for {user} failed; [parameters: {{'line_user_id': '{user}', 'display_name': '{NAME}', 'phone': '0912-345-678'}}] "
            f'"GET /api/v1/admin/members?page=2&q=%E7%8E%8B&rule=%7B%7D HTTP/1.1" {{"name": "{NAME}"}} +886 912 345 678 02-2345-6789')
    out = redact(line)
    for secret in (user, NAME, "0912-345-678", "%E7%8E%8B", "%7B%7D", "912 345 678", "2345-6789"):
        assert secret not in out, out
    assert "page=2" in out and "member" in out and "U…" in out  # ids and counts that are not personal stay
    assert redact("member 1000001 awarded 20 points at 2026-12-31T15:30:00+00:00, receipt 20261231093000") == \
        "member 1000001 awarded 20 points at 2026-12-31T15:30:00+00:00, receipt 20261231093000"
    same = redact(f"a {user}"), redact(f"b {user}")
    assert same[0][2:] == same[1][2:]  # one member's lines still correlate


def test_a_traceback_is_masked_too():
    record = None
    try:
        raise ValueError(f"no member U{'a' * 32} with phone {PHONE}")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed for %s", (f"U{'b' * 32}",), sys.exc_info())
    assert RedactFilter().filter(record)
    written = logging.Formatter().format(record)
    assert "ValueError" in written and not USER_ID.search(written) and PHONE not in written


@pytest.fixture
def member_writes_fail(db, is_postgres):  # type: ignore[no-untyped-def]
    """A trigger that makes every write to member fail, as a broken migration or a full disk would."""
    with db.engine.begin() as conn:
        if is_postgres:
            conn.execute(text("CREATE FUNCTION provoked_failure() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'provoked failure'; END $$ "
                              "LANGUAGE plpgsql"))
            conn.execute(text("CREATE TRIGGER provoked BEFORE INSERT OR UPDATE ON member FOR EACH ROW EXECUTE FUNCTION provoked_failure()"))
        else:
            for verb in ("INSERT", "UPDATE"):
                conn.execute(text(f"CREATE TRIGGER provoked_{verb.lower()} BEFORE {verb} ON member BEGIN SELECT RAISE(ABORT, 'provoked failure'); END"))
    yield
    with db.engine.begin() as conn:
        if is_postgres:
            conn.execute(text("DROP TRIGGER provoked ON member"))
            conn.execute(text("DROP FUNCTION provoked_failure()"))
        else:
            conn.execute(text("DROP TRIGGER provoked_insert"))
            conn.execute(text("DROP TRIGGER provoked_update"))


def test_a_database_error_is_logged_without_its_parameters(line, db, fake_line, caplog, member_writes_fail):
    caplog.set_level(logging.INFO)
    user = line.user(NAME)
    line.follow(user)  # the member insert carries the LINE user id and the display name
    logged = caplog.text
    assert "provoked failure" in logged and "Traceback" in logged, logged[-3000:]  # the error is there, with its statement
    assert "INSERT INTO member" in logged and "hidden" in logged  # SQLAlchemy: [SQL parameters hidden due to hide_parameters=True]
    assert user not in logged and NAME not in logged and not USER_ID.search(logged), logged[-3000:]


def test_a_search_is_logged_without_what_was_searched(client, counter, caplog, make_member):
    caplog.set_level(logging.DEBUG)
    make_member(NAME)
    for q in (PHONE, NAME, "0911-222-333"):
        assert client.get("/api/v1/admin/members", query_string={"q": q}, headers=counter.admin).status_code == 200
        logging.getLogger("werkzeug").info('127.0.0.1 - - "GET /api/v1/admin/members?q=%s HTTP/1.1" 200 -', quote(q))
    assert "/api/v1/admin/members?q=" in caplog.text
    assert PHONE not in caplog.text and NAME not in caplog.text and quote(NAME) not in caplog.text and "0911-222-333" not in caplog.text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_procfile_access_log_never_shows_a_search(migrated, tmp_path):  # type: ignore[no-untyped-def]
    """The web process exactly as the Procfile starts it (gunicorn, --access-logfile -), one worker."""
    command = next(line.split(":", 1)[1].strip() for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    assert "--access-logfile -" in command
    port, token = _free_port(), "log-test-admin-token-1234567890"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "DATABASE_", "ADMIN_", "APP_", "DEV_"))},
           "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}", "PORT": str(port), "WEB_CONCURRENCY": "1",
           "LINE_CHANNEL_SECRET": CHANNEL_SECRET, "LINE_CHANNEL_ACCESS_TOKEN": "log-test-access-token", "SECRET_KEY": "log-test-secret-key-123",
           "PUBLIC_BASE_URL": "https://bot.example.com", "DATABASE_URL": migrated, "ADMIN_TOKEN": token}
    out, err = tmp_path / "out.log", tmp_path / "err.log"
    with out.open("w") as stdout, err.open("w") as stderr:
        proc = subprocess.Popen(["bash", "-c", f"exec env {command}"], cwd=ROOT, env=env, stdout=stdout, stderr=stderr)
    try:
        auth = {"Authorization": f"Bearer {token}"}
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
                break
            except OSError:  # not listening yet (URLError is one)
                assert proc.poll() is None and time.monotonic() < deadline, err.read_text()[-3000:]
                time.sleep(0.2)
        for query in (f"q={PHONE}", f"q={quote(NAME)}", "page=1&q=0911-222-333",
                      "rule=" + quote('{"field":"phone","op":"eq","value":"0911222333"}')):
            req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/admin/members?{query}", headers=auth)
            try:
                urllib.request.urlopen(req, timeout=10).read()
            except urllib.error.HTTPError as exc:  # a refused rule is answered too; the line is what matters
                exc.read()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    logged = out.read_text() + err.read_text()
    assert logged.count("/api/v1/admin/members?") == 4, logged[-3000:]  # the access log wrote each request line
    for secret in (PHONE, "0911-222-333", NAME, quote(NAME), "0911222333"):
        assert secret not in logged, logged[-3000:]


def test_celery_logging_gets_the_filter_when_it_sets_up_its_handlers():
    from celery.signals import after_setup_logger, after_setup_task_logger

    import bot.jobs.worker  # noqa: F401 - connects the receivers
    from bot.logredact import FILTER

    for signal in (after_setup_logger, after_setup_task_logger):
        logger = logging.getLogger(f"celery-test-{signal.name}")
        handler = logging.StreamHandler()
        logger.addHandler(handler)
        try:
            signal.send(sender=None, logger=logger, loglevel=logging.INFO, logfile=None, format="", colorize=False)
            assert FILTER in handler.filters
        finally:
            logger.removeHandler(handler)


@pytest.mark.parametrize("line", ["'name': '" + "\\" * 100_000, '"phone": "' + "\\a" * 50_000, "name='" * 20_000, "+886 " * 20_000,
                                  "U" * 100_000, "09" * 50_000, "q=" * 50_000])
def test_redacting_a_hostile_line_takes_linear_time(line):
    """Log lines carry what clients sent; a backtracking pattern would hang the worker that logs one."""
    started = time.perf_counter()
    redact(line)
    assert time.perf_counter() - started < 1.0
