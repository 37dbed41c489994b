"""Rich menu state and operations of the fake LINE server (mixed into ``FakeLine``)."""
from __future__ import annotations

import json
import secrets
import threading
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from .spec import Issue, OpMatch

if TYPE_CHECKING:
    from .server import Record

MAX_IMAGE = 1024 * 1024


class RichMenuMixin:
    """Rich menus, their images, the default menu, per-user links and aliases."""

    _lock: threading.RLock
    richmenus: dict[str, dict[str, Any]]
    richmenu_images: dict[str, tuple[str, bytes]]
    default_richmenu: str | None
    user_richmenus: dict[str, str]
    aliases: dict[str, str]

    def _reset_richmenus(self) -> None:
        self.richmenus = {}
        self.richmenu_images = {}
        self.default_richmenu = None
        self.user_richmenus = {}
        self.aliases = {}

    def _menu_error(self, menu_id: str, need_image: bool = False) -> tuple[int, Any] | None:
        if menu_id not in self.richmenus:
            return 404, {"message": "Not found"}
        if need_image and menu_id not in self.richmenu_images:
            return 400, {"message": "must upload richmenu image before applying it to user"}
        return None

    def _op_validateRichMenuObject(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        return _rule_error(rec.json) or (200, {})

    def _op_createRichMenu(self, rec: Record, op: OpMatch) -> tuple[int, Any]:
        error = _rule_error(rec.json)
        if error:
            return error
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

    # -- aliases -------------------------------------------------------------------
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


    # -- /__fake__/richmenu: what the chat simulator shows (not validated, not recorded) --
    def _richmenu_helper(self, req: Request, name: str, headers: dict[str, str]) -> Response:
        """``richmenu?userId=`` (the user's menu, else the default) or ``richmenu?aliasId=``:
        the menu's definition and image URL; ``richmenu/<id>/image``: the uploaded image."""
        parts = name.split("/")
        if len(parts) == 3 and parts[2] == "image" and req.method == "GET":
            image = self.richmenu_images.get(parts[1])
            if image is None:
                return _json(404, {"message": "Not found"}, headers)
            return Response(image[1], content_type=image[0], headers={**headers, "Cache-Control": "no-store"})
        if len(parts) != 1 or req.method != "GET":
            return _json(404, {"message": "Not found"}, headers)
        with self._lock:
            user, alias = req.args.get("userId"), req.args.get("aliasId")
            linked = self.user_richmenus.get(user) if user else None
            menu_id = self.aliases.get(alias) if alias else linked or self.default_richmenu
            menu = self.richmenus.get(menu_id) if menu_id else None
            aliases = [a for a, m in self.aliases.items() if m == menu_id]
        if menu is None or menu_id not in self.richmenu_images:
            return _json(200, {"richMenuId": None}, headers)
        return _json(200, {"richMenuId": menu_id, "linked": bool(linked) and linked == menu_id,
                           "aliases": aliases, "menu": menu, "imageUrl": f"/__fake__/richmenu/{menu_id}/image"}, headers)


def _json(status: int, payload: Any, headers: dict[str, str]) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=status, headers=headers,
                    content_type="application/json")


def rule_issues(menu: Any) -> list[dict[str, str]]:
    """LINE's documented rich menu rules that the schema does not express."""
    if not isinstance(menu, dict):
        return [{"message": "must be an object", "property": ""}]
    issues = [{"message": "must be specified", "property": key}
              for key in ("size", "selected", "name", "chatBarText", "areas") if key not in menu]
    size = menu.get("size") or {}
    width, height = size.get("width", 0), size.get("height", 0)
    if size and not (800 <= width <= 2500 and height >= 250 and width / max(height, 1) >= 1.45):
        issues.append({"message": "invalid size: width 800-2500, height >= 250, width/height >= 1.45", "property": "size"})
    areas = menu.get("areas") or []
    if len(areas) > 20:
        issues.append({"message": "size must be between 0 and 20", "property": "areas"})
    for i, area in enumerate(areas):
        b, action = area.get("bounds") or {}, area.get("action") or {}
        if b.get("x", 0) + b.get("width", 0) > width or b.get("y", 0) + b.get("height", 0) > height:
            issues.append({"message": "bounds must be inside the rich menu", "property": f"areas[{i}].bounds"})
        if action.get("type") == "richmenuswitch" and not (action.get("richMenuAliasId") and action.get("data")):
            issues.append({"message": "richMenuAliasId and data are required", "property": f"areas[{i}].action"})
    return issues


def _rule_error(menu: Any) -> tuple[int, Any] | None:
    issues = rule_issues(menu)
    return (400, {"message": "The request body has %d error(s)" % len(issues), "details": issues}) if issues else None


def image_issues(mimetype: str, body: bytes) -> list[Issue]:
    """Extra checks for a setRichMenuImage upload (type, size, magic bytes)."""
    if mimetype not in ("image/png", "image/jpeg"):
        return [Issue("header", "Content-Type", f"rich menu image must be image/png or image/jpeg, got {mimetype!r}")]
    if len(body) > MAX_IMAGE:
        return [Issue("body", "", f"rich menu image is {len(body)} bytes; the maximum is 1 MB")]
    magic = b"\x89PNG" if mimetype == "image/png" else b"\xff\xd8"
    if not body.startswith(magic):
        return [Issue("body", "", f"body is not a {mimetype} image")]
    return []
