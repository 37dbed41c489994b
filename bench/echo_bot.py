"""The baseline for bench/webhook.py: the smallest useful line-bot-sdk v3 bot.

It verifies the signature with ``WebhookHandler`` and replies to every text message with
the same text through ``MessagingApi.reply_message``: no database, no templates.

Serve it like the real bot::

    LINE_CHANNEL_SECRET=... LINE_CHANNEL_ACCESS_TOKEN=... LINE_API_BASE_URL=http://127.0.0.1:8081 \\
        .venv/bin/gunicorn 'bench.echo_bot:create_app()'

Like ``bot.line.gateway.LineGateway``, it keeps one ``ApiClient`` (one urllib3 connection pool) per
process and thread, created after the gunicorn fork, so both bots pay the same for
connections to LINE and the comparison measures only what the real bot does in between.
(The SDK's README opens a new ``ApiClient`` per event; that would make this baseline slower.)
"""
from __future__ import annotations

import os
import threading

from flask import Flask, abort, request
from linebot.v3 import WebhookHandler
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import ApiClient, Configuration, MessagingApi, ReplyMessageRequest, TextMessage
from linebot.v3.webhooks import MessageEvent, TextMessageContent


def create_app() -> Flask:
    secret = os.environ["LINE_CHANNEL_SECRET"]
    configuration = Configuration(
        host=os.environ.get("LINE_API_BASE_URL", "https://api.line.me").rstrip("/"),
        access_token=os.environ["LINE_CHANNEL_ACCESS_TOKEN"],
    )
    handler = WebhookHandler(secret)
    local = threading.local()

    def messaging_api() -> MessagingApi:
        if getattr(local, "pid", None) != os.getpid():
            local.pid = os.getpid()
            local.api = MessagingApi(ApiClient(configuration))
        return local.api

    app = Flask(__name__)

    @app.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        return {"status": "ok"}

    @app.post("/callback")
    def callback():  # type: ignore[no-untyped-def]
        signature = request.headers.get("X-Line-Signature", "")
        body = request.get_data(as_text=True)
        try:
            handler.handle(body, signature)
        except InvalidSignatureError:
            abort(400)
        return "OK"

    @handler.add(MessageEvent, message=TextMessageContent)
    def echo(event: MessageEvent) -> None:
        messaging_api().reply_message(
            ReplyMessageRequest(reply_token=event.reply_token, messages=[TextMessage(text=event.message.text)])
        )

    return app
