"""Rich menu images drawn from the definitions: the areas' labels, the style's icons and captions,
the theme's colours. LINE takes PNG or JPEG of exactly the menu's size, at most 1 MB.

    richmenus/images/<name>.png         generated (commit it); re-drawn when its sources change
    richmenus/images/custom/<name>.png  a brand's own image (or .jpg): used as it is, once checked

A generated image carries a hash of what it was drawn from, so ``image_for`` draws again
only when a definition, style or the theme changed (or the drawing code did).
"""
from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

from richmenus.icons import draw_icon
from richmenus.menus import ROOT, MenuError, MenuSource, load_menus

RENDER_VERSION = 1  # bump when the drawing changes, so cached images are drawn again
SCALE = 2  # drawn at twice the size, then scaled down: smooth edges without antialiasing support
MAX_BYTES = 1024 * 1024
HASH_KEY = "richmenu-source"
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}
DEFAULT_THEME = {
    "canvas": "#EDE3D6", "card": "#FFFCF7", "ink": "#3B2A20", "muted": "#8C7763", "accent": "#6F4E37",
    "onAccent": "#FFFFFF", "onAccentMuted": "#E9D8C4", "tint": "#F4E8DA", "tabIdle": "#E3D7C8",
    "tabIdleInk": "#85705C", "format": "png",
}
FONT_PATHS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-{weight}.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-{weight}.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-{weight}.ttc",
)


class RenderError(MenuError):
    pass


@dataclass(frozen=True)
class MenuImage:
    name: str
    path: Path
    content_type: str
    data: bytes
    origin: str  # custom | cached | rendered

    def describe(self) -> str:
        kind = self.content_type.split("/")[1].upper()
        return f"{self.path.name}, {kind}, {len(self.data) / 1024:.0f} KB, {self.origin}"


# --- fonts -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Face:
    path: str
    index: int


def _fc_list() -> list[tuple[str, int, str, str]]:
    if not shutil.which("fc-list"):
        return []
    try:
        out = subprocess.run(["fc-list", ":lang=zh-tw", "--format", "%{file}\t%{index}\t%{family[0]}\t%{style[0]}\n"],
                             capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    rows = []
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 4 and parts[1].isdigit():
            rows.append((parts[0], int(parts[1]), parts[2], parts[3]))
    return rows


def _face_in(path: str, family: str = "Noto Sans CJK TC") -> Face | None:
    for index in range(12):
        try:
            if ImageFont.truetype(path, 10, index=index).getname()[0] == family:
                return Face(path, index)
        except OSError:
            return None
    return None


def find_face(weight: str, theme: dict[str, Any]) -> Face:
    """The theme's font, else Noto Sans CJK TC (fonts-noto-cjk), else any Traditional Chinese font."""
    explicit = theme.get("font" if weight == "Bold" else "fontRegular") or theme.get("font")
    if explicit:
        return Face(explicit, int(theme.get("fontIndex", 0)))
    for pattern in FONT_PATHS:
        face = _face_in(pattern.format(weight=weight)) if Path(pattern.format(weight=weight)).exists() else None
        if face:
            return face

    def score(row: tuple[str, int, str, str]) -> tuple[int, int, int]:
        _, _, family, style = row
        return ("Sans" in family and "Mono" not in family, "TC" in family, weight.lower() in style.lower())

    rows = sorted(_fc_list(), key=score, reverse=True)
    if rows:
        return Face(rows[0][0], rows[0][1])
    raise RenderError("No Traditional Chinese font found: install fonts-noto-cjk (apt-get install fonts-noto-cjk), "
                      'or name one with "font" in richmenus/theme.json')


class Fonts:
    def __init__(self, theme: dict[str, Any]) -> None:
        self.bold = find_face("Bold", theme)
        self.regular = find_face("Regular", theme)

    @staticmethod
    @lru_cache(maxsize=64)
    def _load(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(path, size, index=index)

    def get(self, size: float, *, bold: bool = True) -> ImageFont.FreeTypeFont:
        face = self.bold if bold else self.regular
        return self._load(face.path, face.index, max(8, round(size)))


# --- drawing -----------------------------------------------------------------------------

def _rgb(color: str) -> tuple[int, int, int]:
    c = color.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def mix(a: str, b: str, t: float) -> str:
    """Colour ``a`` moved by ``t`` (0..1) towards ``b``."""
    ra, rb = _rgb(a), _rgb(b)
    return "#" + "".join(f"{round(x + (y - x) * t):02X}" for x, y in zip(ra, rb))


@dataclass
class Tile:
    draw: ImageDraw.ImageDraw
    w: float
    h: float
    label: str
    spec: dict[str, Any]
    theme: dict[str, Any]
    fonts: Fonts

    def text(self, x: float, y: float, text: str, size: float, color: str, *, bold: bool = True,
             anchor: str = "mm", max_width: float | None = None) -> float:
        """Draw text, shrunk until it fits ``max_width``; returns its width."""
        limit = max_width or self.w * 0.88
        font = self.fonts.get(size, bold=bold)
        while font.getlength(text) > limit and size > 10:
            size *= 0.92
            font = self.fonts.get(size, bold=bold)
        self.draw.text((x, y), text, font=font, fill=color, anchor=anchor)
        return font.getlength(text)


def _tab(t: Tile) -> str:
    active = bool(t.spec.get("active"))
    fill = t.spec.get("background") or (t.theme["accent"] if active else t.theme["tabIdle"])
    t.draw.rectangle([0, 0, t.w, t.h], fill=fill)
    ink = t.spec.get("color") or (t.theme["onAccent"] if active else t.theme["tabIdleInk"])
    t.text(t.w / 2, t.h / 2, t.label, t.h * 0.38, ink)
    if active:
        t.draw.rectangle([t.w * 0.38, t.h - t.h * 0.09, t.w * 0.62, t.h], fill=mix(fill, "#FFFFFF", 0.55))
    return "rect"


def _tile(t: Tile) -> str:
    bg, accent = t.spec.get("background") or t.theme["card"], t.spec.get("color") or t.theme["accent"]
    t.draw.rectangle([0, 0, t.w, t.h], fill=bg)
    disk = min(t.w, t.h) * 0.38
    cx, cy = t.w / 2, t.h * 0.34
    t.draw.ellipse([cx - disk / 2, cy - disk / 2, cx + disk / 2, cy + disk / 2], fill=t.theme["tint"])
    draw_icon(t.draw, t.spec.get("icon", "card"), cx, cy, disk * 0.62, accent, t.theme["tint"])
    t.text(cx, t.h * 0.7, t.label, t.h * 0.13, t.theme["ink"])
    if t.spec.get("caption"):
        t.text(cx, t.h * 0.845, t.spec["caption"], t.h * 0.085, t.theme["muted"], bold=False)
    return "card"


def _decor(t: Tile, fill: str) -> None:
    """Two soft circles in a corner, for depth on the coloured cards."""
    r = max(t.w, t.h) * 0.42
    t.draw.ellipse([t.w - r * 1.2, -r * 0.9, t.w + r * 0.8, r * 1.1], fill=mix(fill, "#FFFFFF", 0.07))
    t.draw.ellipse([-r * 0.6, t.h - r * 0.5, r * 0.6, t.h + r * 0.7], fill=mix(fill, "#000000", 0.08))


def _hero(t: Tile) -> str:
    fill, ink = t.spec.get("background") or t.theme["accent"], t.spec.get("color") or t.theme["onAccent"]
    t.draw.rectangle([0, 0, t.w, t.h], fill=fill)
    _decor(t, fill)
    disk = t.w * 0.42
    cx, cy = t.w / 2, t.h * 0.4
    t.draw.ellipse([cx - disk / 2, cy - disk / 2, cx + disk / 2, cy + disk / 2], fill=ink)
    draw_icon(t.draw, t.spec.get("icon", "card"), cx, cy, disk * 0.6, fill, ink)
    t.text(cx, t.h * 0.67, t.label, t.w * 0.13, ink)
    if t.spec.get("caption"):
        t.text(cx, t.h * 0.77, t.spec["caption"], t.w * 0.064, t.theme["onAccentMuted"], bold=False)
    return "card"


def _banner(t: Tile) -> str:
    fill, ink = t.spec.get("background") or t.theme["accent"], t.spec.get("color") or t.theme["onAccent"]
    t.draw.rectangle([0, 0, t.w, t.h], fill=fill)
    _decor(t, fill)
    disk = t.h * 0.52
    cx, cy = t.w * 0.15, t.h / 2
    t.draw.ellipse([cx - disk / 2, cy - disk / 2, cx + disk / 2, cy + disk / 2], fill=ink)
    draw_icon(t.draw, t.spec.get("icon", "gift"), cx, cy, disk * 0.58, fill, ink)
    left, text_width = t.w * 0.28, t.w * 0.42
    t.text(left, t.h * 0.42, t.label, t.h * 0.2, ink, anchor="lm", max_width=text_width)
    if t.spec.get("caption"):
        t.text(left, t.h * 0.63, t.spec["caption"], t.h * 0.085, t.theme["onAccentMuted"], bold=False, anchor="lm",
               max_width=text_width)
    if t.spec.get("button"):
        bw, bh, bx = t.w * 0.2, t.h * 0.2, t.w * 0.83
        t.draw.rounded_rectangle([bx - bw / 2, cy - bh / 2, bx + bw / 2, cy + bh / 2], radius=bh / 2, fill=ink)
        t.text(bx, cy, f"{t.spec['button']} ›", bh * 0.42, fill, max_width=bw * 0.85)
    return "card"


def _header(t: Tile) -> str:
    fill, ink = t.spec.get("background") or t.theme["canvas"], t.spec.get("color") or t.theme["accent"]
    t.draw.rectangle([0, 0, t.w, t.h], fill=fill)
    width = t.text(t.w / 2, t.h / 2, t.label, t.h * 0.34, ink)
    gap, y = t.h * 0.3, t.h / 2
    line = max(2, round(t.h * 0.015))
    t.draw.line([t.w * 0.2, y, t.w / 2 - width / 2 - gap, y], fill=ink, width=line)
    t.draw.line([t.w / 2 + width / 2 + gap, y, t.w * 0.8, y], fill=ink, width=line)
    return "rect"


KINDS: dict[str, Callable[[Tile], str]] = {"tab": _tab, "tile": _tile, "hero": _hero, "banner": _banner, "header": _header}


def _paste(canvas: Image.Image, bounds: dict[str, int], spec: dict[str, Any], label: str, theme: dict[str, Any],
           fonts: Fonts) -> None:
    x, y, w, h = (bounds[k] * SCALE for k in ("x", "y", "width", "height"))
    kind = spec.get("kind", "tile")
    if kind not in KINDS:
        raise RenderError(f"unknown tile kind {kind!r} (one of {', '.join(KINDS)})")
    layer = Image.new("RGB", (w, h), theme["canvas"])
    try:
        shape = KINDS[kind](Tile(ImageDraw.Draw(layer), w, h, label, spec, theme, fonts))
    except ValueError as exc:
        raise RenderError(str(exc)) from exc
    mask = Image.new("L", (w, h), 255)
    if shape == "card":  # a rounded card with a gap around it
        mask = Image.new("L", (w, h), 0)
        gap = 10 * SCALE
        ImageDraw.Draw(mask).rounded_rectangle([gap, gap, w - gap, h - gap], radius=36 * SCALE, fill=255)
    canvas.paste(layer, (x, y), mask)


def draw_menu(menu: MenuSource, fonts: Fonts) -> Image.Image:
    """The menu's image, exactly its definition's size."""
    theme = {**DEFAULT_THEME, **menu.theme}
    width, height = menu.size
    canvas = Image.new("RGB", (width * SCALE, height * SCALE), theme["canvas"])
    for deco in menu.style.get("decorations", []):
        _paste(canvas, deco["bounds"], deco, deco.get("label", ""), theme, fonts)
    areas = menu.definition["areas"]
    for area, spec in zip(areas, menu.style.get("tiles") or [{} for _ in areas]):
        if spec.get("kind") == "none":  # drawn by a decoration, or left to the canvas
            continue
        label = spec.get("label") or area["action"].get("label") or ""
        _paste(canvas, area["bounds"], spec, label, theme, fonts)
    return canvas.resize((width, height), Image.Resampling.LANCZOS)


# --- files -------------------------------------------------------------------------------

def source_hash(menu: MenuSource) -> str:
    sources = [RENDER_VERSION, menu.definition, menu.style, menu.theme]
    return hashlib.sha256(json.dumps(sources, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:20]


def encode(image: Image.Image, digest: str, preferred: str = "png") -> tuple[bytes, str]:
    """PNG (with the source hash), or JPEG when PNG would pass LINE's 1 MB limit or the theme asks."""
    if preferred != "jpeg":
        info = PngImagePlugin.PngInfo()
        info.add_text(HASH_KEY, digest)
        out = io.BytesIO()
        image.save(out, "PNG", optimize=True, pnginfo=info)
        if out.tell() <= MAX_BYTES:
            return out.getvalue(), "PNG"
    for quality in (92, 85, 75, 60):
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality, optimize=True, comment=f"{HASH_KEY}={digest}")
        if out.tell() <= MAX_BYTES:
            return out.getvalue(), "JPEG"
    raise RenderError("the image stays above 1 MB even as a JPEG")


def check_image(path: Path, size: tuple[int, int]) -> str:
    """The content type of an image LINE will take for a menu of this size; RenderError otherwise."""
    data = path.read_bytes()
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt, actual = image.format, image.size
    except OSError as exc:
        raise RenderError(f"{path}: not an image ({exc})") from exc
    if fmt not in FORMATS:
        raise RenderError(f"{path}: {fmt} image; LINE takes PNG or JPEG")
    if actual != size:
        raise RenderError(f"{path}: {actual[0]}x{actual[1]}, but the menu is {size[0]}x{size[1]}")
    if len(data) > MAX_BYTES:
        raise RenderError(f"{path}: {len(data) / 1024:.0f} KB; LINE takes at most 1 MB")
    return FORMATS[fmt]


def _stored_hash(path: Path) -> str | None:
    try:
        with Image.open(path) as image:
            if image.format == "PNG":
                return image.info.get(HASH_KEY)
            comment = image.info.get("comment", b"")
            text = comment.decode() if isinstance(comment, bytes) else str(comment)
            return text.split("=", 1)[1] if text.startswith(f"{HASH_KEY}=") else None
    except (OSError, IndexError, UnicodeDecodeError):
        return None


def _existing(folder: Path, name: str) -> list[Path]:
    return [p for p in (folder / f"{name}.png", folder / f"{name}.jpg", folder / f"{name}.jpeg") if p.exists()]


def image_for(menu: MenuSource, root: Path = ROOT, *, force: bool = False, fonts: Fonts | None = None) -> MenuImage:
    """The brand's own image, else the generated one, drawn again when stale (or ``force``)."""
    custom = _existing(root / "images" / "custom", menu.name)
    if custom:
        content_type = check_image(custom[0], menu.size)
        return MenuImage(menu.name, custom[0], content_type, custom[0].read_bytes(), "custom")
    digest = source_hash(menu)
    folder = root / "images"
    for path in _existing(folder, menu.name):
        if not force and _stored_hash(path) == digest:
            return MenuImage(menu.name, path, check_image(path, menu.size), path.read_bytes(), "cached")
    data, fmt = encode(draw_menu(menu, fonts or Fonts({**DEFAULT_THEME, **menu.theme})), digest,
                       str(menu.theme.get("format", "png")).lower())
    for old in _existing(folder, menu.name):
        old.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{menu.name}.{'png' if fmt == 'PNG' else 'jpg'}"
    path.write_bytes(data)
    return MenuImage(menu.name, path, FORMATS[fmt], data, "rendered")


def prepare(root: Path = ROOT, *, force_render: bool = False) -> list[tuple[MenuSource, MenuImage]]:
    """The menus and their images (drawn when missing or stale); MenuError when one is not fit."""
    return [(menu, image_for(menu, root, force=force_render)) for menu in load_menus(root)]
