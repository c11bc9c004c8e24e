"""Slow and half-open connections are cut: header and body deadlines, a cap per address.

uvicorn closes idle keep-alive connections (``timeout_keep_alive``) but waits forever for a
request's headers or for a body shorter than its Content-Length: 200 sockets sending one
header byte a minute hold 200 file descriptors for good, and at the process's limit every
legitimate request fails. This protocol (uvicorn's httptools one, plus timers) closes:

- a connection whose request headers are not complete ``header_timeout`` seconds after its
  first byte (or after it opened, for one that never sends anything);
- a request whose body stalls ``body_idle`` seconds, or is not complete ``body_timeout``
  seconds after its headers;
- any connection beyond ``max_per_address`` open ones from the same address (a school behind
  one NAT address runs ~2 per machine: the default leaves room for a few rooms).

Responses are never cut: a Server-Sent Events stream lives as long as the dashboard reads it.
"""
from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_TIMEOUT_S = 10.0
BODY_TIMEOUT_S = 30.0
BODY_IDLE_S = 5.0
MAX_PER_ADDRESS = 256
_log = logging.getLogger("examroom.server")


def guarded_protocol(*, header_timeout: float = HEADER_TIMEOUT_S, body_timeout: float = BODY_TIMEOUT_S,
                     body_idle: float = BODY_IDLE_S, max_per_address: int = MAX_PER_ADDRESS) -> type:
    """A uvicorn ``http=`` protocol class with these limits (its own per-address counts)."""
    open_per_address: Counter = Counter()

    class GuardedHttpTools(HttpToolsProtocol):
        _timer: asyncio.TimerHandle | None = None
        _address: str | None = None
        _body_deadline = 0.0

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._address = self.client[0] if self.client else None
            if self._address is not None:
                open_per_address[self._address] += 1
                if open_per_address[self._address] > max_per_address:
                    if open_per_address[self._address] == max_per_address + 1:
                        _log.warning("%s has %d connections open: further ones are closed", self._address,
                                     max_per_address)
                    transport.close()
                    return
            self._arm(header_timeout, self._headers_too_slow)

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            if self._address is not None:
                open_per_address[self._address] -= 1
                if open_per_address[self._address] <= 0:
                    del open_per_address[self._address]
                self._address = None
            super().connection_lost(exc)

        # -- parser callbacks
        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm(header_timeout, self._headers_too_slow)

        def on_headers_complete(self) -> None:
            self._disarm()
            self._body_deadline = self.loop.time() + body_timeout
            super().on_headers_complete()
            self._arm(min(body_idle, body_timeout), self._body_too_slow)

        def on_body(self, body: bytes) -> None:
            super().on_body(body)
            self._arm(max(0.0, min(body_idle, self._body_deadline - self.loop.time())), self._body_too_slow)

        def on_message_complete(self) -> None:
            self._disarm()
            super().on_message_complete()

        # -- timers
        def _arm(self, delay: float, callback: Any) -> None:
            self._disarm()
            self._timer = self.loop.call_later(delay, callback)

        def _disarm(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

        def _headers_too_slow(self) -> None:
            self._timer = None
            if self.cycle is None or self.cycle.response_complete:
                self.transport.close()

        def _body_too_slow(self) -> None:
            self._timer = None
            # The route waiting for the rest of the body gets a disconnect and stops there.
            self.transport.close()

    return GuardedHttpTools
