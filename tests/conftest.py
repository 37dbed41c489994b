"""Shared fixtures: a migrated database (SQLite, or PostgreSQL by TEST_DATABASE_URL), the fake
LINE server checking every request against the OpenAPI documents, a controllable clock, the
app and a ``line`` helper that posts signed, spec-shaped webhook events."""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from bot import create_app
from bot.dev import lineevents as ev
from bot.config import Settings
from bot.db import make_engine, upgrade
from bot.dev.fakeline import FakeLine
from models import metadata
from models.dashboard import TAIPEI

CHANNEL_SECRET = "test-channel-secret"
ACCESS_TOKEN = "test-access-token"
SECRET_KEY = "test-secret-key"
ADMIN_TOKEN = "test-admin-token"
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def _unavailable(reason: str):  # type: ignore[no-untyped-def]
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1: CI must not skip this)")
    pytest.skip(reason)


@pytest.fixture(scope="session", autouse=True)
def _verify_wire_serialisation():  # type: ignore[no-untyped-def]
    """Every request body the bot sends in any test is also serialised by the SDK's own
    to_dict() and must come out identical (bot/line/wire.py)."""
    from bot.line.wire import WireApiClient

    WireApiClient.verify = True
    yield
    WireApiClient.verify = False


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():  # type: ignore[no-untyped-def]
    """Real hashing with a cheap work factor: scrypt's 150 ms per hash would dominate the suite."""
    import models.store

    models.store.PASSWORD_METHOD = "pbkdf2:sha256:1000"
    yield


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    from bot.config import normalise_database_url

    url = normalise_database_url(url)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    except Exception as exc:  # noqa: BLE001
        _unavailable(f"PostgreSQL at {url} is not reachable: {type(exc).__name__}")
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def migrated(database_url: str) -> str:
    upgrade(database_url)
    return database_url


@pytest.fixture(scope="session")
def is_postgres(database_url: str) -> bool:
    return database_url.startswith("postgresql")


@pytest.fixture
def pg_only(is_postgres):  # type: ignore[no-untyped-def]
    if not is_postgres:
        pytest.skip("concurrency is proven on PostgreSQL (TEST_DATABASE_URL); SQLite serialises writers")


@pytest.fixture(scope="session")
def _fake_line_server():  # type: ignore[no-untyped-def]
    fake = FakeLine(mode="spec")
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_line(_fake_line_server):  # type: ignore[no-untyped-def]
    """The fake LINE server; any request that breaks the spec fails the test that sent it."""
    fake = _fake_line_server
    fake.clear()
    yield fake
    violations = list(fake.violations)
    fake.clear()
    if violations:
        pytest.fail("LINE API spec violations:\n" + "\n".join(violations))


#: Where the app's clock starts in every test: TEST_CLOCK_START (ISO 8601 with an offset), by
#: default a Monday morning in Taipei. `.ci/test-suite` runs the passes on awkward dates (a Taipei
#: year end at 23:30, a 29 February), so a test that assumes a calendar fails in CI, not next week.
CLOCK_START = datetime.fromisoformat(os.environ.get("TEST_CLOCK_START") or "2026-11-23T10:00:00+08:00").astimezone(UTC)


class Clock:
    """The app's only clock in tests. Setting ``now`` (or ``advance``) also moves every browser
    page that watches it (tests/e2e), so pages run on the app's clock too."""

    def __init__(self, now: datetime = CLOCK_START) -> None:
        self._now = now
        self.watchers: list[Callable[[datetime], None]] = []

    @property
    def now(self) -> datetime:
        return self._now

    @now.setter
    def now(self, value: datetime) -> None:
        self._now = value
        for watch in self.watchers:
            watch(value)

    def __call__(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        self.now = self._now + timedelta(**delta)
        return self._now

    def today(self) -> date:
        """Today in Taipei, the business calendar."""
        return self._now.astimezone(TAIPEI).date()

    def set_taipei(self, hour: int, minute: int = 0, *, days: int = 0) -> datetime:
        """Moves to hh:mm in Taipei on the Taipei day ``days`` after today."""
        self.now = taipei_time(self.today() + timedelta(days=days), hour, minute)
        return self._now


def taipei_time(day: date, hour: int = 0, minute: int = 0) -> datetime:
    """hh:mm on ``day`` in Taipei, as the UTC instant the app stores."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TAIPEI).astimezone(UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def business_hours(clock: Clock) -> Clock:
    """10:00 in Taipei on the clock's day: messages are not held by quiet hours (21:00–09:00 by default).
    Tests of sending use it; the day stays whatever TEST_CLOCK_START made it."""
    clock.set_taipei(10)
    return clock


@pytest.fixture
def settings(migrated: str, fake_line) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(
        app_env="test",
        line_channel_secret=CHANNEL_SECRET,
        line_channel_access_token=ACCESS_TOKEN,
        line_api_base_url=fake_line.url,
        line_data_api_base_url=fake_line.url,
        database_url=migrated,
        public_base_url="https://loyalty.example.com",
        secret_key=SECRET_KEY,
        brand_name="好日子咖啡",
        admin_token=ADMIN_TOKEN,
    )


def truncate_all(engine) -> None:  # type: ignore[no-untyped-def]
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
def app(settings: Settings, clock: Clock):  # type: ignore[no-untyped-def]
    app = create_app(settings)
    svc = app.extensions["loyalty"]
    svc.clock = clock
    truncate_all(svc.db.engine)
    yield app
    svc.db.dispose()


@pytest.fixture
def db(app):  # type: ignore[no-untyped-def]
    return app.extensions["loyalty"].db


class ServerLikeClient(FlaskClient):
    """Reads and closes each response as a WSGI server does, so work the app
    schedules for after the response (outbox pushes) has run when the call returns."""

    def open(self, *args, buffered: bool = True, **kwargs):  # type: ignore[no-untyped-def,override]
        return super().open(*args, buffered=buffered, **kwargs)


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    app.test_client_class = ServerLikeClient
    return app.test_client()


class LineActions:
    """Acts as LINE: builds events, signs them, posts them to /callback."""

    def __init__(self, client, fake, birthday: date) -> None:  # type: ignore[no-untyped-def]
        self.client = client
        self.fake = fake
        self.birthday = birthday  # what ``join`` answers unless told otherwise

    def post(self, *events: dict, secret: str = CHANNEL_SECRET, signature: str | None = None):  # type: ignore[no-untyped-def]
        for event in events:
            if "replyToken" in event:
                self.fake.register_reply_token(event["replyToken"], event["source"]["userId"])
        body = ev.payload(*events)
        headers = {"Content-Type": "application/json"}
        sig = signature if signature is not None else ev.sign(secret, body)
        if sig:
            headers["X-Line-Signature"] = sig
        return self.client.post("/callback", data=body, headers=headers)

    def user(self, name: str = "小明") -> str:
        user_id = ev.new_user_id()
        self.fake.register_profile(user_id, name)
        return user_id

    def follow(self, user_id: str, **kw):  # type: ignore[no-untyped-def]
        return self.post(ev.follow_event(user_id, **kw))

    def say(self, user_id: str, text_: str):  # type: ignore[no-untyped-def]
        return self.post(ev.text_event(user_id, text_))

    def tap(self, user_id: str, data: str, params: dict | None = None):  # type: ignore[no-untyped-def]
        return self.post(ev.postback_event(user_id, data, params))

    def replies(self, user_id: str) -> list[dict]:
        """Messages delivered to the user, oldest first (flattened)."""
        out: list[dict] = []
        for delivery in self.fake.messages_to(user_id):
            out.extend(delivery["messages"])
        return out

    def last(self, user_id: str) -> list[dict]:
        deliveries = self.fake.messages_to(user_id)
        return deliveries[-1]["messages"] if deliveries else []

    def join(self, user_id: str, *, birthday: str | None = None, phone: str = "0912345678") -> None:
        """Follow and complete the join flow."""
        self.follow(user_id)
        self.tap(user_id, "action=join")
        self.tap(user_id, "action=join_step&v=yes")
        self.tap(user_id, "action=join_step", {"date": birthday or self.birthday.isoformat()})
        self.say(user_id, phone)
        self.tap(user_id, "action=join_step&v=female")


@pytest.fixture
def line(client, fake_line, clock) -> LineActions:  # type: ignore[no-untyped-def]
    return LineActions(client, fake_line, birthday=far_birthday(clock.today()))


def far_birthday(today: date) -> date:
    """A 1990 birthday half a year from ``today``: members made by tests are nowhere near their
    birthday or its month, whatever day the clock starts on (day ≤ 28: every year has it)."""
    ahead = today + timedelta(days=182)
    return date(1990, ahead.month, min(ahead.day, 28))


def next_birthday(today: date, born: date) -> date:
    """The first day after ``today`` that is ``born``'s birthday."""
    this_year = born.replace(year=today.year)
    return this_year if this_year > today else born.replace(year=today.year + 1)


class Counter:
    """A store with a cashier and a manager, signed in through the real API."""

    def __init__(self, client, code: str = "TPE01", name: str = "台北信義店") -> None:  # type: ignore[no-untyped-def]
        self.client = client
        self.admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        self.code = code
        assert client.post("/api/v1/admin/stores", json={"code": code, "name": name}, headers=self.admin).status_code == 201
        self.cashier = self._staff(f"cashier-{code}".lower(), "cashier")
        self.manager = self._staff(f"manager-{code}".lower(), "manager")

    def _staff(self, username: str, role: str) -> dict[str, str]:
        resp = self.client.post(
            f"/api/v1/admin/stores/{self.code}/staff",
            json={"username": username, "password": "correct horse", "role": role, "name": username},
            headers=self.admin,
        )
        assert resp.status_code == 201, resp.get_json()
        login = self.client.post("/api/v1/auth/login", json={"username": username, "password": "correct horse"})
        return {"Authorization": f"Bearer {login.get_json()['token']}"}

    def api_key(self) -> dict[str, str]:
        resp = self.client.post(f"/api/v1/admin/stores/{self.code}/api-keys", json={"label": "POS 1"}, headers=self.admin)
        return {"Authorization": f"Bearer {resp.get_json()['api_key']}"}

    def rule(self, **changes) -> dict:  # type: ignore[no-untyped-def,type-arg]
        resp = self.client.put("/api/v1/admin/earning-rule", json=changes, headers=self.admin)
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()

    def award(self, member_no: str, receipt_id: str, *, amount=None, visit: bool = False, as_=None):  # type: ignore[no-untyped-def]
        body = {"member_no": member_no, "receipt_id": receipt_id, "visit": visit}
        if amount is not None:
            body["amount"] = amount
        return self.client.post("/api/v1/awards", json=body, headers=as_ or self.cashier)


@pytest.fixture
def counter(client) -> Counter:  # type: ignore[no-untyped-def]
    return Counter(client)


def all_text(messages: list[dict]) -> str:
    """Every string inside the messages (text, alt text, Flex contents) for assertions."""
    return json.dumps(messages, ensure_ascii=False)


SPEC_DIR = Path(os.environ.get("LINE_OPENAPI_DIR", Path(__file__).resolve().parents[2] / "shared" / "line-openapi"))


@pytest.fixture
def make_member(line, db):  # type: ignore[no-untyped-def]
    """A LINE user who followed and joined; returns (line user id, member number)."""
    from sqlalchemy import select

    from models.member import Member

    def make(name: str = "小明") -> tuple[str, str]:
        user = line.user(name)
        line.join(user)
        with db.sessions() as s:
            number = s.scalar(select(Member.member_no).where(Member.line_user_id == user))
        assert number, "join did not complete"
        return user, number

    return make


@pytest.fixture
def tiers(client, counter):  # type: ignore[no-untyped-def]
    """一般 → 銀卡 (NT$3,000 in 365 days) → 金卡 (NT$10,000), periods of 365 days."""
    made = []
    for body in (
        {"code": "basic", "name": "一般會員", "rank": 0, "threshold": 0, "benefits": ["生日禮"]},
        {"code": "silver", "name": "銀卡", "rank": 1, "threshold": 3000, "earn_multiplier": "1.5", "benefits": ["點數 1.5 倍"], "color": "#8A8D91"},
        {"code": "gold", "name": "金卡", "rank": 2, "threshold": 10000, "earn_multiplier": 2, "benefits": ["點數 2 倍", "免費升級大杯"], "color": "#B8860B"},
    ):
        resp = client.post("/api/v1/admin/tiers", json=body, headers=counter.admin)
        assert resp.status_code == 201, resp.get_json()
        made.append(resp.get_json())
    return made


def card_token(member_no: str, clock: Clock) -> str:
    """What the member card's QR carries now (models.card, signed with the app's key): a spend sent
    with it needs no confirmation in LINE, as one by a typed member number does."""
    from models.card import issue_card_token

    return issue_card_token(SECRET_KEY, member_no, now=clock.now)
