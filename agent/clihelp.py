"""``examroom ... --help`` in the system's language.

The English help stays where each area declares its commands (the click decorators); the
French comes from the translation table (``core/i18n/help.toml``), keyed by command path
and parameter name. A French text is used only while its entry's English still equals the
code's (a test compares them), so a reworded option never shows a stale translation.
Click's own words (Usage, Options, "Show this message and exit.", [default: ...]) are
translated by the help formatter.
"""
from __future__ import annotations

import re
from typing import Iterator

import click

from core.i18n import has, t, table

# click's own phrases, as click 8 writes them, and their French
_CLICK_FR = {
    "Show this message and exit.": "Affiche cette aide et quitte.",
    "Show the version and exit.": "Affiche la version et quitte.",
}
_HEADINGS_FR = {"Options": "Options", "Commands": "Commandes", "Arguments": "Arguments"}
_BRACKETS_FR = (("default: ", "par défaut : "), ("required", "obligatoire"), ("; ", " ; "))
_BRACKET = re.compile(r"\[[^\[\]]*\]$")   # what click appends to an option's help: [default: 5; required]


def commands(root: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Command]]:
    """Every command of the tree with its table key (help.examroom, help.check, help.room.create...)."""
    yield ("help." + ".".join(path)) if path else "help.examroom", root
    if isinstance(root, click.Group):
        for name, sub in root.commands.items():
            yield from commands(sub, (*path, name))


def _translate_click(text: str) -> str:
    text = _CLICK_FR.get(text, text)
    match = _BRACKET.search(text)
    if not match:
        return text
    extra = match.group(0)
    for english, french in _BRACKETS_FR:
        extra = extra.replace(english, french)
    return text[:match.start()] + extra


class FrenchHelpFormatter(click.HelpFormatter):
    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, prefix="Utilisation : ")

    def write_heading(self, heading: str) -> None:
        # click writes "Options:"; French puts a space before the colon
        self.write(f"{'':>{self.current_indent}}{_HEADINGS_FR.get(heading, heading)} :\n")

    def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
        super().write_dl([(term, _translate_click(text)) for term, text in rows], col_max, col_spacing)


class FrenchContext(click.Context):
    formatter_class = FrenchHelpFormatter


def _french(key: str, english: str | None) -> str | None:
    """The French of ``key`` when its English is still the code's, else None."""
    entry = table().get(key)
    if not entry or english is None or _norm(entry.get("en", "")) != _norm(english):
        return None
    return entry.get("fr")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def localize(root: click.Command, lang: str) -> None:
    """Put the help texts of every command of ``root`` in ``lang`` (French or English)."""
    for key, command in commands(root):
        if has(f"{key}.epilog"):
            command.epilog = t(f"{key}.epilog", lang)
        if lang != "fr":
            continue
        command.context_class = FrenchContext   # per instance: each command makes its own context
        command.help = _french(key, command.help) or command.help
        if command.short_help:
            command.short_help = _french(key, command.short_help) or command.short_help
        for param in command.params:
            if isinstance(param, click.Option) and param.help:
                param.help = _french(f"{key}.{param.name}", param.help) or param.help
