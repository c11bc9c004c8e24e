"""Bad input: the one exception that becomes "one clear line and exit code 2"."""
from __future__ import annotations


class BadInput(Exception):
    """A file or value the user gave us is wrong.

    ``where`` is "FILE" or "FILE:LINE"; ``hint`` says how to fix it. The CLI prints
    ``examroom: WHERE: WHAT (HINT)`` and exits 2, never a traceback.
    """

    def __init__(self, what: str, where: str | None = None, hint: str | None = None):
        super().__init__(what)
        self.what = what
        self.where = where
        self.hint = hint

    def line(self) -> str:
        text = f"{self.where}: {self.what}" if self.where else self.what
        if self.hint:
            text += f" ({self.hint})"
        return text


class NotAvailable(Exception):
    """A command or output whose issue is still open: "not available yet", exit 2."""
