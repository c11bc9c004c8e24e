"""The OS's error, said in the user's language.

Why: ``exc.strerror`` is the C library's English ("Connection refused", "Permission denied");
dropped into a French line it reads "connexion au serveur impossible (Connection refused)".
The errors a technician meets (network, files, disks) have their phrase in the table
(``core/i18n/oserror.toml``, key ``oserror.<errno name>``); any other keeps the OS's text.
Exceptions nested by libraries (requests -> urllib3 -> socket) are searched for the OS error
underneath.
"""
from __future__ import annotations

import errno
import socket
import ssl

from core.i18n import has, t


def os_error_key(exc: BaseException | None) -> str | None:
    """``oserror.ECONNREFUSED``-like key of the OS error in or under ``exc``, if the table has one."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (TimeoutError, socket.timeout)):
            return "oserror.ETIMEDOUT"
        if isinstance(exc, socket.gaierror):
            return "oserror.EAI"
        if isinstance(exc, OSError) and not isinstance(exc, ssl.SSLError) and exc.errno in errno.errorcode:
            key = f"oserror.{errno.errorcode[exc.errno]}"
            if has(key):
                return key
        # urllib3 keeps the cause in .reason; requests in args[0]; Python in __cause__/__context__
        inner = getattr(exc, "reason", None)
        if not isinstance(inner, BaseException):
            inner = next((a for a in getattr(exc, "args", ()) if isinstance(a, BaseException)), None)
        exc = inner or exc.__cause__ or exc.__context__
    return None


def describe(exc: BaseException, lang: str) -> str:
    """The error in ``lang`` when the table knows it, else the OS's own words."""
    key = os_error_key(exc)
    if key is not None:
        return t(key, lang)
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
