"""Passwords and tokens of the supervisor server.

Facts read: nothing from the OS. The admin password is kept as an scrypt hash (RFC 7914,
hashlib) with a per-password random salt; tokens are random (``secrets``) and only their
SHA-256 is stored, so a stolen database file gives no usable token. Supervisor and
machine tokens carry different prefixes and live in different tables: one can never be
taken for the other.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Callable

from supervisor.throttle import Budget, address_key

SUPERVISOR_PREFIX = "sv_"
MACHINE_PREFIX = "mt_"

# scrypt cost: about 50 ms and 16 MiB per login on a school server, enough to make an
# offline guess of a stolen hash slow, small enough to log in without waiting.
_N, _R, _P = 2**14, 8, 1


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return "scrypt${}${}${}${}${}".format(_N, _R, _P, _b64(salt), _b64(digest))


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = hashlib.scrypt(password.encode("utf-8", "surrogatepass"), salt=_unb64(salt),
                                  n=int(n), r=int(r), p=int(p), dklen=len(_unb64(digest)))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(computed, _unb64(digest))


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LoginThrottle:
    """Failures per client address (unknown room codes at ``/enroll``): a decaying, bounded
    budget (supervisor/throttle.py). Logins use the finer ``LoginGuard`` of the same module."""

    def __init__(self, *, max_failures: int = 10, window_s: float = 300.0,
                 clock: Callable[[], float] | None = None) -> None:
        self._budget = Budget(max_failures, window_s, clock=clock)

    def wait_s(self, who: str) -> float:
        """Seconds before ``who`` may try again (0: now)."""
        return self._budget.wait_s(address_key(who))

    def failed(self, who: str, amount: float = 1.0) -> None:
        self._budget.add(address_key(who), amount)

    def succeeded(self, who: str) -> None:
        """An attempt charged in advance (``failed`` before the await) turned out fine: refund it."""
        self.failed(who, -1.0)
