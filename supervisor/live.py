"""Fan-out of room changes to Server-Sent Events subscribers (the dashboards).

One asyncio queue per subscriber, grouped by room; ``publish`` is called on the event loop
and never blocks: a dashboard that does not read (a laptop gone to sleep) gets its queue
replaced by an end-of-stream marker, its EventSource reconnects (``retry: 2000``) and the
page reloads the room, instead of the server buffering without bound.
"""
from __future__ import annotations

import asyncio
import json
from typing import Any, AsyncIterator

_END = None


def sse_message(event: str, data: Any) -> bytes:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # JSON never contains a raw newline, so one data: line is enough.
    return f"event: {event}\ndata: {text}\n\n".encode("utf-8")


class Hub:
    def __init__(self, *, max_queue: int = 2000, keepalive_s: float = 15.0) -> None:
        self._rooms: dict[str, set[asyncio.Queue]] = {}
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

    def close_all(self) -> None:
        for room, subs in list(self._rooms.items()):
            for queue in list(subs):
                self._drop(room, queue)

    async def stream(self, room: str) -> AsyncIterator[bytes]:
        queue = self.subscribe(room)
        try:
            yield b"retry: 2000\n: connected\n\n"
            while True:
                try:
                    message = await asyncio.wait_for(queue.get(), self.keepalive_s)
                except asyncio.TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                if message is _END:
                    return
                yield message
        finally:
            self.unsubscribe(room, queue)
