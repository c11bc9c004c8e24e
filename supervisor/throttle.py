"""Failed-attempt budgets that decay, stay bounded in memory, and hold under concurrency.

A ``Budget`` is a leaky bucket per key: each failure adds 1, the level drains at
``capacity / window_s`` per second, and a key whose level would pass ``capacity`` waits.
Memory is bounded (``max_keys``): when full, keys that have (almost) drained are forgotten
first, then the least-filled half; a flood of one failure from each of 10,000 addresses
therefore evicts itself, never the keys that are actually being throttled (there is no
clear-all to trigger).

``LoginGuard`` combines three budgets for ``POST /login``, checked and charged in one
synchronous step *before* the password hash is computed, so 300 concurrent guesses get at
most ``capacity`` checks (the others a 429 at once):

- per (account, address): 10 per 5 minutes - a pupil's machine guessing the admin password;
- per address, any account: 30 per 5 minutes - the same machine trying many account names;
- per account, from anywhere: 100 per hour - guesses spread over many addresses.

A browser that already logged in as an account holds a *device token* (HMAC-signed by this
server process, given at login). With it, its attempts are counted on (account, device)
only: someone else failing on the same school NAT address, or a distributed attack on the
account, cannot lock the real admin out of a browser they have used before (OWASP's
"device cookies"). A successful login refunds its charge and empties its (account, *) key.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import time
from dataclasses import dataclass, field
from typing import Callable, Hashable

Clock = Callable[[], float]


class Budget:
    def __init__(self, capacity: float, window_s: float, *, max_keys: int = 50_000,
                 clock: Clock | None = None) -> None:
        self.capacity = capacity
        self.rate = capacity / window_s  # drained per second
        self.max_keys = max_keys
        self._clock = clock or time.monotonic
        self._levels: dict[Hashable, tuple[float, float]] = {}  # key -> (level, when)

    def __len__(self) -> int:
        return len(self._levels)

    def level(self, key: Hashable) -> float:
        known = self._levels.get(key)
        if known is None:
            return 0.0
        level, at = known
        return max(0.0, level - (self._clock() - at) * self.rate)

    def wait_s(self, key: Hashable) -> float:
        """Seconds before one more attempt fits (0: now)."""
        over = self.level(key) + 1 - self.capacity
        return over / self.rate if over > 0 else 0.0

    def add(self, key: Hashable, amount: float = 1.0) -> None:
        level = self.level(key) + amount
        if key not in self._levels and len(self._levels) >= self.max_keys:
            self._make_room()
        if level <= 0:
            self._levels.pop(key, None)
        else:
            self._levels[key] = (level, self._clock())

    def reset(self, key: Hashable) -> None:
        self._levels.pop(key, None)

    def _make_room(self) -> None:
        levels = {key: self.level(key) for key in self._levels}
        for key, level in levels.items():
            if level < 1.0:
                del self._levels[key]
        if len(self._levels) >= self.max_keys * 0.9:
            keep = sorted(self._levels, key=levels.__getitem__, reverse=True)[: self.max_keys // 2]
            self._levels = {key: self._levels[key] for key in keep}


class TooManyAttempts(Exception):
    def __init__(self, wait_s: float) -> None:
        super().__init__(f"wait {wait_s:.0f} s")
        self.wait_s = wait_s


@dataclass
class Attempt:
    account: str
    charged: list[tuple[Budget, Hashable]] = field(default_factory=list)
    pair: tuple[Budget, Hashable] | None = None
    trusted: bool = False  # a known browser (device token): its hash is computed apart


def address_key(host: str) -> str:
    """IPv6 clients are counted per /64 (one home or school gets a whole /64 to rotate in)."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class LoginGuard:
    def __init__(self, *, clock: Clock | None = None, per_pair: int = 10, per_address: int = 30,
                 per_account: int = 100, max_keys: int = 50_000) -> None:
        self.pair = Budget(per_pair, 300.0, max_keys=max_keys, clock=clock)
        self.address = Budget(per_address, 300.0, max_keys=max_keys, clock=clock)
        self.account = Budget(per_account, 3600.0, max_keys=max_keys, clock=clock)
        self._key = secrets.token_bytes(32)  # per process: a restart only costs a device its trust

    # -- device tokens
    def device_token(self, account: str) -> str:
        device = secrets.token_urlsafe(12)
        return f"{device}.{self._sign(account, device)}"

    def device_of(self, account: str, token: str | None) -> str | None:
        if not token or len(token) > 200 or "." not in token:
            return None
        device, signature = token.rsplit(".", 1)
        return device if hmac.compare_digest(signature, self._sign(account, device)) else None

    def _sign(self, account: str, device: str) -> str:
        mac = hmac.new(self._key, f"{account}\0{device}".encode("utf-8", "surrogatepass"), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()[:18]).decode("ascii")

    # -- attempts
    def begin(self, account: str, host: str, device_token: str | None = None) -> Attempt:
        """Check every budget and charge them, atomically (no await in here). Raises TooManyAttempts."""
        account = account.lower()
        device = self.device_of(account, device_token)
        if device is not None:
            keys = [(self.pair, (account, "device", device))]
        else:
            address = address_key(host)
            keys = [(self.pair, (account, address)), (self.address, address), (self.account, account)]
        wait = max(budget.wait_s(key) for budget, key in keys)
        if wait > 0:
            raise TooManyAttempts(wait)
        for budget, key in keys:
            budget.add(key)
        return Attempt(account, keys, keys[0], trusted=device is not None)

    def succeeded(self, attempt: Attempt) -> str:
        """Refund the attempt, forget this client's failures; returns a device token for it."""
        for budget, key in attempt.charged:
            budget.add(key, -1.0)
        if attempt.pair is not None:
            attempt.pair[0].reset(attempt.pair[1])
        return self.device_token(attempt.account)
