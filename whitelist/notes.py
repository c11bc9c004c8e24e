"""What a probe saw, kept as a translation key and its fields until a language is known.

Probes run before anyone picks a language for them; the check renders the note in the
report's language (French or English) through the one translation table.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from core.i18n import t


@dataclass(frozen=True)
class Note:
    key: str
    fields: dict = field(default_factory=dict)

    def text(self, lang: str = "en") -> str:
        values = {k: (v.text(lang) if isinstance(v, Note) else v) for k, v in self.fields.items()}
        return t(self.key, lang, **values)

    def __str__(self) -> str:
        return self.text("en")


def note(key: str, **fields: object) -> Note:
    return Note(key, fields)
