"""How strong a supervisor's password must be, and where it comes from.

At least 8 characters and not one of the passwords attackers try first
(``common_passwords.txt`` beside this module: why each is listed is said at its top).
The admin password is read from ``EXAMROOM_ADMIN_PASSWORD``, ``--admin-password-file`` or an
interactive prompt; ``--admin-password`` still works (the contract has it) but the password
is then visible to every local user in the process list, so the server says so.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from core.i18n import t
from core.errors import BadInput

MIN_LENGTH = 8
_LIST = Path(__file__).with_name("common_passwords.txt")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = _LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def weakness(password: str) -> str | None:
    """None if acceptable, else the i18n key saying why not."""
    if len(password) < MIN_LENGTH:
        return "server.password_too_short"
    if password.strip().lower() in common_passwords() or len(set(password)) == 1:
        return "server.password_common"
    return None


def require_strong(password: str, where: str, lang: str) -> None:
    why = weakness(password)
    if why is not None:
        raise BadInput(t(why, lang, min=MIN_LENGTH), where, t("server.password_weak.hint", lang, min=MIN_LENGTH))


def read_password_file(path: str, lang: str) -> str:
    """The first line of the file, without its line ending (an editor adds one)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(t("server.file_unreadable", lang, reason=getattr(exc, "strerror", None) or exc), path,
                       t("server.password_file.hint", lang)) from None
    first = text.splitlines()[0] if text else ""
    if not first:
        raise BadInput(t("server.password_file_empty", lang), path, t("server.password_file.hint", lang))
    return first
