"""Bad input: the one exception that becomes "one clear line and exit code 2"."""
from __future__ import annotations


class BadInput(Exception):
    """A file or value the user gave us is wrong.

    ``where`` is "FILE" or "FILE:LINE"; ``hint`` says how to fix it. The CLI prints
    ``examroom: WHERE: WHAT (HINT)`` and exits 2, never a traceback.

    Raised with :meth:`keyed`, the message is a translation key: the loaders that raise it
    do not know the user's language, the CLI printing it does (``line(lang)``). ``what``
    and ``hint`` then hold the English text, for logs and ``str(exc)``.
    """

    def __init__(self, what: str, where: str | None = None, hint: str | None = None):
        super().__init__(what)
        self.what = what
        self.where = where
        self.hint = hint
        self.key: str | None = None
        self.hint_key: str | None = None
        self.fields: dict[str, object] = {}

    @classmethod
    def keyed(cls, key: str, where: str | None = None, hint_key: str | None = None, /,
              **fields: object) -> BadInput:
        from core.i18n import t

        exc = cls(t(key, "en", **fields), where, t(hint_key, "en", **fields) if hint_key else None)
        exc.key, exc.hint_key, exc.fields = key, hint_key, fields
        return exc

    def line(self, lang: str | None = None) -> str:
        what, hint = self.what, self.hint
        if lang and self.key:
            from core.i18n import t

            what = t(self.key, lang, **self.fields)
            hint = t(self.hint_key, lang, **self.fields) if self.hint_key else None
        text = f"{self.where}: {what}" if self.where else what
        if hint:
            text += f" ({hint})"
        return text


class NotAvailable(Exception):
    """A command or output whose issue is still open: "not available yet", exit 2."""
