"""CSV files people open in a spreadsheet: every text cell is defused against formula injection.

A LINE display name such as ``=HYPERLINK("https://evil.example","點我")`` is a formula to Excel,
LibreOffice and Google Sheets. As OWASP advises (CSV Injection), a text cell that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading single quote, which the
spreadsheet shows as text. Only ``str`` values are touched: numbers, booleans and dates are our own
typed columns and stay as they are (a negative number stays a number); a phone number is text and
starts with 0, so it is left alone too.
"""
from __future__ import annotations

import csv
from typing import IO, Any, Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value a CSV cell may hold: text that would start a formula gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeWriter:
    """``csv.writer`` whose rows go through ``safe_cell``: the one way this app writes CSV."""

    def __init__(self, out: IO[str]) -> None:
        self._writer = csv.writer(out)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(v) for v in row])


def csv_writer(out: IO[str]) -> SafeWriter:
    return SafeWriter(out)
