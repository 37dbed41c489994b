"""Campaigns on Celery with the real Redis (REDIS_URL set), as the Procfile's worker runs them."""
from __future__ import annotations

import os

import pytest

from bot.jobs import worker as tasks
from tests.conftest import REQUIRE_SERVICES, all_text

#: Sending runs in shop hours; quiet hours are tested on purpose where they matter.
pytestmark = pytest.mark.usefixtures("business_hours")


@pytest.fixture
def redis_url() -> str:  # type: ignore[no-untyped-def]
    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        message = f"Redis at {url} is not reachable: {type(exc).__name__}"
        pytest.fail(message) if REQUIRE_SERVICES else pytest.skip(message)
    return url


@pytest.fixture
def celery_worker(app, redis_url):  # type: ignore[no-untyped-def]
    from celery.contrib.testing.worker import start_worker

    svc = app.extensions["loyalty"]
    svc.settings = svc.settings.with_overrides(redis_url=redis_url)
    tasks.use_broker(redis_url)
    tasks._app = app  # the worker runs tasks against this test's app and database
    with start_worker(tasks.celery, pool="solo", concurrency=1, perform_ping_check=False, loglevel="WARNING"):
        yield
    tasks._app = None


def test_campaign_is_sent_by_a_celery_worker(client, counter, line, make_member, fake_line, celery_worker):
    user, _ = make_member()
    fake_line.quota_value = 10_000
    created = client.post("/api/v1/admin/campaigns", json={"name": "Celery", "kind": "text", "content": {"text": "來自背景工作的問候"}},
                          headers=counter.admin).get_json()
    resp = client.post(f"/api/v1/admin/campaigns/{created['id']}/send", json={}, headers=counter.admin)
    assert resp.status_code == 202
    assert tasks.wait_for_jobs(timeout=60) == ["sent"]
    assert "來自背景工作的問候" in all_text([d for d in fake_line.messages_to(user) if d["kind"] == "multicast"][0]["messages"])


def test_due_campaigns_task_runs_scheduled_ones(app, client, counter, make_member, fake_line, clock, celery_worker):
    user, _ = make_member()
    fake_line.quota_value = 10_000
    later = (clock.now.replace(hour=3)).isoformat()  # 11:00 Taipei, an hour from now
    created = client.post("/api/v1/admin/campaigns", json={"name": "排程", "kind": "text", "content": {"text": "排程訊息"}, "scheduled_at": later},
                          headers=counter.admin).get_json()
    client.post(f"/api/v1/admin/campaigns/{created['id']}/send", json={}, headers=counter.admin)
    assert tasks.wait_for_jobs() == []  # not due yet: nothing started
    clock.advance(hours=1)
    result = tasks.run_due_task.apply_async().get(timeout=60)
    assert result == {str(created["id"]): "sent"} or result == {created["id"]: "sent"}
    assert len([d for d in fake_line.messages_to(user) if d["kind"] == "multicast"]) == 1
