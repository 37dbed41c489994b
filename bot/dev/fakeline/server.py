"""A fake LINE Messaging API server on loopback that validates and records requests."""
from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from .delivery import DeliveryMixin
from .insight import InsightMixin
from .richmenu import RichMenuMixin, image_issues
from .spec import Issue, OpMatch, SpecMissingError, find_spec_dir, load_spec

log = logging.getLogger(__name__)

AUTH_FAILED = "Authentication failed. Confirm that the access token in the authorization header is valid."
RATE_LIMITED = "The API rate limit has been exceeded. Try again later."
# LINE's rate limits per channel and endpoint (requests per second; the longest matching path
# prefix applies, each endpoint counted on its own): multicast 200/s, most others 2,000/s.
LINE_RATE_LIMITS: dict[str, float] = {"/v2/bot/message/multicast": 200.0, "/": 2000.0}
Handler = Callable[["Record", OpMatch], "tuple[int, Any]"]


@dataclass
class Record:
    """One request received by the fake (LINE endpoints only)."""

    seq: int
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    json: Any
    timestamp: float
    host: str | None = None
    operation_id: str | None = None
    status: int = 0
    response: Any = None
    injected: bool = False
    throttled: bool = False  # answered 429 by the rate limit (not by an injected fault)
    violations: list[str] = field(default_factory=list)

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)


@dataclass
class _Fault:
    pattern: re.Pattern[str] | str
    status: int
    remaining: int
    retry_after: int | float | None
    body: Any

    def matches(self, path: str) -> bool:
        if isinstance(self.pattern, re.Pattern):
            return bool(self.pattern.search(path))
        return path.startswith(self.pattern)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("%s %s", self.requestline, code)


class FakeLine(DeliveryMixin, RichMenuMixin, InsightMixin):
    """Fake LINE Messaging API.  ``mode``: "spec", "sdk" or None (spec if documents exist).

    Message delivery / reply tokens / retry keys live in :mod:`.delivery`, rich menus in
    :mod:`.richmenu`; both are mixins sharing this object's state and ``_lock``.
    """

    def __init__(self, mode: str | None = None, *, spec_dir: str | None = None, host: str = "127.0.0.1",
                 port: int = 0, expected_token: str | None = None, basic_id: str = "@fakebot",
                 display_name: str = "Fake Bot", bot_user_id: str = "U" + "0f" * 16,
                 rate_limits: dict[str, float] | None = None, rate_window: float = 1.0) -> None:
        if mode is None:
            mode = "spec" if find_spec_dir(spec_dir) else "sdk"
        if mode == "spec":
            self.checker: Any = load_spec(spec_dir)  # raises SpecMissingError
        elif mode == "sdk":
            from .sdkcheck import SdkChecker
            self.checker = SdkChecker()
        else:
            raise ValueError(f"unknown mode {mode!r} (expected 'spec', 'sdk' or None)")
        self.mode = mode
        self.host, self.port = host, port
        self.expected_token = expected_token
        self.basic_id, self.display_name, self.bot_user_id = basic_id, display_name, bot_user_id
        self.violations: list[str] = []
        # Requests per second by path prefix; None: LINE's own limits, {}: none.  At most
        # rate × rate_window requests of one endpoint in any rate_window seconds (a sliding window:
        # "200 per second" means no second with more than 200, not a burst of 200 on top of 200/s).
        self._default_rate_limits = dict(LINE_RATE_LIMITS if rate_limits is None else rate_limits)
        self.rate_window = rate_window
        self._lock = threading.RLock()
        self._seq = 0
        self._reset()
        self._server: Any = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> str:
        """Start serving in a background thread (idempotent); return the base URL."""
        with self._lock:
            if self._server is None:
                self._server = make_server(self.host, self.port, self, threaded=True,
                                           request_handler=_QuietHandler)
                self.port = self._server.server_port
                server = self._server
                self._thread = threading.Thread(target=lambda: server.serve_forever(poll_interval=0.05),
                                                name="fakeline", daemon=True)
                self._thread.start()
                log.info("fake LINE API (%s mode) listening on %s", self.mode, self.url)
        return self.url

    def stop(self) -> None:
        with self._lock:
            server, thread, self._server, self._thread = self._server, self._thread, None, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def serve_forever(self) -> None:
        """Serve in the foreground (CLI)."""
        self.start()
        assert self._thread is not None
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> "FakeLine":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test helpers --------------------------------------------------------------
    def register_profile(self, user_id: str, display_name: str, picture_url: str | None = None,
                         status_message: str | None = None, language: str = "zh-TW") -> None:
        profile = {"userId": user_id, "displayName": display_name, "language": language}
        if picture_url:
            profile["pictureUrl"] = picture_url
        if status_message:
            profile["statusMessage"] = status_message
        with self._lock:
            self._profiles[user_id] = profile

    def requests(self, path: str | re.Pattern[str] | None = None, method: str | None = None) -> list[Record]:
        """Recorded requests; ``path`` is an exact path or a compiled regex (search)."""
        with self._lock:
            records = list(self._records)
        if path is not None:
            records = [r for r in records if (path.search(r.path) if isinstance(path, re.Pattern)
                                              else r.path == path)]
        if method is not None:
            records = [r for r in records if r.method == method.upper()]
        return records

    def inject(self, path_prefix_or_regex: str | re.Pattern[str], status: int, times: int = 1,
               retry_after: int | float | None = None, body: Any = None) -> None:
        """Fail the next ``times`` matching requests (prefix; regex if compiled or starting with ^)."""
        pattern = path_prefix_or_regex
        if isinstance(pattern, str) and pattern.startswith("^"):
            pattern = re.compile(pattern)
        with self._lock:
            self._faults.append(_Fault(pattern, status, times, retry_after, body))

    def clear(self, violations: bool = True) -> None:
        """Reset to a fresh fake: records, deliveries, faults, profiles, reply tokens, retry keys,
        rich menus, usage, rate limits and quota settings (and violations unless told not to)."""
        with self._lock:
            self._reset()
            if violations:
                self.violations.clear()

    def _reset(self) -> None:
        self.quota_type, self.quota_value, self.total_usage = "limited", 1000, 0
        self.enforce_quota = False
        self.rate_limits: dict[str, float] = dict(self._default_rate_limits)
        self._clock: Callable[[], float] = time.monotonic  # tests may freeze it
        self._records: list[Record] = []
        self._profiles: dict[str, dict[str, Any]] = {}
        self._faults: list[_Fault] = []
        self._windows: dict[tuple[str, str], deque[float]] = {}
        self._reset_delivery()
        self._reset_richmenus()
        self._reset_insight()

    # -- WSGI ----------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        req = Request(environ)
        try:
            if req.path.startswith("/__fake__/"):
                resp = self._helper(req)
            else:
                resp = self._handle(req)
        except Exception:  # pragma: no cover - a bug in the fake itself
            log.exception("fake LINE server error")
            resp = _json_response(500, {"message": "fake LINE internal error"})
        return resp(environ, start_response)

    def _handle(self, req: Request) -> Response:
        body = req.get_data(cache=True)
        headers = {k.lower(): v for k, v in req.headers.items()}
        parsed = None
        if body and "json" in (req.mimetype or ""):
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
        with self._lock:
            self._seq += 1
            rec = Record(self._seq, req.method, req.path, dict(req.args.items()), headers, body, parsed,
                         time.time())
            self._records.append(rec)
        status, payload, extra = self._process(req, rec)
        rec.status, rec.response = status, payload
        extra.setdefault("x-line-request-id", str(uuid.uuid4()))
        if isinstance(payload, tuple):  # (content type, bytes)
            return Response(payload[1], status=status, content_type=payload[0], headers=extra)
        return _json_response(status, payload, extra)

    def _violation(self, rec: Record, text: str) -> None:
        message = f"{rec.method} {rec.path}" + (f" ({rec.operation_id})" if rec.operation_id else "") + f": {text}"
        log.warning("LINE API violation: %s", message)
        with self._lock:
            rec.violations.append(message)
            self.violations.append(message)

    def _process(self, req: Request, rec: Record) -> tuple[int, Any, dict[str, str]]:
        op = self.checker.match(req.method, req.path)
        if op is None:
            allowed = self.checker.allowed_methods(req.path)
            why = f"method not allowed (spec has {allowed})" if allowed else "unknown endpoint"
            self._violation(rec, f"{why} [{self.mode} mode]")
            return 404, {"message": "Not found"}, {}
        rec.operation_id, rec.host = op.operation_id, op.host
        if op.needs_auth:
            auth = rec.headers.get("authorization", "")
            token = auth[7:].strip() if auth.startswith("Bearer ") else ""
            if not token or (self.expected_token is not None and token != self.expected_token):
                self._violation(rec, "missing or invalid Authorization header (expected 'Bearer <token>')")
                return 401, {"message": AUTH_FAILED}, {}
        query = {k: req.args.getlist(k) for k in req.args}
        issues: list[Issue] = self.checker.check(op, rec.headers, query, rec.body, req.content_type)
        if op.operation_id == "setRichMenuImage":
            issues += image_issues(req.mimetype, rec.body)
        if issues:
            for issue in issues:
                self._violation(rec, issue.describe())
            return 400, {"message": f"The request body has {len(issues)} error(s)",
                         "details": [{"message": i.message, "property": i.property} for i in issues]}, {}
        fault = self._take_fault(rec.path)
        if fault is not None:
            rec.injected = True
            extra = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            return fault.status, fault.body if fault.body is not None else _default_error(fault.status), extra
        if not self._take_token(rec.path, op.operation_id):
            rec.throttled = True
            return 429, {"message": RATE_LIMITED}, {}
        handler: Handler | None = getattr(self, f"_op_{op.operation_id}", None)
        if handler is None:
            log.warning("fake LINE: %s is valid but not implemented", op.operation_id)
            return 404, {"message": "Not found"}, {}
        request_id = str(uuid.uuid4())
        retry_key = self._retry_key(rec, op)
        if retry_key:
            conflict = self._claim_retry_key(retry_key, request_id)
            if conflict is not None:
                return conflict
        status, payload = 500, {"message": "fake LINE internal error"}
        try:
            status, payload = handler(rec, op)
        finally:
            if retry_key:
                self._settle_retry_key(retry_key, request_id, status, payload)
        return status, payload, {"x-line-request-id": request_id}

    def _take_fault(self, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and fault.matches(path):
                    fault.remaining -= 1
                    return fault
        return None

    def _take_token(self, path: str, operation: str = "") -> bool:
        """Admit a request unless its endpoint already had its limit within the last window."""
        prefixes = [p for p in self.rate_limits if path.startswith(p)]
        if not prefixes:
            return True
        prefix = max(prefixes, key=len)
        allowed = max(1, int(float(self.rate_limits[prefix]) * self.rate_window + 1e-9))
        with self._lock:
            now = self._clock()
            window = self._windows.setdefault((prefix, operation), deque())
            while window and window[0] <= now - self.rate_window:
                window.popleft()
            if len(window) >= allowed:
                return False
            window.append(now)
        return True

    # -- other operations (delivery: see .delivery, rich menus: see .richmenu) -----
    def _op_getProfile(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        profile = self._profiles.get(op.path_params["userId"])
        return (200, dict(profile)) if profile else (404, {"message": "Not found"})

    def _op_getBotInfo(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        return 200, {"userId": self.bot_user_id, "basicId": self.basic_id, "displayName": self.display_name,
                     "chatMode": "bot", "markAsReadMode": "auto"}

    def _op_getMessageQuota(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        quota: dict[str, Any] = {"type": self.quota_type}
        if self.quota_type == "limited":
            quota["value"] = self.quota_value
        return 200, quota

    def _op_getMessageQuotaConsumption(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        return 200, {"totalUsage": self.total_usage}

    def _op_showLoadingAnimation(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        return 202, {}

    # -- /__fake__/ helpers (chat simulator; not validated, not recorded) ----------
    def _helper(self, req: Request) -> Response:
        cors = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "Content-Type",
                "Access-Control-Allow-Methods": "GET, POST, OPTIONS"}
        if req.method == "OPTIONS":
            return Response(status=204, headers=cors)
        data = req.get_json(silent=True) or {}
        name = req.path[len("/__fake__/"):].strip("/")
        if name == "profiles" and req.method == "POST" and data.get("userId"):
            self.register_profile(data["userId"], data.get("displayName") or data["userId"],
                                  data.get("pictureUrl"), data.get("statusMessage"), data.get("language") or "zh-TW")
            return _json_response(200, {}, cors)
        if name == "reply-tokens" and req.method == "POST" and data.get("replyToken") and data.get("userId"):
            self.register_reply_token(data["replyToken"], data["userId"])
            return _json_response(200, {}, cors)
        if name == "messages" and req.method == "GET" and req.args.get("userId"):
            after = int(req.args.get("after") or 0)
            return _json_response(200, {"messages": self.messages_to(req.args["userId"], after)}, cors)
        if name == "richmenu" or name.startswith("richmenu/"):
            return self._richmenu_helper(req, name, cors)
        return _json_response(404, {"message": "Not found"}, cors)



def _default_error(status: int) -> dict[str, str]:
    return {"message": {429: RATE_LIMITED, 401: AUTH_FAILED, 500: "Internal server error",
                        503: "Service unavailable"}.get(status, f"Injected error {status}")}


def _json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=status, headers=headers or {},
                    content_type="application/json")


__all__ = ["FakeLine", "Record", "SpecMissingError"]
