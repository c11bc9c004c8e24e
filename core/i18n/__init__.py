"""The one translation table: every user-facing string in French and English.

The table is split by area into TOML files beside this module (``checks.toml``,
``network.toml``, ``dashboard.toml``...), each entry a key with both languages::

    ["check.browser.title"]
    fr = "Navigateur récent"
    en = "Recent browser"

Texts use ``str.format`` fields: ``t("check.browser.old", lang, name="Chrome")``. A key
present in one file only, and both languages required, is enforced by the tests.
"""
from __future__ import annotations

import locale
import os
import tomllib
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Mapping

LANGS = ("fr", "en")
DEFAULT_LANG = "en"
_HERE = Path(__file__).parent


@lru_cache(maxsize=1)
def table() -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    # EXAMROOM_TEXTS: one more file of texts (the labels of a centre's own event kinds, given
    # with EXAMROOM_KINDS, see core/kinds.py); its keys may not redefine the bundled ones
    extra = [Path(os.environ["EXAMROOM_TEXTS"])] if os.environ.get("EXAMROOM_TEXTS") else []
    for path in sorted(_HERE.glob("*.toml")) + extra:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
        for key, texts in data.items():
            if key in merged:
                raise ValueError(f"{path.name}: translation key {key!r} is defined twice")
            merged[key] = texts
    return merged


def t(key: str, lang: str, /, **fields: object) -> str:
    """The text of ``key`` in ``lang``, with its fields filled in."""
    entry = table().get(key)
    if entry is None:
        # A missing key is a bug the table test catches; users still get something readable.
        return key
    text = entry.get(lang) or entry.get(DEFAULT_LANG) or key
    return text.format(**fields) if fields else text


def has(key: str) -> bool:
    return key in table()


def normalize(lang: str | None) -> str:
    """``fr_FR.UTF-8`` -> ``fr``; anything that is not French is English."""
    if not lang:
        return DEFAULT_LANG
    return "fr" if lang.lower().replace("-", "_").split("_")[0] == "fr" else "en"


def detect_lang(env: Mapping[str, str] | None = None) -> str:
    """The user's language: French when the system locale is French, else English."""
    env = os.environ if env is None else env
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name)
        if value and value not in ("C", "POSIX", "C.UTF-8"):
            return normalize(value.split(":")[0])
    try:  # Windows and macOS keep the language outside the environment
        code = locale.getlocale()[0] or ""
    except ValueError:
        code = ""
    if not code and os.name == "nt":  # pragma: no cover - Windows only
        import ctypes

        code = locale.windows_locale.get(ctypes.windll.kernel32.GetUserDefaultUILanguage(), "")
    return normalize(code) if code else DEFAULT_LANG


def join_list(parts, lang: str) -> str:
    """Causes or examples one after another: « a ; b » in French (a space before ;), "a; b" in English."""
    return (" ; " if lang == "fr" else "; ").join(str(p) for p in parts)


def fmt_number(value: float | int, lang: str, digits: int = 1) -> str:
    """1234.5 -> "1 234,5" in French (narrow no-break space), "1,234.5" in English."""
    text = f"{value:,.{digits}f}" if isinstance(value, float) or digits else f"{value:,}"
    if lang == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


_MONTHS_FR = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
              "septembre", "octobre", "novembre", "décembre"]
_MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December"]


def fmt_date(value: date | datetime | str | None, lang: str) -> str:
    """22 novembre 2026 / 22 November 2026; ISO strings are accepted."""
    value = _parse_iso(value)
    if value is None or isinstance(value, str):
        return value or ""
    months = _MONTHS_FR if lang == "fr" else _MONTHS_EN
    day = "1er" if lang == "fr" and value.day == 1 else str(value.day)
    return f"{day} {months[value.month - 1]} {value.year}"


def fmt_datetime(value: datetime | str | None, lang: str) -> str:
    """Local date and time: "22 novembre 2026 à 09:05" / "22 November 2026, 09:05"."""
    value = _parse_iso(value)
    if value is None or isinstance(value, str):
        return value or ""
    if value.tzinfo is not None:
        value = value.astimezone()
    sep = " à " if lang == "fr" else ", "
    return f"{fmt_date(value, lang)}{sep}{value:%H:%M}"


def _parse_iso(value):
    """An ISO string (reports write "...Z") as a datetime; other values, and unparseable
    strings (shown as they are), pass through."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    return value
