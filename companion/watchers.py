"""What the session runs: watchers behind one protocol.

A watcher has a ``name`` (its thread, its ``companion_error`` reports), ``run(stop)`` (its
loop, until ``stop`` is set; an exception restarts it, see ``Session._guarded``) and
``snapshot()`` (its state now, for the heartbeat and the status window). A new watcher is one
class with these three, appended to ``Session.watchers``; ``Loop`` adapts a plain loop
function (the forbidden-software scan, the network probe...) to the protocol.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable, Protocol, runtime_checkable


@runtime_checkable
class Watcher(Protocol):
    name: str

    def run(self, stop: threading.Event) -> None: ...

    def snapshot(self) -> dict: ...


@dataclass
class Loop:
    """A loop function and, optionally, how to read its state, as a Watcher."""

    name: str
    target: Callable[[threading.Event], None]
    state: Callable[[], dict] = field(default=lambda: {})

    def run(self, stop: threading.Event) -> None:
        self.target(stop)

    def snapshot(self) -> dict:
        return self.state()
