"""Fallback validation (``mode="sdk"``) with line-bot-sdk's generated request models.

Used when the OpenAPI documents are not available (demo from a bare clone).
The SDK models dispatch on the discriminator (unknown ``type`` values raise),
check required fields, strict scalar types, enums and list limits, but they
ignore unknown properties and do not check a ``type`` reached through a direct
reference (e.g. a bubble ``header`` with ``type: "bogus"`` is parsed as a box).
"""
from __future__ import annotations

import json
import logging
import re
import urllib.parse
from typing import Any, Mapping

from .spec import Issue, OpMatch, is_uuid

log = logging.getLogger(__name__)

# (method, path template, operationId, request model, host)
ROUTES: list[tuple[str, str, str, str | None, str]] = [
    ("POST", "/v2/bot/message/reply", "replyMessage", "ReplyMessageRequest", "api"),
    ("POST", "/v2/bot/message/push", "pushMessage", "PushMessageRequest", "api"),
    ("POST", "/v2/bot/message/multicast", "multicast", "MulticastRequest", "api"),
    ("POST", "/v2/bot/message/broadcast", "broadcast", "BroadcastRequest", "api"),
    ("POST", "/v2/bot/message/narrowcast", "narrowcast", "NarrowcastRequest", "api"),
    ("POST", "/v2/bot/message/validate/reply", "validateReply", "ValidateMessageRequest", "api"),
    ("POST", "/v2/bot/message/validate/push", "validatePush", "ValidateMessageRequest", "api"),
    ("POST", "/v2/bot/message/validate/multicast", "validateMulticast", "ValidateMessageRequest", "api"),
    ("POST", "/v2/bot/message/validate/narrowcast", "validateNarrowcast", "ValidateMessageRequest", "api"),
    ("POST", "/v2/bot/message/validate/broadcast", "validateBroadcast", "ValidateMessageRequest", "api"),
    ("GET", "/v2/bot/message/quota", "getMessageQuota", None, "api"),
    ("GET", "/v2/bot/message/quota/consumption", "getMessageQuotaConsumption", None, "api"),
    ("GET", "/v2/bot/profile/{userId}", "getProfile", None, "api"),
    ("GET", "/v2/bot/info", "getBotInfo", None, "api"),
    ("POST", "/v2/bot/chat/loading/start", "showLoadingAnimation", "ShowLoadingAnimationRequest", "api"),
    ("POST", "/v2/bot/richmenu", "createRichMenu", "RichMenuRequest", "api"),
    ("POST", "/v2/bot/richmenu/validate", "validateRichMenuObject", "RichMenuRequest", "api"),
    ("GET", "/v2/bot/richmenu/list", "getRichMenuList", None, "api"),
    ("POST", "/v2/bot/richmenu/bulk/link", "linkRichMenuIdToUsers", "RichMenuBulkLinkRequest", "api"),
    ("POST", "/v2/bot/richmenu/bulk/unlink", "unlinkRichMenuIdFromUsers", "RichMenuBulkUnlinkRequest", "api"),
    ("POST", "/v2/bot/richmenu/alias", "createRichMenuAlias", "CreateRichMenuAliasRequest", "api"),
    ("GET", "/v2/bot/richmenu/alias/list", "getRichMenuAliasList", None, "api"),
    ("GET", "/v2/bot/richmenu/alias/{richMenuAliasId}", "getRichMenuAlias", None, "api"),
    ("POST", "/v2/bot/richmenu/alias/{richMenuAliasId}", "updateRichMenuAlias", "UpdateRichMenuAliasRequest", "api"),
    ("DELETE", "/v2/bot/richmenu/alias/{richMenuAliasId}", "deleteRichMenuAlias", None, "api"),
    ("GET", "/v2/bot/richmenu/{richMenuId}", "getRichMenu", None, "api"),
    ("DELETE", "/v2/bot/richmenu/{richMenuId}", "deleteRichMenu", None, "api"),
    ("POST", "/v2/bot/richmenu/{richMenuId}/content", "setRichMenuImage", None, "api-data"),
    ("GET", "/v2/bot/richmenu/{richMenuId}/content", "getRichMenuImage", None, "api-data"),
    ("POST", "/v2/bot/user/all/richmenu/{richMenuId}", "setDefaultRichMenu", None, "api"),
    ("GET", "/v2/bot/user/all/richmenu", "getDefaultRichMenuId", None, "api"),
    ("DELETE", "/v2/bot/user/all/richmenu", "cancelDefaultRichMenu", None, "api"),
    ("GET", "/v2/bot/user/{userId}/richmenu", "getRichMenuIdOfUser", None, "api"),
    ("DELETE", "/v2/bot/user/{userId}/richmenu", "unlinkRichMenuIdFromUser", None, "api"),
    ("POST", "/v2/bot/user/{userId}/richmenu/{richMenuId}", "linkRichMenuIdToUser", None, "api"),
]
RETRY_KEY_OPS = {"pushMessage", "multicast", "broadcast", "narrowcast"}


def _compile(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}/]+\\\}", "([^/]+)", re.escape(template)) + "$")


class SdkChecker:
    """Same interface as ``spec.SpecBundle`` (``match``/``check``), backed by SDK models."""

    def __init__(self) -> None:
        import linebot.v3.messaging as messaging  # imported lazily: heavy

        self._models = messaging
        routes = [(t.count("{"), -len(t), m, t, _compile(t), op, model, host)
                  for m, t, op, model, host in ROUTES]
        self._routes = sorted(routes, key=lambda r: (r[0], r[1]))

    def match(self, method: str, path: str) -> OpMatch | None:
        for _, _, m, template, regex, op_id, model, host in self._routes:
            found = regex.match(path)
            if found and m == method.upper():
                names = re.findall(r"\{([^}/]+)\}", template)
                params = {n: urllib.parse.unquote(v) for n, v in zip(names, found.groups())}
                return OpMatch(op_id, m, template, params, host, True, {"model": model})
        return None

    def allowed_methods(self, path: str) -> list[str]:
        return sorted({r[2] for r in self._routes if r[4].match(path)})

    def check(self, op: OpMatch, headers: Mapping[str, str], query: Mapping[str, list[str]],
              body: bytes, content_type: str | None) -> list[Issue]:
        issues: list[Issue] = []
        key = headers.get("x-line-retry-key")
        if key is not None and op.operation_id in RETRY_KEY_OPS and not is_uuid(key):
            issues.append(Issue("header", "X-Line-Retry-Key", f"{key!r} is not a 'uuid'"))
        model_name = op.spec.get("model")
        if not model_name:
            return issues
        if not body:
            return issues + [Issue("body", "", "request body is required")]
        media = (content_type or "").split(";")[0].strip().lower()
        if media != "application/json":
            return issues + [Issue("header", "Content-Type",
                                   f"content type {media or '(none)'!r} not accepted; expected application/json")]
        try:
            instance = json.loads(body)
        except ValueError as exc:
            return issues + [Issue("body", "", f"malformed JSON: {exc}")]
        return issues + validate_model(self._models, model_name, instance)


def validate_model(module: Any, model_name: str, instance: Any) -> list[Issue]:
    """Parse ``instance`` with ``module.<model_name>.from_dict``; exceptions become issues."""
    model = getattr(module, model_name)
    if not isinstance(instance, dict):
        return [Issue("body", "", f"expected a JSON object for {model_name}")]
    try:
        model.from_dict(instance)
    except Exception as exc:  # pydantic ValidationError, ValueError, KeyError, TypeError...
        errors = getattr(exc, "errors", None)
        if callable(errors):
            try:
                return [Issue("body", "/" + "/".join(str(p) for p in e.get("loc", ())),
                              f"{e.get('msg')} ({model_name})") for e in errors()]
            except Exception:  # pragma: no cover - defensive
                pass
        if isinstance(exc, KeyError):
            return [Issue("body", "", f"missing discriminator property {exc} ({model_name})")]
        return [Issue("body", "", f"{type(exc).__name__}: {str(exc)[:400]} ({model_name})")]
    return []
