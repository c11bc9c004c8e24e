"""CSV that a spreadsheet opens as data, never as formulas (OWASP "CSV injection").

A cell whose text starts with ``= + - @``, a tab or a carriage return is read by Excel and
LibreOffice as a formula (``=HYPERLINK(...)`` becomes a live link, ``=cmd|...`` a DDE call).
Host names, OS names, summaries and remediation texts come from candidates' machines, so
every cell of every export goes through ``cell()``: such a text gets a leading apostrophe,
which spreadsheets show as text. The dashboard's own PV export does the same (supervisor/web/pv.js).
"""
from __future__ import annotations

import csv
from typing import Any, Iterable, TextIO

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


class SafeWriter:
    """``csv.writer`` whose rows are neutralised cell by cell."""

    def __init__(self, out: TextIO, **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([cell(value) for value in row])


def writer(out: TextIO, **options: Any) -> SafeWriter:
    return SafeWriter(out, **options)
