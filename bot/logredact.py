"""Personal data stays out of the logs: one filter on every handler that writes them.

What it masks, in the message and in tracebacks (``exc_text``, ``stack_info``):

- raw LINE user ids (``U`` + 32 hex) become ``U…`` and 8 hex of their SHA-256, so one member's
  lines still correlate without the id that identifies them at LINE;
- Taiwan phone numbers (09xx-xxx-xxx, +886 9…, 0x-xxxx-xxxx) become ``09********``;
- what people typed into a search or a rule in a query string (``q=``, ``rule=``, ``name=``,
  ``phone=``), as gunicorn's access log writes the request line, becomes ``q=[redacted]``;
- the value of a name-, phone- or id-bearing key in a reprinted dict or JSON
  (``'display_name': '王小明'``, ``"phone": "…"``, as a failed statement's parameters are shown).

The database engines also hide statement parameters (bot/db.py: ``hide_parameters=True``), so a
database error names its statement, never the values. ``install`` puts the filter on the root
logger's handlers and on gunicorn's access and error loggers (their records do not pass through
root's handlers filters when they are written by gunicorn's own handlers)."""
from __future__ import annotations

import hashlib
import logging
import re

LINE_USER_ID = re.compile(r"(?<![0-9A-Za-z])U[0-9a-f]{32}(?![0-9A-Za-z])")
PHONE = re.compile(
    r"(?<![\d\w])(?:"
    r"(?:\+|00)?886[-\s]?0?9\d{2}[-\s]?\d{3}[-\s]?\d{3}"  # mobile, international
    r"|09\d{2}[-\s]?\d{3}[-\s]?\d{3}"  # mobile
    r"|\(?0[2-8]\d?\)?[-\s]\d{3,4}[-\s]?\d{4}"  # landline with its area code set apart
    r"|0[2-8]\d{7,8}"  # landline, digits only
    r")(?![\d\w])"
)
QUERY_VALUE = re.compile(r"(?i)([?&;](?:q|rule|name|phone|search|member|email)=)[^&\s\"']*")
PERSONAL_KEY = re.compile(  # the two quoted forms exclude each other's characters: linear time, whatever the line
    r"""(?ix)
    (?P<key>['"]?(?:display_name|name|phone|line_user_id|birthday(?:_on)?|email|username|q)['"]?\s*[:=]\s*)
    (?:'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
    """
)
REDACTED = "[redacted]"


def _user_id(match: re.Match[str]) -> str:
    return "U…" + hashlib.sha256(match.group(0).encode()).hexdigest()[:8]


def redact(text: str) -> str:
    """``text`` with LINE user ids, phone numbers, searched values and named personal fields masked."""
    if not text:
        return text
    text = PERSONAL_KEY.sub(lambda m: f"{m.group('key')}{m.group(0)[len(m.group('key'))]}{REDACTED}{m.group(0)[-1]}", text)
    text = QUERY_VALUE.sub(lambda m: m.group(1) + REDACTED, text)
    text = LINE_USER_ID.sub(_user_id, text)
    return PHONE.sub("09********", text)


class RedactFilter(logging.Filter):
    """Rewrites each record in place (message formatted, then masked; its traceback too) and keeps it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string is logging's own error to report
            return True
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record._redacted = True  # type: ignore[attr-defined]
        return True


FILTER = RedactFilter()
GUNICORN_LOGGERS = ("gunicorn.access", "gunicorn.error")


def install(root: logging.Logger | None = None) -> None:
    """The filter on root's handlers and on gunicorn's loggers and their handlers (idempotent)."""
    root = root or logging.getLogger()
    targets: list[logging.Filterer] = list(root.handlers)
    for name in GUNICORN_LOGGERS:
        logger = logging.getLogger(name)
        targets += [logger, *logger.handlers]
    for target in targets:
        if FILTER not in target.filters:
            target.addFilter(FILTER)
