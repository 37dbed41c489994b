"""POST /callback: verify, then one transaction per event, then reply.

What LINE gets back:
- 413 for a body over MAX_REQUEST_BYTES: refused by its Content-Length before this route runs,
  so it is never read nor its signature computed, or cut off at the limit when it comes chunked
  (bot/security.py);
- 400 for a missing or wrong X-Line-Signature (nothing is parsed or stored), and for a signed body
  that is not a webhook payload (not JSON, nested past the parser's limit, no events list): no
  handler runs, nothing is stored, and it is never a 500, which is this route's "redeliver";
- 200 when every event was handled, skipped as already processed, or failed
  for a reason a retry would not fix (logged with its webhookEventId);
- 500 when the database could not be reached for some event. LINE then
  redelivers the whole request (when redelivery is on in the console);
  events already committed are skipped by their webhookEventId, the others run.
"""
from __future__ import annotations

import logging

from flask import Blueprint, request
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from sqlalchemy.exc import OperationalError, InterfaceError

import handlers
from bot.errors import error_response
from bot.line.gateway import LineError
from bot.jobs.journey_runner import process_due
from bot.jobs.outbox import deliver
from bot.services import Services, services
from handlers.messages import text
from models.journey import runs_queued_in
from models.outbox import queued_in
from models.webhook import claim_event, claim_event_for_member, was_processed

log = logging.getLogger(__name__)
bp = Blueprint("webhook", __name__)


@bp.post("/callback")
def callback():  # type: ignore[no-untyped-def]
    svc = services()
    signature = request.headers.get("X-Line-Signature")
    if not signature:
        return error_response(400, "missing_signature", "X-Line-Signature header is required")
    body = request.get_data(as_text=True)
    try:
        payload = WebhookParser(svc.settings.line_channel_secret).parse(body, signature, as_payload=True)
    except InvalidSignatureError:
        return error_response(400, "invalid_signature", "X-Line-Signature does not match the body")
    except (ValueError, KeyError, TypeError, RecursionError):  # RecursionError: JSON nested past the parser's limit
        log.warning("signed webhook body that is not a LINE payload refused (%d bytes)", len(body))
        return error_response(400, "invalid_body", "The body is not a LINE webhook payload")
    retry = False
    for event in payload.events or []:
        retry |= not process_event(svc, event)
    if retry:
        return error_response(500, "retry_later", "Some events could not be stored; please redeliver")
    return {"status": "ok"}


def process_event(svc: Services, event) -> bool:  # type: ignore[no-untyped-def]
    """Handle one event; False only when a redelivery could succeed (database unreachable)."""
    event_id = getattr(event, "webhook_event_id", None)
    event_type = getattr(event, "type", "unknown")
    if not event_id:
        log.warning("event without webhookEventId ignored (type=%s)", event_type)
        return True
    redelivery = bool(getattr(getattr(event, "delivery_context", None), "is_redelivery", False))
    try:
        prepared = {}
        if redelivery or handlers.needs_prepare(event):
            # Only redeliveries can be duplicates worth a look before LINE reads; the claim
            # below is what guarantees once-only handling either way.
            with svc.db.sessions() as session:
                if was_processed(session, event_id):
                    log.info("event %s already processed; skipped", event_id)
                    return True
            prepared = handlers.prepare(event, svc.line)
        now = svc.now()
        sender = handlers.member_sender(event)
        with svc.db.transaction() as session:
            member = None
            if sender is None:
                claimed = claim_event(session, event_id, event_type=event_type, is_redelivery=redelivery, now=now)
            else:  # the claim and the sender's member row, locked, in one statement
                claimed, member = claim_event_for_member(session, event_id, line_user_id=sender, event_type=event_type,
                                                         is_redelivery=redelivery, now=now, with_card=handlers.wants_card(event))
            if not claimed:
                log.info("event %s claimed by another worker; skipped", event_id)
                return True
            messages = handlers.handle(
                event, session, now=now, settings=svc.settings, texts=svc.texts, prepared=prepared, member=member
            )
            queued, runs = queued_in(session), runs_queued_in(session)
    except (OperationalError, InterfaceError):
        log.exception("database unavailable for event %s (%s)", event_id, event_type)
        return False
    except Exception:  # noqa: BLE001 - one bad event must not lose the others
        log.exception("event %s (%s) failed", event_id, event_type)
        messages, queued, runs = [text(svc.texts("error_generic"))], [], []
    reply_token = getattr(event, "reply_token", None)
    if messages and reply_token:
        try:
            svc.line.reply(reply_token, messages[:5])
        except LineError as exc:
            log.error("reply for event %s failed: %s", event_id, exc)
    try:  # pushes, rich menu links and journeys the event queued; the jobs retry what fails
        if queued:
            deliver(svc, queued)
        if runs:
            process_due(svc, runs)
    except Exception:  # noqa: BLE001
        log.exception("after-commit work for event %s failed; it stays pending", event_id)
    return True
