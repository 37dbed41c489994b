"""The application factory: everything is built here, nothing at import time."""
from __future__ import annotations

import logging
from functools import partial

from flask import Flask

from bot import logredact
from bot.config import Settings
from bot.db import Database
from bot.errors import register_error_handlers
from bot.line.gateway import LineGateway
from bot.security import init_security
from bot.services import Services
from handlers.referral import notify as referral_notify
from handlers.texts import Texts
from models.referral import NOTIFY_KEY


def create_app(settings: Settings | None = None, **overrides: object) -> Flask:
    settings = settings or Settings.from_env()
    if overrides:
        settings = settings.with_overrides(**overrides)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logredact.install()  # no LINE user ids, phone numbers, names or searches in any log line, tracebacks included

    app = Flask(__name__, static_folder="../static", static_url_path="/static")
    app.config["SECRET_KEY"] = settings.secret_key
    app.config["JSON_AS_ASCII"] = False
    from bot.api.util import JSONProvider

    app.json = JSONProvider(app)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    init_security(app, max_request_bytes=settings.max_request_bytes)  # first: refusals open nothing
    svc = app.extensions["loyalty"] = Services(
        settings=settings,
        db=Database(settings.database_url),
        line=LineGateway(settings),
        texts=Texts.load(settings.texts_file, brand=settings.brand_name),
    )
    # A referral reward happens inside a checkout; models/referral.py decides, handlers/referral.py
    # words the pushes, queued in that same transaction through this notifier on every session.
    svc.db.sessions.configure(info={NOTIFY_KEY: partial(referral_notify, texts=svc.texts)})

    from bot.api.admin import products as products_api
    from bot.api.admin import affinity as affinity_api
    from bot.web import redirect
    from bot.api.admin import settings as admin_api
    from bot.api.admin import users as admin_users_api
    from bot.api.admin import campaigns as campaign_api
    from bot.api import cashier as cashier_api
    from bot.web import claim_links as claims
    from bot.api import confirmation as confirmation_api
    from bot.cli import commands as cli
    from bot.api.admin import console as console_api
    from bot.api import corrections as corrections_api
    from bot.api import coupons as coupon_api
    from bot.web import docs
    from bot.api.admin import journeys as journey_api
    from bot.api.admin import member_imports as member_import_api
    from bot.api.admin import members as members_api
    from bot.api.openapi import document as openapi
    from bot.web import pages
    from bot.api.admin import privacy as privacy_api
    from bot.api.admin import referrals as referral_api
    from bot.api import shift as shift_api
    from bot.api.admin import staff as staff_api
    from bot.api.admin import tokens as tokens_api
    from bot.web import public as web
    from bot.web import webhook
    from bot.api.util import init_business_date, init_id_converter, init_request_checks, init_request_session

    init_id_converter(app)  # before the blueprints' rules are built
    init_request_checks(app)  # before a session opens
    init_request_session(app)
    init_business_date(app)
    for blueprint in (web.bp, webhook.bp, pages.bp, cashier_api.bp, shift_api.bp, confirmation_api.bp, corrections_api.bp, coupon_api.bp, members_api.bp, campaign_api.bp, journey_api.bp, referral_api.bp, console_api.bp, member_import_api.bp, privacy_api.bp, redirect.bp, affinity_api.bp, products_api.bp, products_api.counter_bp, admin_api.bp, admin_users_api.bp, staff_api.bp, tokens_api.bp, claims.bp, openapi.bp, docs.bp):
        app.register_blueprint(blueprint)
    if settings.dev_tools:
        from bot.dev import simulator

        app.register_blueprint(simulator.bp)
    if settings.trusted_proxies:  # the client's address as the proxies in front report it (sign-in throttles)
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies)  # type: ignore[method-assign]
    register_error_handlers(app)
    cli.register(app)
    return app
