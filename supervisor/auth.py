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
    """Failed logins per client address: after ``max_failures`` within ``window_s``, wait.

    scrypt already makes each guess cost ~50 ms of server time; this bounds how many guesses
    a pupil's machine on the school network can make (10 per 5 minutes by default).
    """

    def __init__(self, *, max_failures: int = 10, window_s: float = 300.0,
                 clock: Callable[[], float] | None = None) -> None:
        import time

        self.max_failures = max_failures
        self.window_s = window_s
        self._clock = clock or time.monotonic
        self._failures: dict[str, list[float]] = {}

    def _recent(self, who: str) -> list[float]:
        now = self._clock()
        kept = [at for at in self._failures.get(who, []) if now - at < self.window_s]
        if kept:
            self._failures[who] = kept
        else:
            self._failures.pop(who, None)
        return kept

    def wait_s(self, who: str) -> float:
        """Seconds before ``who`` may try again (0: now)."""
        recent = self._recent(who)
        if len(recent) < self.max_failures:
            return 0.0
        return max(0.0, recent[-self.max_failures] + self.window_s - self._clock())

    def failed(self, who: str) -> None:
        if len(self._failures) > 10_000:  # bounded memory whatever the number of addresses
            self._failures.clear()
        self._recent(who)
        self._failures.setdefault(who, []).append(self._clock())

    def succeeded(self, who: str) -> None:
        self._failures.pop(who, None)
