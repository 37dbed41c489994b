"""Settings: built once from the environment by the app factory, then frozen.

Nothing else in the project reads ``os.environ``. ``APP_ENV`` unset means production: the
development values below are published in this repository, so only ``APP_ENV=development`` (a
developer's machine), ``test`` (the suite) or the demo (``python -m bot.dev.demo``) may run on them.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Mapping

from dotenv import dotenv_values

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent

# Variables production cannot start without: no silent defaults for secrets.
REQUIRED_IN_PRODUCTION = (
    "LINE_CHANNEL_SECRET",
    "LINE_CHANNEL_ACCESS_TOKEN",
    "SECRET_KEY",
    "PUBLIC_BASE_URL",
    "DATABASE_URL",
)

APP_ENVS = ("production", "development", "test")

DEV_SECRET = "dev-only-secret-not-for-production"
DEMO_ADMIN_TOKEN = "demo-admin-token"  # bot/dev/demo.py's, when ADMIN_TOKEN is unset

# The secrets, by variable; production refuses a value anyone can read in this repository.
SECRET_FIELDS = {
    "LINE_CHANNEL_SECRET": "line_channel_secret",
    "LINE_CHANNEL_ACCESS_TOKEN": "line_channel_access_token",
    "SECRET_KEY": "secret_key",
    "ADMIN_TOKEN": "admin_token",
}
PUBLISHED_SECRETS = frozenset({DEV_SECRET, DEMO_ADMIN_TOKEN})


class ConfigError(RuntimeError):
    """The environment cannot start the app; the message names what is missing."""


def read_env(environ: Mapping[str, str] | None = None, dotenv: bool = True) -> dict[str, str]:
    """The variables: ``.env`` in the project folder when present, then the process environment."""
    env: dict[str, str] = {}
    if dotenv and (ROOT / ".env").exists():
        env.update({k: v for k, v in dotenv_values(ROOT / ".env").items() if v is not None})
    env.update(os.environ if environ is None else environ)
    return env


def production_refusal(missing: list[str], published: list[str]) -> ConfigError | None:
    """Why production cannot start, naming the variables; None when it can."""
    reasons = []
    if missing:
        reasons.append("missing environment variable(s) " + ", ".join(missing))
    if published:
        reasons.append("development value(s), published in this repository, in " + ", ".join(published))
    if not reasons:
        return None
    return ConfigError("Refusing to start in production: " + "; ".join(reasons)
                       + " (APP_ENV unset is production; a developer's machine sets APP_ENV=development)")


def _tolerance(raw: str | None) -> Decimal:
    """ITEMS_TOTAL_TOLERANCE: NT$ (e.g. 1 or 0.5); unset: NT$1."""
    try:
        value = Decimal(raw.strip()) if raw and raw.strip() else Decimal(1)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise ConfigError(f"ITEMS_TOTAL_TOLERANCE must be an NT$ amount such as 1 or 0.5, not {raw!r}")
    return value


def normalise_database_url(url: str) -> str:
    """Map Heroku-style ``postgres://`` and bare ``postgresql://`` URLs to psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


@dataclass(frozen=True)
class Settings:
    app_env: str = "development"
    line_channel_secret: str = DEV_SECRET
    line_channel_access_token: str = DEV_SECRET
    line_api_base_url: str = "https://api.line.me"
    line_data_api_base_url: str = "https://api-data.line.me"
    database_url: str = f"sqlite:///{ROOT / 'instance' / 'loyalty.db'}"
    public_base_url: str = "http://127.0.0.1:8000"
    secret_key: str = DEV_SECRET
    brand_name: str = "好日子咖啡"
    texts_file: str | None = None
    terms_version: str = "2026-01"
    terms_dir: str | None = None  # TERMS_DIR: a folder of <version>.md, one per published version (bot/web/terms.py)
    card_token_ttl_seconds: int = 300
    dev_tools: bool = False
    admin_token: str | None = None
    staff_session_hours: int = 12
    birthday_coupon_on: str = "month"
    coupon_reminder_days: int = 3
    rfm_window_days: int = 365
    affinity_window_days: int = 365  # "members who buy X also buy Y" looks at this many days of line items
    purchase_cycle_days: int | None = None  # None: derived from the data (models.segment.purchase_cycle)
    marketing_per_week: int = 3
    quiet_hours_start: int = 21
    quiet_hours_end: int = 9
    line_multicast_rps: float = 200.0
    line_push_rps: float = 2000.0  # LINE's limit for push ("other API endpoints"): campaigns with links go per member
    segment_query_timeout_ms: int = 10_000
    redis_url: str | None = None
    log_level: str = "INFO"
    max_request_bytes: int = 1_048_576  # every route: a larger body is refused (413) before it is read
    erase_blocked_after_months: int = 0  # retention: erase members who block the account and did nothing for this long; 0 = off
    trusted_proxies: int = 0  # proxies in front that set X-Forwarded-For (Heroku's router: 1); sign-in throttles key on the client's address
    # a correction moving more than this waits for a second manager's approval (models/correction.py)
    correction_approval_stamps: int = 10
    correction_approval_points: int = 1000
    correction_approval_hours: int = 24  # a request older than this can no longer be approved
    items_total_tolerance: Decimal = Decimal(1)  # NT$ a receipt's line items may differ from its amount (models/items.py)
    extra: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Settings made in code (tests, the demo, overrides) obey the environment's rules too."""
        if self.app_env not in APP_ENVS:
            raise ConfigError(f"APP_ENV must be one of {', '.join(APP_ENVS)}, not {self.app_env!r}")
        if self.max_request_bytes < 1:
            raise ConfigError("MAX_REQUEST_BYTES must be a positive number of bytes")
        if self.correction_approval_stamps < 0 or self.correction_approval_points < 0:
            raise ConfigError("CORRECTION_APPROVAL_STAMPS and CORRECTION_APPROVAL_POINTS must be 0 or more (0: every correction needs approval)")
        if not Decimal(0) <= self.items_total_tolerance <= Decimal(1000):
            raise ConfigError("ITEMS_TOTAL_TOLERANCE must be NT$0 to 1000 (what a receipt's line items may differ from its amount)")
        if self.correction_approval_hours < 1:
            raise ConfigError("CORRECTION_APPROVAL_HOURS must be at least 1")
        if not 0 <= self.erase_blocked_after_months <= 1200:
            raise ConfigError("ERASE_BLOCKED_AFTER_MONTHS must be 0 (off) or a number of months up to 1200")
        if self.terms_dir is not None:
            from pathlib import Path

            if not (Path(self.terms_dir) / f"{self.terms_version}.md").is_file():
                raise ConfigError(f"TERMS_DIR has no {self.terms_version}.md for TERMS_VERSION (members would consent to a text nobody can read)")
        if self.is_production:
            values = {name: getattr(self, attr) for name, attr in SECRET_FIELDS.items()}
            refusal = production_refusal(
                [name for name, value in values.items() if name != "ADMIN_TOKEN" and not (value or "").strip()],
                [name for name, value in values.items() if value in PUBLISHED_SECRETS],
            )
            if refusal:
                raise refusal
            if self.dev_tools:
                raise ConfigError("Refusing to start in production with DEV_TOOLS (the chat simulator)")

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def correction_approval_over(self) -> dict[str, int]:
        return {"stamp": self.correction_approval_stamps, "point": self.correction_approval_points}

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_overrides(self, **overrides: object) -> Settings:
        return replace(self, **overrides)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, dotenv: bool = True, *,
                 default_env: str = "production") -> Settings:
        """``default_env`` is what an unset APP_ENV means: production, except for the demo."""
        env = read_env(environ, dotenv)
        app_env = (env.get("APP_ENV") or default_env).strip().lower()  # another value: __post_init__ names it
        if app_env == "production":
            refusal = production_refusal(
                [name for name in REQUIRED_IN_PRODUCTION if not (env.get(name) or "").strip()],
                [name for name in SECRET_FIELDS if env.get(name) in PUBLISHED_SECRETS],
            )
            if refusal:
                raise refusal
        defaults = cls()
        settings = cls(
            app_env=app_env,
            line_channel_secret=env.get("LINE_CHANNEL_SECRET") or defaults.line_channel_secret,
            line_channel_access_token=env.get("LINE_CHANNEL_ACCESS_TOKEN")
            or defaults.line_channel_access_token,
            line_api_base_url=(env.get("LINE_API_BASE_URL") or defaults.line_api_base_url).rstrip("/"),
            line_data_api_base_url=(
                env.get("LINE_DATA_API_BASE_URL") or defaults.line_data_api_base_url
            ).rstrip("/"),
            database_url=normalise_database_url(env.get("DATABASE_URL") or defaults.database_url),
            public_base_url=(env.get("PUBLIC_BASE_URL") or defaults.public_base_url).rstrip("/"),
            secret_key=env.get("SECRET_KEY") or defaults.secret_key,
            brand_name=env.get("BRAND_NAME") or defaults.brand_name,
            texts_file=env.get("BRAND_TEXTS_FILE") or None,
            terms_dir=env.get("TERMS_DIR") or None,
            terms_version=env.get("TERMS_VERSION") or defaults.terms_version,
            card_token_ttl_seconds=int(env.get("CARD_TOKEN_TTL_SECONDS") or defaults.card_token_ttl_seconds),
            dev_tools=env.get("DEV_TOOLS", "").lower() in ("1", "true", "yes") and app_env != "production",
            log_level=env.get("LOG_LEVEL") or defaults.log_level,
            admin_token=env.get("ADMIN_TOKEN") or None,
            staff_session_hours=int(env.get("STAFF_SESSION_HOURS") or defaults.staff_session_hours),
            birthday_coupon_on="day" if env.get("BIRTHDAY_COUPON_ON", "").lower() == "day" else "month",
            coupon_reminder_days=int(env.get("COUPON_REMINDER_DAYS") or defaults.coupon_reminder_days),
            rfm_window_days=int(env.get("RFM_WINDOW_DAYS") or defaults.rfm_window_days),
            affinity_window_days=max(1, int(env.get("AFFINITY_WINDOW_DAYS") or defaults.affinity_window_days)),
            purchase_cycle_days=max(1, int(env["PURCHASE_CYCLE_DAYS"])) if env.get("PURCHASE_CYCLE_DAYS") else None,
            marketing_per_week=int(env.get("MARKETING_PER_WEEK") or defaults.marketing_per_week),
            quiet_hours_start=int(env.get("QUIET_HOURS_START") or defaults.quiet_hours_start),
            quiet_hours_end=int(env.get("QUIET_HOURS_END") or defaults.quiet_hours_end),
            line_multicast_rps=float(env.get("LINE_MULTICAST_RPS") or defaults.line_multicast_rps),
            line_push_rps=float(env.get("LINE_PUSH_RPS") or defaults.line_push_rps),
            segment_query_timeout_ms=int(env.get("SEGMENT_QUERY_TIMEOUT_MS") or defaults.segment_query_timeout_ms),
            redis_url=env.get("REDIS_URL") or None,
            max_request_bytes=int(env.get("MAX_REQUEST_BYTES") or defaults.max_request_bytes),
            trusted_proxies=int(env.get("TRUSTED_PROXIES") or defaults.trusted_proxies),
            correction_approval_stamps=int(env.get("CORRECTION_APPROVAL_STAMPS") or defaults.correction_approval_stamps),
            correction_approval_points=int(env.get("CORRECTION_APPROVAL_POINTS") or defaults.correction_approval_points),
            correction_approval_hours=int(env.get("CORRECTION_APPROVAL_HOURS") or defaults.correction_approval_hours),
            erase_blocked_after_months=int(env.get("ERASE_BLOCKED_AFTER_MONTHS") or 0),
            items_total_tolerance=_tolerance(env.get("ITEMS_TOTAL_TOLERANCE")),
        )
        if not settings.is_production and DEV_SECRET in (
            settings.line_channel_secret,
            settings.secret_key,
        ):
            log.warning("Using development secrets (APP_ENV=%s): set LINE_CHANNEL_SECRET and SECRET_KEY for real use",
                        settings.app_env)
        return settings
