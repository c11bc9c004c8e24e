"""Fan-out of room changes to Server-Sent Events subscribers (the dashboards).

One asyncio queue per subscriber, grouped by room; ``publish`` is called on the event loop
and never blocks: a dashboard that does not read (a laptop gone to sleep) gets its queue
replaced by an end-of-stream marker, its EventSource reconnects (``retry: 2000``) and the
page reloads the room, instead of the server buffering without bound.
"""
from __future__ import annotations

import asyncio
import json
from typing import Any, AsyncIterator, Awaitable, Callable

_END = None


def loop_time() -> float:
    return asyncio.get_running_loop().time()


def sse_message(event: str, data: Any) -> bytes:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # JSON never contains a raw newline, so one data: line is enough.
    return f"event: {event}\ndata: {text}\n\n".encode("utf-8")


class Hub:
    def __init__(self, *, max_queue: int = 2000, keepalive_s: float = 15.0) -> None:
        self._rooms: dict[str, set[asyncio.Queue]] = {}
        self._owners: dict[str, set[tuple[str, asyncio.Queue]]] = {}  # token hash -> its streams
        self.max_queue = max_queue
        self.keepalive_s = keepalive_s

    def subscribers(self, room: str) -> int:
        return len(self._rooms.get(room, ()))

    def subscribe(self, room: str) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(self.max_queue)
        self._rooms.setdefault(room, set()).add(queue)
        return queue

    def unsubscribe(self, room: str, queue: asyncio.Queue) -> None:
        subs = self._rooms.get(room)
        if subs is not None:
            subs.discard(queue)
            if not subs:
                del self._rooms[room]

    def publish(self, room: str, event: str, data: Any) -> None:
        subs = self._rooms.get(room)
        if not subs:
            return
        message = sse_message(event, data)
        for queue in list(subs):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                self._drop(room, queue)

    def _drop(self, room: str, queue: asyncio.Queue) -> None:
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(_END)
        self.unsubscribe(room, queue)

    def close_owner(self, owner: str) -> int:
        """End every stream opened with this token (logout); returns how many."""
        streams = self._owners.pop(owner, set())
        for room, queue in streams:
            self._drop(room, queue)
        return len(streams)

    def close_all(self) -> None:
        for room, subs in list(self._rooms.items()):
            for queue in list(subs):
                self._drop(room, queue)

    async def stream(self, room: str, *, owner: str | None = None,
                     still_valid: Callable[[], Awaitable[bool]] | None = None) -> AsyncIterator[bytes]:
        queue = self.subscribe(room)
        if owner is not None:
            self._owners.setdefault(owner, set()).add((room, queue))
        try:
            yield b"retry: 2000\n: connected\n\n"
            checked = loop_time()
            while True:
                try:
                    message = await asyncio.wait_for(queue.get(), self.keepalive_s)
                except asyncio.TimeoutError:
                    message = b": keep-alive\n\n"
                if message is _END:
                    return
                # At most once per keep-alive period, busy room or not: is the token still valid?
                if still_valid is not None and loop_time() - checked >= self.keepalive_s:
                    checked = loop_time()
                    if not await still_valid():
                        return  # expired (or revoked by another server process): the page logs in again
                yield message
        finally:
            self.unsubscribe(room, queue)
            if owner is not None:
                mine = self._owners.get(owner)
                if mine is not None:
                    mine.discard((room, queue))
                    if not mine:
                        del self._owners[owner]
