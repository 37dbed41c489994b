"""A fake LINE Messaging API server on loopback that validates and records requests."""
from __future__ import annotations

import json
import logging
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from .spec import Issue, OpMatch, SpecMissingError, find_spec_dir, load_spec

log = logging.getLogger(__name__)

AUTH_FAILED = "Authentication failed. Confirm that the access token in the authorization header is valid."
RATE_LIMITED = "The API rate limit has been exceeded. Try again later."
RETRY_KEY_TTL = 24 * 3600
MAX_IMAGE = 1024 * 1024
QUOTABLE = {"text", "textV2", "sticker", "image", "video"}
DELIVERING = {"replyMessage": "reply", "pushMessage": "push", "multicast": "multicast",
              "broadcast": "broadcast", "narrowcast": "narrowcast"}
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


def _new_id() -> str:
    return str(secrets.randbelow(9 * 10**17) + 10**17)


class FakeLine:
    """Fake LINE Messaging API.  ``mode``: "spec", "sdk" or None (spec if documents exist)."""

    def __init__(self, mode: str | None = None, *, spec_dir: str | None = None, host: str = "127.0.0.1",
                 port: int = 0, expected_token: str | None = None, basic_id: str = "@fakebot",
                 display_name: str = "Fake Bot", bot_user_id: str = "U" + "0f" * 16) -> None:
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

    def register_reply_token(self, token: str, user_id: str) -> None:
        with self._lock:
            self._reply_tokens[token] = {"user_id": user_id, "used": False}

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

    def messages_to(self, user_id: str, after: int = 0) -> list[dict[str, Any]]:
        """Deliveries to ``user_id``: dicts with seq, kind, messages, retry_key."""
        with self._lock:
            return [{k: d[k] for k in ("seq", "kind", "messages", "retry_key")}
                    for d in self._deliveries if user_id in d["to"] and d["seq"] > after]

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
        self.rate_limits: dict[str, float] = {}
        self._records: list[Record] = []
        self._deliveries: list[dict[str, Any]] = []
        self._profiles: dict[str, dict[str, Any]] = {}
        self._reply_tokens: dict[str, dict[str, Any]] = {}
        self._retry_keys: dict[str, tuple[float, str, Any]] = {}
        self._faults: list[_Fault] = []
        self._buckets: dict[str, list[float]] = {}
        self.richmenus: dict[str, dict[str, Any]] = {}
        self.richmenu_images: dict[str, tuple[str, bytes]] = {}
        self.default_richmenu: str | None = None
        self.user_richmenus: dict[str, str] = {}
        self.aliases: dict[str, str] = {}

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
            issues += _image_issues(req.mimetype, rec.body)
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
        if not self._take_token(rec.path):
            return 429, {"message": RATE_LIMITED}, {}
        handler: Handler | None = getattr(self, f"_op_{op.operation_id}", None)
        if handler is None:
            log.warning("fake LINE: %s is valid but not implemented", op.operation_id)
            return 404, {"message": "Not found"}, {}
        request_id = str(uuid.uuid4())
        retry_key = rec.headers.get("x-line-retry-key") if op.operation_id in DELIVERING else None
        if retry_key:
            with self._lock:  # reserve the key so that concurrent duplicates get 409 too
                seen = self._retry_keys.get(retry_key)
                if seen and time.time() - seen[0] < RETRY_KEY_TTL:
                    conflict = {"message": "The retry key is already accepted"}
                    if isinstance(seen[2], dict) and seen[2].get("sentMessages"):
                        conflict["sentMessages"] = seen[2]["sentMessages"]
                    return 409, conflict, {"x-line-accepted-request-id": seen[1]}
                self._retry_keys[retry_key] = (time.time(), request_id, None)
        status, payload = 500, {"message": "fake LINE internal error"}
        try:
            status, payload = handler(rec, op)
        finally:
            if retry_key:
                with self._lock:
                    if 200 <= status < 300:
                        self._retry_keys[retry_key] = (time.time(), request_id, payload)
                    else:
                        self._retry_keys.pop(retry_key, None)
        return status, payload, {"x-line-request-id": request_id}

    def _take_fault(self, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and fault.matches(path):
                    fault.remaining -= 1
                    return fault
        return None

    def _take_token(self, path: str) -> bool:
        prefixes = [p for p in self.rate_limits if path.startswith(p)]
        if not prefixes:
            return True
        prefix = max(prefixes, key=len)
        rate = float(self.rate_limits[prefix])
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(prefix, [max(rate, 1.0), now])
            tokens = min(max(rate, 1.0), tokens + (now - last) * rate)
            ok = tokens >= 1.0
            self._buckets[prefix] = [tokens - 1.0 if ok else tokens, now]
        return ok

    # -- delivery ------------------------------------------------------------------
    def _deliver(self, rec: Record, kind: str, to: list[str]) -> tuple[int, Any] | None:
        """Charge quota and store the delivery; returns an error response or None."""
        messages = (rec.json or {}).get("messages", [])
        charged = len(set(to)) if kind != "reply" else 0
        with self._lock:
            if (self.enforce_quota and self.quota_type == "limited"
                    and self.total_usage + charged > self.quota_value):
                return 429, {"message": "You have reached your monthly limit."}
            self.total_usage += charged
            self._deliveries.append({"seq": rec.seq, "kind": kind, "messages": messages, "to": set(to),
                                     "retry_key": rec.headers.get("x-line-retry-key")})
        return None

    def _sent(self, rec: Record) -> dict[str, Any]:
        sent = []
        for msg in (rec.json or {}).get("messages", []):
            item = {"id": _new_id()}
            if isinstance(msg, dict) and msg.get("type") in QUOTABLE:
                item["quoteToken"] = secrets.token_urlsafe(48)
            sent.append(item)
        return {"sentMessages": sent}

    def _op_replyMessage(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        token = rec.json.get("replyToken")
        with self._lock:
            entry = self._reply_tokens.get(token)
            if entry is None or entry["used"]:
                return 400, {"message": "Invalid reply token"}
            entry["used"] = True
        return self._deliver(rec, "reply", [entry["user_id"]]) or (200, self._sent(rec))

    def _op_pushMessage(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        return self._deliver(rec, "push", [rec.json["to"]]) or (200, self._sent(rec))

    def _op_multicast(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        return self._deliver(rec, "multicast", list(rec.json["to"])) or (200, {})

    def _op_broadcast(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        return self._deliver(rec, "broadcast", list(self._profiles)) or (200, {})

    def _op_narrowcast(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        # Audiences/filters cannot be resolved here: only an unfiltered narrowcast is delivered.
        if not rec.json.get("recipient") and not rec.json.get("filter"):
            return self._deliver(rec, "narrowcast", list(self._profiles)) or (202, {})
        return 202, {}

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

    def _ok(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        return 200, {}

    _op_validateReply = _op_validatePush = _op_validateMulticast = _ok
    _op_validateNarrowcast = _op_validateBroadcast = _op_validateRichMenuObject = _ok

    def _op_showLoadingAnimation(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        return 202, {}

    # -- rich menus ----------------------------------------------------------------
    def _menu_error(self, menu_id: str, need_image: bool = False) -> tuple[int, Any] | None:
        if menu_id not in self.richmenus:
            return 404, {"message": "Not found"}
        if need_image and menu_id not in self.richmenu_images:
            return 400, {"message": "must upload richmenu image before applying it to user"}
        return None

    def _op_createRichMenu(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        menu_id = f"richmenu-{secrets.token_hex(16)}"
        with self._lock:
            self.richmenus[menu_id] = {"richMenuId": menu_id, **rec.json}
        return 200, {"richMenuId": menu_id}

    def _op_getRichMenuList(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        return 200, {"richmenus": list(self.richmenus.values())}

    def _op_getRichMenu(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        menu = self.richmenus.get(op.path_params["richMenuId"])
        return (200, menu) if menu else (404, {"message": "Not found"})

    def _op_deleteRichMenu(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        menu_id = op.path_params["richMenuId"]
        with self._lock:
            if self.richmenus.pop(menu_id, None) is None:
                return 404, {"message": "Not found"}
            self.richmenu_images.pop(menu_id, None)
            if self.default_richmenu == menu_id:
                self.default_richmenu = None
            self.user_richmenus = {u: m for u, m in self.user_richmenus.items() if m != menu_id}
            self.aliases = {a: m for a, m in self.aliases.items() if m != menu_id}
        return 200, {}

    def _op_setRichMenuImage(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        menu_id = op.path_params["richMenuId"]
        with self._lock:
            err = self._menu_error(menu_id)
            if err:
                return err
            if menu_id in self.richmenu_images:
                return 400, {"message": "An image has already been uploaded to the richmenu"}
            self.richmenu_images[menu_id] = (rec.headers.get("content-type", ""), rec.body)
        return 200, {}

    def _op_getRichMenuImage(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        image = self.richmenu_images.get(op.path_params["richMenuId"])
        return (200, image) if image else (404, {"message": "Not found"})

    def _op_setDefaultRichMenu(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        with self._lock:
            err = self._menu_error(op.path_params["richMenuId"], need_image=True)
            if not err:
                self.default_richmenu = op.path_params["richMenuId"]
        return err or (200, {})

    def _op_getDefaultRichMenuId(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        menu_id = self.default_richmenu
        return (200, {"richMenuId": menu_id}) if menu_id else (404, {"message": "no default richmenu"})

    def _op_cancelDefaultRichMenu(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        self.default_richmenu = None
        return 200, {}

    def _op_linkRichMenuIdToUser(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        with self._lock:
            err = self._menu_error(op.path_params["richMenuId"], need_image=True)
            if not err:
                self.user_richmenus[op.path_params["userId"]] = op.path_params["richMenuId"]
        return err or (200, {})

    def _op_unlinkRichMenuIdFromUser(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        self.user_richmenus.pop(op.path_params["userId"], None)
        return 200, {}

    def _op_getRichMenuIdOfUser(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        menu_id = self.user_richmenus.get(op.path_params["userId"])
        return (200, {"richMenuId": menu_id}) if menu_id else (404, {"message": "the user has no richmenu"})

    def _op_linkRichMenuIdToUsers(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        with self._lock:
            err = self._menu_error(rec.json["richMenuId"], need_image=True)
            if not err:
                self.user_richmenus.update({u: rec.json["richMenuId"] for u in rec.json["userIds"]})
        return err or (202, {})

    def _op_unlinkRichMenuIdFromUsers(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        with self._lock:
            for user in rec.json["userIds"]:
                self.user_richmenus.pop(user, None)
        return 202, {}

    def _op_createRichMenuAlias(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        alias, menu_id = rec.json["richMenuAliasId"], rec.json["richMenuId"]
        with self._lock:
            if alias in self.aliases:
                return 400, {"message": "conflict richmenu alias id"}
            if menu_id not in self.richmenus:
                return 400, {"message": "richmenu not found"}
            self.aliases[alias] = menu_id
        return 200, {}

    def _op_updateRichMenuAlias(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        alias, menu_id = op.path_params["richMenuAliasId"], rec.json["richMenuId"]
        with self._lock:
            if alias not in self.aliases:
                return 404, {"message": "Not found"}
            if menu_id not in self.richmenus:
                return 400, {"message": "richmenu not found"}
            self.aliases[alias] = menu_id
        return 200, {}

    def _op_deleteRichMenuAlias(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        with self._lock:
            found = self.aliases.pop(op.path_params["richMenuAliasId"], None)
        return (200, {}) if found else (404, {"message": "Not found"})

    def _op_getRichMenuAlias(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        alias = op.path_params["richMenuAliasId"]
        menu_id = self.aliases.get(alias)
        return (200, {"richMenuAliasId": alias, "richMenuId": menu_id}) if menu_id else (404, {"message": "Not found"})

    def _op_getRichMenuAliasList(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        return 200, {"aliases": [{"richMenuAliasId": a, "richMenuId": m} for a, m in self.aliases.items()]}

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
        return _json_response(404, {"message": "Not found"}, cors)


def _image_issues(mimetype: str, body: bytes) -> list[Issue]:
    if mimetype not in ("image/png", "image/jpeg"):
        return [Issue("header", "Content-Type", f"rich menu image must be image/png or image/jpeg, got {mimetype!r}")]
    if len(body) > MAX_IMAGE:
        return [Issue("body", "", f"rich menu image is {len(body)} bytes; the maximum is 1 MB")]
    magic = b"\x89PNG" if mimetype == "image/png" else b"\xff\xd8"
    if not body.startswith(magic):
        return [Issue("body", "", f"body is not a {mimetype} image")]
    return []


def _default_error(status: int) -> dict[str, str]:
    return {"message": {429: RATE_LIMITED, 401: AUTH_FAILED, 500: "Internal server error",
                        503: "Service unavailable"}.get(status, f"Injected error {status}")}


def _json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=status, headers=headers or {},
                    content_type="application/json")


__all__ = ["FakeLine", "Record", "SpecMissingError"]
