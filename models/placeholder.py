"""Placeholders in member-facing texts: ``{key}`` is replaced by a known value, and nothing else.

Marketers write journey messages and a brand overrides the text table (handlers/texts.py); both
are filled here, never with ``str.format``, which evaluates attribute and index access on live
objects (``{brand.__class__.__init__.__globals__}``) and format specs (``{name:>400000000}``
builds a 400 MB string).

    {{  }}       a literal brace (str.format's escapes: texts saved before keep their meaning)
    {key}        the value for key (ASCII letters, digits and _)
    {key:,}      the number with thousands separators: only where the caller allows it (the text table)

``check`` refuses anything else in braces (a stray brace too) when a text is saved; ``render``
never evaluates it: a text saved before this rule is sent with it as written.
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Collection, Mapping

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_FIELD = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(:,)?")


class PlaceholderError(ValueError):
    """A placeholder that is not ``{key}`` with a known key; ``placeholder`` is it as written."""

    def __init__(self, placeholder: str, message: str) -> None:
        super().__init__(message)
        self.placeholder = placeholder


def _field(token: str, inner: str | None, grouping: bool) -> tuple[str, bool] | None:
    """(key, with thousands separators) for a well-formed placeholder, else None."""
    if inner is None:
        return None
    match = _FIELD.fullmatch(inner)
    if match is None or (match.group(2) and not grouping):
        return None
    return match.group(1), bool(match.group(2))


def check(template: str, keys: Collection[str] | None, *, grouping: bool = False) -> None:
    """Raise PlaceholderError for the first placeholder that is not ``{key}`` with a key in ``keys``
    (None: any key), or ``{key:,}`` when ``grouping``."""
    usable = "" if keys is None else f"; placeholders: {' '.join('{' + k + '}' for k in keys)}"
    for match in _TOKEN.finditer(template):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        field = _field(token, match.group(1), grouping)
        if field is None:
            what = "a lone brace (write {{ or }} for one)" if len(token) == 1 else "only {name}-style placeholders, without . [ ] ! or :"
            raise PlaceholderError(token, f"{token[:40]}: {what}{usable}")
        if keys is not None and field[0] not in keys:
            raise PlaceholderError(token, f"{token[:40]} is not a placeholder{usable}")


def render(template: str, values: Mapping[str, object], *, grouping: bool = False, strict: bool = False) -> str:
    """The template with each ``{key}`` replaced by ``str(values[key])``. Anything else in braces,
    and keys without a value, stay as written; ``strict`` raises instead (PlaceholderError, KeyError)."""

    def fill(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        field = _field(token, match.group(1), grouping)
        if field is None:
            if strict:
                raise PlaceholderError(token, f"{token}: only {{name}}-style placeholders")
            return token
        key, separators = field
        if key not in values:
            if strict:
                raise KeyError(key)
            return token
        value = values[key]
        if separators and isinstance(value, (int, Decimal, float)) and not isinstance(value, bool):
            return f"{value:,}"
        return str(value)

    return _TOKEN.sub(fill, template)
