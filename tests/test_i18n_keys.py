"""Every key the code asks for exists in the one table, in French and English.

Scans the source tree for literal keys passed to ``t(`` / ``ctx.t(`` / ``self.t(`` (an
f-string key such as ``f"check.{i}.title"`` must match at least one key), then walks every
remediation of the table: keys named ``*remediation*`` or ``*.fix`` (the convention of the
check areas' tables), and every key the code passes as ``remediation=``.
"""
from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from core.i18n import LANGS, table

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "agent", "checks", "whitelist", "companion", "supervisor")
# t("key" / ctx.t(f"key.{x}" ...: a call of a function named t, then a string literal.
CALL = re.compile(r"""(?:(?<=[^\w])|^)t\(\s*(f?)(["'])([A-Za-z0-9_.{}\[\]'"\-]+?)\2\s*[,)]""", re.M)
REMEDIATION_ARG = re.compile(r"""remediation\s*=\s*(?:[\w.]*\.)?t\(\s*(f?)(["'])([^"']+)\2""")
KEY = re.compile(r"^[A-Za-z0-9_{}\-]+(\.[A-Za-z0-9_{}\-]+)+$")


def _sources() -> list[Path]:
    # The table's own module is skipped: its docstring shows a made-up example key.
    return [p for pkg in PACKAGES if (ROOT / pkg).is_dir() for p in sorted((ROOT / pkg).rglob("*.py"))
            if p != ROOT / "core" / "i18n" / "__init__.py"]


def _calls(pattern: re.Pattern) -> list[tuple[str, bool, str]]:
    found = []
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        for match in pattern.finditer(text):
            key, is_f = match.group(3), bool(match.group(1))
            if KEY.match(key):
                line = text.count("\n", 0, match.start()) + 1
                found.append((key, is_f, f"{path.relative_to(ROOT)}:{line}"))
    return found


def _matches(key: str, is_f: bool, keys: set[str]) -> list[str]:
    if not is_f:
        return [key] if key in keys else []
    regex = re.compile("^" + re.sub(r"\\\{[^}]*\\\}", "[^.]+(?:\\.[^.]+)*?", re.escape(key)) + "$")
    return [k for k in keys if regex.match(k)]


def test_the_scan_finds_the_calls_it_must():
    keys = {k for k, _f, _w in _calls(CALL)}
    # Guard against a regex that silently matches nothing.
    assert {"runner.timeout", "report.room.counts", "window.run_again", "cli.header"} <= keys
    assert any(f and k == "check.{i}.title" for k, f, _w in _calls(CALL))


def test_every_key_used_in_the_code_exists_in_both_languages():
    entries = table()
    keys = set(entries)
    missing, incomplete = [], []
    for key, is_f, where in _calls(CALL):
        hits = _matches(key, is_f, keys)
        if not hits:
            missing.append(f"{where}: {key}")
        for hit in hits:
            if any(not str(entries[hit].get(lang, "")).strip() for lang in LANGS):
                incomplete.append(f"{where}: {hit}")
    assert not missing, "keys used in the code but absent from core/i18n/*.toml:\n" + "\n".join(missing)
    assert not incomplete, "keys without both languages:\n" + "\n".join(incomplete)


def _remediation_keys() -> set[str]:
    keys = set(table())
    named = {k for k in keys if re.search(r"(^|[._])(remediation|fix)($|[._])", k)}
    passed = {hit for key, is_f, _w in _calls(REMEDIATION_ARG) for hit in _matches(key, is_f, keys)}
    return named | passed


def test_there_are_remediations_to_walk():
    assert "runner.error_remediation" in _remediation_keys()


@pytest.mark.parametrize("key", sorted(_remediation_keys()))
def test_every_remediation_is_written_in_french_and_english(key):
    entry = table()[key]
    for lang in LANGS:
        text = str(entry.get(lang, "")).strip()
        assert text, f"{key}: no {lang} text"
        assert len(text) >= 10, f"{key}: the {lang} remediation is too short to help: {text!r}"
    assert entry["fr"] != entry["en"] or entry["fr"].isupper(), f"{key}: the French text is the English one"


def _fields(text: str) -> set[str]:
    return {name.split(".")[0].split("[")[0] for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def test_both_languages_use_the_same_fields():
    """A field present in one language only would raise KeyError (or be lost) in the other."""
    bad = []
    for key, entry in table().items():
        fr, en = entry.get("fr", ""), entry.get("en", "")
        try:
            if _fields(fr) != _fields(en):
                bad.append(f"{key}: fr {sorted(_fields(fr))} / en {sorted(_fields(en))}")
        except ValueError as exc:
            bad.append(f"{key}: {exc}")
    assert not bad, "\n".join(bad)


# The crash test's own files (dashboard/server/companion texts are checked by their owners).
_CRASH_TEST_FILES = ("core", "software", "system", "network", "report", "inputs")


def test_french_punctuation_has_its_space_before_colon_semicolon_and_marks():
    """French typography: « Nom : valeur », « a ; b », never « Nom: valeur » (HTTP headers aside)."""
    import tomllib

    here = Path(__file__).resolve().parents[1] / "core" / "i18n"
    bad = []
    for name in _CRASH_TEST_FILES:
        with (here / f"{name}.toml").open("rb") as handle:
            for key, texts in tomllib.load(handle).items():
                french = re.sub(r"X-Squid-Error:", "", texts.get("fr", ""))  # a header name, verbatim
                if re.search(r"[^\s]([:;?!])(\s|$)", french):
                    bad.append(f"{name}.toml {key}: {texts['fr']}")
    assert not bad, "\n".join(bad)
    assert "fr" in table()["cli.cannot_write"] and " : " in table()["cli.cannot_write"]["fr"]
