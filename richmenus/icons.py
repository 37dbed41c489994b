"""Line icons drawn with Pillow: no icon font or image files to install or license.

Each icon draws into a square of side ``s`` centred on (cx, cy), in unit coordinates from
-0.5 to 0.5, with strokes of the given colour; ``bg`` is the colour behind it (for cut-outs).
"""
from __future__ import annotations

import math
from typing import Callable

from PIL import ImageDraw

Point = tuple[float, float]


class Pen:
    def __init__(self, draw: ImageDraw.ImageDraw, cx: float, cy: float, s: float, color: str, bg: str) -> None:
        self.d, self.cx, self.cy, self.s, self.color, self.bg = draw, cx, cy, s, color, bg
        self.w = max(2, round(s * 0.07))

    def p(self, x: float, y: float) -> Point:
        return self.cx + x * self.s, self.cy + y * self.s

    def box(self, x0: float, y0: float, x1: float, y1: float) -> list[float]:
        return [*self.p(x0, y0), *self.p(x1, y1)]

    def line(self, *points: Point, width: float | None = None, color: str | None = None) -> None:
        """A polyline with round caps and joints."""
        w = width or self.w
        pts = [self.p(x, y) for x, y in points]
        self.d.line(pts, fill=color or self.color, width=round(w), joint="curve")
        for x, y in (pts[0], pts[-1]):
            r = w / 2
            self.d.ellipse([x - r, y - r, x + r, y + r], fill=color or self.color)

    def rect(self, x0: float, y0: float, x1: float, y1: float, radius: float = 0.0, fill: str | None = None,
             outline: bool = True) -> None:
        self.d.rounded_rectangle(self.box(x0, y0, x1, y1), radius=radius * self.s, fill=fill,
                                 outline=self.color if outline else None, width=self.w if outline else 0)

    def circle(self, x: float, y: float, r: float, fill: str | None = None, outline: bool = True) -> None:
        self.d.ellipse(self.box(x - r, y - r, x + r, y + r), fill=fill, outline=self.color if outline else None,
                       width=self.w if outline else 0)

    def arc(self, x0: float, y0: float, x1: float, y1: float, start: float, end: float) -> None:
        self.d.arc(self.box(x0, y0, x1, y1), start, end, fill=self.color, width=self.w)


def card(p: Pen) -> None:
    p.rect(-0.48, -0.32, 0.48, 0.32, radius=0.08)
    p.circle(-0.28, -0.12, 0.07, fill=p.color, outline=False)
    p.line((-0.34, 0.1), (-0.06, 0.1))
    p.line((-0.34, 0.2), (-0.16, 0.2))
    for x, y in ((0.06, -0.18), (0.26, -0.18), (0.06, 0.02)):  # a QR code's finder patterns
        p.rect(x, y, x + 0.14, y + 0.14, radius=0.02, fill=p.color, outline=False)
        p.rect(x + 0.04, y + 0.04, x + 0.1, y + 0.1, fill=p.bg, outline=False)
    p.rect(0.29, 0.05, 0.37, 0.13, fill=p.color, outline=False)


def stamps(p: Pen) -> None:
    for i in range(6):
        x, y = -0.32 + (i % 3) * 0.32, -0.17 + (i // 3) * 0.34
        if i < 4:
            p.circle(x, y, 0.13, fill=p.color, outline=False)
            p.line((x - 0.055, y), (x - 0.01, y + 0.045), (x + 0.06, y - 0.045), width=p.w * 0.6, color=p.bg)
        else:
            p.circle(x, y, 0.12)


def coupon(p: Pen) -> None:
    p.rect(-0.48, -0.3, 0.48, 0.3, radius=0.06)
    for x in (-0.48, 0.48):  # the ticket's notches
        p.circle(x, 0, 0.09, fill=p.bg, outline=False)
        p.arc(x - 0.09, -0.09, x + 0.09, 0.09, 270 if x < 0 else 90, 90 if x < 0 else 270)
    for y in (-0.22, -0.08, 0.06, 0.2):
        p.line((-0.16, y), (-0.16, y + 0.04), width=p.w * 0.7)
    p.circle(0.07, -0.1, 0.055)
    p.circle(0.29, 0.12, 0.055)
    p.line((0.3, -0.15), (0.06, 0.17))


def crown(p: Pen) -> None:
    p.line((-0.4, 0.22), (-0.46, -0.18), (-0.2, 0.02), (0, -0.3), (0.2, 0.02), (0.46, -0.18), (0.4, 0.22), (-0.4, 0.22))
    p.rect(-0.4, 0.3, 0.4, 0.38, radius=0.03, fill=p.color, outline=False)
    for x, y in ((-0.46, -0.18), (0, -0.3), (0.46, -0.18)):
        p.circle(x, y - 0.06, 0.055, fill=p.color, outline=False)


def _person(p: Pen, x: float, y: float, k: float) -> None:
    p.circle(x, y - 0.18 * k, 0.15 * k)
    p.arc(x - 0.3 * k, y + 0.06 * k, x + 0.3 * k, y + 0.66 * k, 180, 360)
    p.line((x - 0.3 * k, y + 0.36 * k), (x + 0.3 * k, y + 0.36 * k))


def invite(p: Pen) -> None:
    _person(p, -0.12, 0.0, 1.1)
    p.line((0.34, -0.3), (0.34, -0.02))
    p.line((0.2, -0.16), (0.48, -0.16))


def profile(p: Pen) -> None:
    p.rect(-0.48, -0.34, 0.48, 0.34, radius=0.07)
    _person(p, -0.22, -0.02, 0.6)
    p.line((0.02, -0.12), (0.32, -0.12))
    p.line((0.02, 0.0), (0.32, 0.0))
    p.line((0.02, 0.12), (0.22, 0.12))


def pin(p: Pen) -> None:
    cx, cy, r, tip = 0.0, -0.12, 0.3, 0.46
    offset = math.degrees(math.acos(r / (tip - cy)))
    arc = [(cx + r * math.cos(math.radians(a)), cy + r * math.sin(math.radians(a)))
           for a in [90 + offset + i * (360 - 2 * offset) / 40 for i in range(41)]]
    p.line((cx, tip), *arc, (cx, tip))
    p.circle(cx, cy, 0.1)


def cup(p: Pen) -> None:
    p.rect(-0.36, -0.06, 0.2, 0.34, radius=0.12)
    p.arc(0.06, 0.0, 0.42, 0.26, 270, 90)
    p.line((-0.46, 0.44), (0.32, 0.44))
    for x in (-0.2, -0.04, 0.12):
        p.arc(x - 0.05, -0.44, x + 0.05, -0.32, 90, 270)
        p.arc(x - 0.05, -0.32, x + 0.05, -0.2, 270, 90)


def gift(p: Pen) -> None:
    p.rect(-0.38, -0.04, 0.38, 0.42, radius=0.04)
    p.rect(-0.46, -0.2, 0.46, -0.04, radius=0.04)
    p.line((0, -0.2), (0, 0.42))
    p.arc(-0.3, -0.46, 0.0, -0.2, 0, 360)
    p.arc(0.0, -0.46, 0.3, -0.2, 0, 360)


ICONS: dict[str, Callable[[Pen], None]] = {
    "card": card, "stamps": stamps, "coupon": coupon, "crown": crown, "invite": invite,
    "profile": profile, "pin": pin, "cup": cup, "gift": gift,
}


def draw_icon(draw: ImageDraw.ImageDraw, name: str, cx: float, cy: float, s: float, color: str, bg: str) -> None:
    if name not in ICONS:
        raise ValueError(f"unknown icon {name!r} (one of {', '.join(sorted(ICONS))})")
    ICONS[name](Pen(draw, cx, cy, s, color, bg))
