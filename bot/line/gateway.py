"""The LINE gateway: the one place that talks to the Messaging API, through the official SDK."""
from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Sequence

from linebot.v3.insight import ApiClient as InsightApiClient
from linebot.v3.insight import ApiException as InsightApiException
from linebot.v3.insight import Configuration as InsightConfiguration
from linebot.v3.insight import Insight

from linebot.v3.messaging import (
    ApiException,
    Configuration,
    Message,
    MessagingApi,
    MessagingApiBlob,
    MulticastRequest,
    PushMessageRequest,
    ReplyMessageRequest,
)

from bot.config import Settings
from bot.line.wire import WireApiClient, build


log = logging.getLogger(__name__)
BOT_INFO_TTL = 3600.0  # the basic id practically never changes; an hour bounds a stale one


class LineError(Exception):
    """A failed call to LINE, with what a caller needs to decide about retrying."""

    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"LINE API {status}: {message}")
        self.status = status
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.status == 429 or self.status >= 500


@dataclass(frozen=True)
class Profile:
    user_id: str
    display_name: str | None
    picture_url: str | None
    language: str | None


@dataclass(frozen=True)
class UnitStatistics:
    """What LINE says about one aggregation unit; None where LINE withholds a count (under 20 users)."""
    unique_impressions: int | None
    unique_clicks: int | None
    unique_media_played: int | None
    clicks: list[dict[str, Any]] = field(default_factory=list)
    impressions: int | None = None  # times the first bubble was shown (LINE's messages[seq 1].impression)


def _wrap(exc: ApiException | InsightApiException) -> LineError:
    retry_after = None
    headers = exc.headers or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    if value:
        try:
            retry_after = float(value)
        except ValueError:
            retry_after = None
    return LineError(int(exc.status or 0), str(exc.reason or exc.body or ""), retry_after)


class LineGateway:
    """Wraps MessagingApi and MessagingApiBlob, each with its own host.

    The API client is created lazily per process (after a gunicorn fork), never at import.
    """

    def __init__(self, settings: Settings) -> None:
        self._api_config = Configuration(
            host=settings.line_api_base_url, access_token=settings.line_channel_access_token
        )
        self._data_config = Configuration(
            host=settings.line_data_api_base_url, access_token=settings.line_channel_access_token
        )
        self._insight_config = InsightConfiguration(
            host=settings.line_api_base_url, access_token=settings.line_channel_access_token
        )
        self._local = threading.local()
        self._pid = os.getpid()
        self._basic_id: tuple[float, str] | None = None
        self._basic_id_lock = threading.Lock()

    def _clients(self) -> tuple[MessagingApi, MessagingApiBlob, Insight]:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.pid = os.getpid()
            local.api = MessagingApi(WireApiClient(self._api_config))
            local.blob = MessagingApiBlob(WireApiClient(self._data_config))
            local.insight = Insight(InsightApiClient(self._insight_config))
        return local.api, local.blob, local.insight

    @property
    def api(self) -> MessagingApi:
        return self._clients()[0]

    @property
    def blob(self) -> MessagingApiBlob:
        return self._clients()[1]

    @property
    def insight(self) -> Insight:
        return self._clients()[2]

    def reply(self, reply_token: str, messages: Sequence[Message]) -> None:
        try:
            self.api.reply_message(ReplyMessageRequest(reply_token=reply_token, messages=list(messages)))
        except ApiException as exc:
            raise _wrap(exc) from exc

    def push(self, to: str, messages: Sequence[Message], *, retry_key: str | None = None, unit: str | None = None) -> str:
        """``unit``: the custom aggregation unit LINE counts opens and clicks under (one per journey)."""

        """``unit``: the custom aggregation unit (a campaign sent member by member, bot/jobs/campaign_push.py)."""
        retry_key = retry_key or str(uuid.uuid4())
        try:
            self.api.push_message(
                PushMessageRequest(to=to, messages=list(messages), custom_aggregation_units=[unit] if unit else None),
                x_line_retry_key=retry_key,
            )
        except ApiException as exc:
            if exc.status == 409:  # already accepted under this retry key
                return retry_key
            raise _wrap(exc) from exc
        return retry_key

    def multicast(self, to: Sequence[str], messages: Sequence[Message], *, retry_key: str, unit: str | None = None) -> None:
        """``unit``: the custom aggregation unit LINE counts opens and clicks under (one per campaign)."""
        # built without pydantic's validation: 500 user ids from our database and messages that are SDK
        # models already (validating them again was a sixth of a campaign's CPU, bench/campaign.py)
        request = build(MulticastRequest, to=list(to), messages=list(messages), custom_aggregation_units=[unit] if unit else None)
        try:
            self.api.multicast(request, x_line_retry_key=retry_key)
        except ApiException as exc:
            if exc.status == 409:
                return
            raise _wrap(exc) from exc

    def unit_statistics(self, unit: str, first: date, last: date) -> UnitStatistics:
        """LINE's statistics for an aggregation unit over the days ``first``..``last`` (LINE's days are
        UTC+9, at most 31 of them). LINE answers null for any count under 20 users (privacy)."""
        try:
            got = self.insight.get_statistics_per_unit(unit, first.strftime("%Y%m%d"), last.strftime("%Y%m%d"))
        except InsightApiException as exc:
            raise _wrap(exc) from exc
        overview = got.overview
        clicks = [{"url": c.url, "clicks": c.click, "unique_clicks": c.unique_click} for c in got.clicks or []]
        first = next((m for m in got.messages or [] if m.seq == 1), None)
        return UnitStatistics(overview.unique_impression, overview.unique_click, overview.unique_media_played, clicks,
                              impressions=first.impression if first else None)

    def quota(self) -> tuple[int | None, int]:
        """(monthly limit or None when unlimited, messages used this month)."""
        try:
            quota = self.api.get_message_quota()
            used = self.api.get_message_quota_consumption().total_usage
        except ApiException as exc:
            raise _wrap(exc) from exc
        return (None if quota.type == "none" else int(quota.value or 0)), int(used)

    def link_rich_menu(self, user_id: str, rich_menu_id: str) -> None:
        try:
            self.api.link_rich_menu_id_to_user(user_id, rich_menu_id)
        except ApiException as exc:
            raise _wrap(exc) from exc

    def unlink_rich_menu(self, user_id: str) -> None:
        try:
            self.api.unlink_rich_menu_id_from_user(user_id)
        except ApiException as exc:
            raise _wrap(exc) from exc

    def basic_id(self) -> str:
        """The account's basic id (@xxxx) from the Get Bot Info API, cached for BOT_INFO_TTL seconds."""
        with self._basic_id_lock:
            hit = self._basic_id
            if hit and hit[0] > time.monotonic():
                return hit[1]
        try:
            info = self.api.get_bot_info()
        except ApiException as exc:
            raise _wrap(exc) from exc
        with self._basic_id_lock:
            self._basic_id = (time.monotonic() + BOT_INFO_TTL, info.basic_id)
        return info.basic_id

    def get_profile(self, user_id: str) -> Profile | None:
        """The user's profile, or None when LINE has none for us (404)."""
        try:
            p = self.api.get_profile(user_id)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise _wrap(exc) from exc
        return Profile(p.user_id, p.display_name, p.picture_url, p.language)
