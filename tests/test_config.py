"""Configuration: environment names, production refusal, URL normalisation, health."""
from __future__ import annotations

import pytest

from bot.config import ConfigError, Settings, normalise_database_url


def test_production_refuses_to_start_naming_what_is_missing():
    with pytest.raises(ConfigError) as err:
        Settings.from_env({"APP_ENV": "production", "LINE_CHANNEL_SECRET": "s"}, dotenv=False)
    message = str(err.value)
    for name in ("LINE_CHANNEL_ACCESS_TOKEN", "SECRET_KEY", "PUBLIC_BASE_URL", "DATABASE_URL"):
        assert name in message
    assert "LINE_CHANNEL_SECRET" not in message


def test_production_starts_with_everything_set():
    env = {
        "APP_ENV": "production",
        "LINE_CHANNEL_SECRET": "s",
        "LINE_CHANNEL_ACCESS_TOKEN": "t",
        "SECRET_KEY": "k",
        "PUBLIC_BASE_URL": "https://bot.example.com/",
        "DATABASE_URL": "postgres://u:p@db/loyalty",
        "DEV_TOOLS": "1",
    }
    s = Settings.from_env(env, dotenv=False)
    assert s.database_url == "postgresql+psycopg://u:p@db/loyalty"
    assert s.public_base_url == "https://bot.example.com"
    assert s.line_api_base_url == "https://api.line.me"
    assert s.line_data_api_base_url == "https://api-data.line.me"
    assert s.dev_tools is False  # never in production


def test_development_defaults_to_sqlite_under_instance():
    s = Settings.from_env({"APP_ENV": "development"}, dotenv=False)
    assert s.database_url.startswith("sqlite:///") and "/instance/" in s.database_url


def test_settings_are_frozen():
    s = Settings.from_env({"APP_ENV": "development"}, dotenv=False)
    with pytest.raises(AttributeError):
        s.secret_key = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    "given,expected",
    [
        ("postgres://a@h/d", "postgresql+psycopg://a@h/d"),
        ("postgresql://a@h/d", "postgresql+psycopg://a@h/d"),
        ("postgresql+psycopg://a@h/d", "postgresql+psycopg://a@h/d"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_url_normalisation(given, expected):
    assert normalise_database_url(given) == expected


def test_healthz_reports_app_and_database(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok", "app": "up", "database": "up"}


def test_healthz_reports_database_down():
    from bot import create_app

    app = create_app(Settings(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none"))
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 503 and resp.get_json()["database"] == "down"
