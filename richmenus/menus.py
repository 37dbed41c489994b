"""The rich menu definitions on disk, and the rules LINE applies to them, checked before any call.

    richmenus/definitions/<name>.json        the Messaging API's rich menu object, sent as it is
    richmenus/definitions/<name>.style.json  how its image is drawn (tiles[i] draws areas[i])
    richmenus/theme.json                     the brand's colours, shared by every image

Every menu gets a rich menu alias equal to its name, so ``richmenuswitch`` actions can name
any menu (the member menu's tabs switch between ``member-card`` and ``member-more``).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.richmenu import GUEST_MENU, MEMBER_MENU

ROOT = Path(__file__).resolve().parent
DEFINITIONS = "definitions"
REQUIRED = (GUEST_MENU, MEMBER_MENU)
NAME_RE = re.compile(r"^[a-z0-9_-]{1,32}$")  # also LINE's rule for alias ids
MAX_AREAS = 20
MAX_CHAT_BAR = 14
MAX_LABEL = 20
MAX_DATA = 300


class MenuError(ValueError):
    """A definition, style or image that LINE (or the renderer) would not accept."""


@dataclass(frozen=True)
class MenuSource:
    name: str
    definition: dict[str, Any]
    style: dict[str, Any]
    theme: dict[str, Any] = field(default_factory=dict)

    @property
    def alias(self) -> str:
        return self.name

    @property
    def size(self) -> tuple[int, int]:
        return self.definition["size"]["width"], self.definition["size"]["height"]


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MenuError(f"{path.name}: {exc}") from exc
    if not isinstance(data, dict):
        raise MenuError(f"{path.name}: expected a JSON object")
    return data


def _public(data: dict[str, Any]) -> dict[str, Any]:
    """Without the ``_comment`` keys people leave for each other."""
    return {k: v for k, v in data.items() if not k.startswith("_")}


def load_menus(root: Path = ROOT) -> list[MenuSource]:
    """Every definition with its style, checked; the guest menu first."""
    folder = root / DEFINITIONS
    theme = _public(_read(root / "theme.json")) if (root / "theme.json").exists() else {}
    menus = []
    for path in sorted(folder.glob("*.json")):
        if path.name.endswith(".style.json"):
            continue
        name = path.stem
        style_path = folder / f"{name}.style.json"
        style = _public(_read(style_path)) if style_path.exists() else {}
        menus.append(MenuSource(name, _read(path), style, {**theme, **style.get("theme", {})}))
    names = {m.name for m in menus}
    missing = [n for n in REQUIRED if n not in names]
    if missing:
        raise MenuError(f"{folder}: missing {', '.join(f'{n}.json' for n in missing)}")
    for menu in menus:
        check_menu(menu, names)
    return sorted(menus, key=lambda m: (m.name != GUEST_MENU, m.name))


def check_menu(menu: MenuSource, names: set[str]) -> None:
    """LINE's documented rules for a rich menu object, with the file and area named."""
    d, where = menu.definition, f"{menu.name}.json"
    if not NAME_RE.match(menu.name):
        raise MenuError(f"{where}: file names are used as alias ids: a-z, 0-9, - and _ only (at most 32)")
    for key in ("size", "selected", "name", "chatBarText", "areas"):
        if key not in d:
            raise MenuError(f"{where}: {key} is required")
    width, height = d["size"].get("width"), d["size"].get("height")
    if not (isinstance(width, int) and isinstance(height, int) and 800 <= width <= 2500 and height >= 250
            and width / height >= 1.45):
        raise MenuError(f"{where}: size {width}x{height}: width 800-2500, height at least 250, width/height at least 1.45 "
                        "(LINE's templates are 2500x1686 and 2500x843)")
    if not isinstance(d["chatBarText"], str) or not 1 <= len(d["chatBarText"]) <= MAX_CHAT_BAR:
        raise MenuError(f"{where}: chatBarText must be 1-{MAX_CHAT_BAR} characters")
    areas = d["areas"]
    if not isinstance(areas, list) or not 1 <= len(areas) <= MAX_AREAS:
        raise MenuError(f"{where}: areas: 1-{MAX_AREAS} areas")
    for i, area in enumerate(areas):
        _check_area(area, f"{where} areas[{i}]", width, height, names)
    tiles = menu.style.get("tiles")
    if tiles is not None and len(tiles) != len(areas):
        raise MenuError(f"{menu.name}.style.json: {len(tiles)} tiles for {len(areas)} areas (tiles[i] draws areas[i])")


def _check_area(area: dict[str, Any], where: str, width: int, height: int, names: set[str]) -> None:
    b = area.get("bounds") or {}
    x, y, w, h = (b.get(k) for k in ("x", "y", "width", "height"))
    if not all(isinstance(v, int) for v in (x, y, w, h)) or x < 0 or y < 0 or w < 1 or h < 1:
        raise MenuError(f"{where}: bounds need whole numbers x, y ≥ 0 and width, height ≥ 1")
    if x + w > width or y + h > height:
        raise MenuError(f"{where}: bounds {x},{y} {w}x{h} fall outside the {width}x{height} image")
    action = area.get("action") or {}
    kind = action.get("type")
    if kind not in ("postback", "message", "uri", "datetimepicker", "richmenuswitch", "camera", "cameraRoll", "location", "clipboard"):
        raise MenuError(f"{where}: unknown action type {kind!r}")
    if len(action.get("label") or "") > MAX_LABEL:
        raise MenuError(f"{where}: label longer than {MAX_LABEL} characters")
    if len(action.get("data") or "") > MAX_DATA:
        raise MenuError(f"{where}: data longer than {MAX_DATA} characters")
    if kind == "richmenuswitch":
        if not action.get("data") or not action.get("richMenuAliasId"):
            raise MenuError(f"{where}: richmenuswitch needs richMenuAliasId and data")
        if action["richMenuAliasId"] not in names:
            raise MenuError(f"{where}: no menu named {action['richMenuAliasId']!r} to switch to")
    if kind == "message" and not action.get("text"):
        raise MenuError(f"{where}: a message action needs text")
    if kind == "postback" and not action.get("data"):
        raise MenuError(f"{where}: a postback action needs data")
    if kind == "uri" and not str(action.get("uri", "")).startswith(("https://", "http://", "tel:", "line://")):
        raise MenuError(f"{where}: a uri action needs an http(s), tel: or line:// uri")
