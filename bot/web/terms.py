"""The terms and privacy page (/terms), versioned as consents are.

A member consents to TERMS_VERSION and the version is recorded with the time (handlers/join.py), so
every version a member may have agreed to must stay readable: TERMS_DIR holds one ``<version>.md``
per published version (the brand's own text; a new version is a new file, an old file is never
edited). /terms shows the current version, ``/terms?version=2025-06`` an older one. Without TERMS_DIR
the built-in text (bot/web/terms/default.md) is the current version. The text is plain: ``# `` starts a
heading, a blank line a paragraph, ``1. `` a list item; ``{brand}`` and ``{version}`` are filled in;
everything is escaped.
"""
from __future__ import annotations

import re
from html import escape
from pathlib import Path

DEFAULT = Path(__file__).parent / "terms" / "default.md"
VERSION_RE = re.compile(r"^[A-Za-z0-9._-]{1,32}$")


def source(terms_dir: str | None, current: str, version: str | None) -> str | None:
    """The text of ``version`` (None: the current one), or None when there is no such version."""
    wanted = version or current
    if not VERSION_RE.match(wanted):
        return None
    if terms_dir is None:
        return DEFAULT.read_text(encoding="utf-8") if wanted == current else None
    path = Path(terms_dir) / f"{wanted}.md"
    return path.read_text(encoding="utf-8") if path.is_file() else None


ITEM = re.compile(r"^\d+\. ")


def to_html(text: str, *, brand: str, version: str) -> tuple[str, str]:
    """(title, body HTML) from the plain text; the first heading is the page's title."""
    text = text.replace("{brand}", brand).replace("{version}", version)
    title, parts = f"{brand} 會員條款與隱私權政策", []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [line.strip() for line in block.strip().splitlines() if line.strip()]
        if lines and lines[0].startswith("# "):
            heading = lines.pop(0)[2:].strip()
            if not parts:
                title = heading or title
            parts.append(f"<h{1 if len(parts) == 0 else 2}>{escape(heading)}</h{1 if len(parts) == 0 else 2}>")
        if not lines:
            continue
        if all(ITEM.match(line) for line in lines):
            items = "".join(f"<li>{escape(ITEM.sub('', line))}</li>" for line in lines)
            parts.append(f"<ol>{items}</ol>")
        else:
            parts.append("<p>" + "<br>".join(escape(line) for line in lines) + "</p>")
    return title, "\n".join(parts)
