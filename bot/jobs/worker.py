"""Background work: on Celery with Redis when REDIS_URL is set, in-process when not.

    worker:    celery -A bot.jobs.worker worker --loglevel=info
    scheduler: celery -A bot.jobs.worker beat   (every minute: due campaigns; every 5 minutes: journeys and
               the outbox, which sends pushes held by quiet hours once they end; hourly: segments;
               every 4 hours: LINE's campaign statistics; daily at 06:00 Asia/Taipei: the loyalty day, segments first)

In-process (no REDIS_URL), a job runs on a small thread pool in the web process and
``flask --app bot loyalty campaigns`` (cron) picks up what is due; both are safe to
overlap because a campaign moves scheduled → sending with one conditional UPDATE.
"""
from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from celery import Celery
from celery.schedules import crontab
from celery.signals import after_setup_logger, after_setup_task_logger, beat_init, worker_init

log = logging.getLogger(__name__)


@after_setup_logger.connect
@after_setup_task_logger.connect
def _redact_logs(logger: logging.Logger, **_: object) -> None:
    """Celery sets up its own handlers after the app: they get the same filter (bot/logredact.py)."""
    from bot import logredact

    logredact.install(logger)


_pool: ThreadPoolExecutor | None = None
_app = None  # the Flask app a Celery worker builds for itself


def _flask_app():  # type: ignore[no-untyped-def]
    global _app
    if _app is None:
        from bot import create_app

        _app = create_app()
    return _app


def make_celery(redis_url: str | None) -> Celery:
    app = Celery("loyalty", broker=redis_url or "memory://", backend=redis_url or None)
    app.conf.update(
        task_acks_late=True,  # a worker killed mid-campaign: the task is delivered again and resumes
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        timezone="Asia/Taipei",
        beat_schedule={
            "due-campaigns": {"task": "loyalty.run_due_campaigns", "schedule": 60.0},
            "loyalty-daily": {"task": "loyalty.daily", "schedule": crontab(hour=6, minute=0)},
            "journeys": {"task": "loyalty.journeys", "schedule": 300.0},
            "insights": {"task": "loyalty.insights", "schedule": crontab(hour="*/4", minute=20)},
            "outbox": {"task": "loyalty.outbox", "schedule": 300.0},  # pushes held by quiet hours, failed ones to retry
            # RFM, NES and rule tags through the day (the daily task recomputes them first as well, and
            # a campaign recomputes them when it starts): journeys' conditions and dashboards stay fresh.
            "segments": {"task": "loyalty.segments", "schedule": crontab(minute=45)},
        },
    )
    return app


def _redis_url_from_env() -> str | None:
    """Only the broker: importing this module (the app factory does) must not judge the settings."""
    from bot.config import read_env

    return read_env().get("REDIS_URL") or None


celery = make_celery(_redis_url_from_env())


@worker_init.connect
@beat_init.connect
def _refuse_bad_settings(**_: Any) -> None:
    """The Procfile's worker and scheduler stop at start on what would stop the web process
    (SystemExit: Celery logs and ignores a signal handler's ordinary exceptions). A worker
    handed its app already (tests) has its settings."""
    from bot.config import ConfigError, Settings

    if _app is not None:
        return
    try:
        Settings.from_env()
    except ConfigError as exc:
        raise SystemExit(str(exc)) from exc


@celery.task(name="loyalty.run_campaign")
def run_campaign_task(campaign_id: int) -> str:
    from bot.jobs.campaign_sender import run_campaign

    app = _flask_app()
    with app.app_context():
        return run_campaign(app.extensions["loyalty"], campaign_id)


@celery.task(name="loyalty.run_due_campaigns")
def run_due_task() -> dict[int, str]:
    from bot.jobs.campaign_sender import run_due

    app = _flask_app()
    with app.app_context():
        return run_due(app.extensions["loyalty"])


@celery.task(name="loyalty.daily")
def daily_task() -> dict[str, Any]:
    from bot.jobs.daily import run_daily

    app = _flask_app()
    with app.app_context():
        return {k: str(v) for k, v in run_daily(app.extensions["loyalty"]).items()}


@celery.task(name="loyalty.segments")
def segments_task() -> dict[str, Any]:
    from bot.jobs.segments import run_segments

    app = _flask_app()
    with app.app_context():
        return run_segments(app.extensions["loyalty"])


_started: list[Any] = []  # recent jobs (Futures or Celery AsyncResults), for wait_for_jobs


def use_broker(redis_url: str) -> None:
    if celery.conf.broker_url != redis_url:
        celery.conf.broker_url = redis_url
        celery.conf.result_backend = redis_url


def wait_for_jobs(timeout: float = 60.0) -> list[Any]:
    """Block until the jobs started so far have finished (tests, graceful shutdown)."""
    done = []
    while _started:
        job = _started.pop(0)
        done.append(job.result(timeout=timeout) if isinstance(job, Future) else job.get(timeout=timeout))
    return done


@celery.task(name="loyalty.outbox")
def outbox_task() -> dict[str, Any]:
    from bot.cli.jobs import run_outbox

    app = _flask_app()
    with app.app_context():
        return run_outbox(app.extensions["loyalty"])


@celery.task(name="loyalty.journeys")
def journeys_task() -> dict[str, Any]:
    from bot.jobs.journey_runner import run_journeys

    app = _flask_app()
    with app.app_context():
        return run_journeys(app.extensions["loyalty"])


@celery.task(name="loyalty.insights")
def insights_task() -> dict[str, int]:
    from bot.jobs.insights import fetch_insights

    app = _flask_app()
    with app.app_context():
        return fetch_insights(app.extensions["loyalty"])


def start_campaign(svc, campaign_id: int) -> Any:  # type: ignore[no-untyped-def]
    """Hand a campaign to the workers (Celery) or to the in-process pool."""
    if svc.settings.redis_url:
        use_broker(svc.settings.redis_url)
        job = run_campaign_task.apply_async(args=[campaign_id])
        _started.append(job)
        return job
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="campaign")
    from bot.jobs.campaign_sender import run_campaign

    def run() -> str:
        try:
            return run_campaign(svc, campaign_id)
        except Exception:  # noqa: BLE001 - logged; the campaign stays resumable
            log.exception("campaign %s stopped; it resumes on the next run", campaign_id)
            raise

    future = _pool.submit(run)
    _started.append(future)
    return future
