"""Room-wide bandwidth test: the supervisor starts it, every enrolled machine downloads at once.

Nothing listens on candidates' machines: each companion keeps one long poll open
(``GET /agent/bandwidth-order``) that answers as soon as the supervisor orders a test, with the
delay after which to start (relative, so machines' clocks do not matter). Every machine then
downloads the same file for the same number of seconds and posts its rate; the dashboard polls
``GET /rooms/{code}/bandwidth-test`` for each machine's rate and the room's total, against the
room's machines times the policy's per-candidate rate.

Tests are kept in this server process's memory (the latest one per room): a test lasts seconds
and is re-run with one click; nothing of it is needed after a restart.
"""
from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, field_validator

from supervisor.apierror import ApiError

from supervisor.deps import get_server, machine_auth, room_of, supervisor_auth
from supervisor.service import Server
from supervisor.store import normalize_code, utcnow

router = APIRouter()
DEFAULT_URL = "https://dl.pix.fr/rec3JeDqiooMO30mG1623769711702/smartphone.png"  # checks/bandwidth.py's

LEAD_S = 3.0          # from the order to the start: every long poll has answered by then
MAX_WAIT_S = 30.0     # a long poll answers "nothing" after this, and the companion asks again
DEFAULT_SECONDS = 6.0
PER_CANDIDATE_MBPS = 0.5   # the policy's default (checks/policy.py); REFERENCE.md: TAO 0.16-0.5 per test taker


class BandwidthTestIn(BaseModel):
    url: str = Field(..., max_length=2000, description="the file every machine downloads (http or https)")
    seconds: float = Field(DEFAULT_SECONDS, ge=3, le=30, description="how long each machine downloads")

    @field_validator("url")
    @classmethod
    def _web_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("an http:// or https:// URL")
        return value.strip()


class BandwidthResultIn(BaseModel):
    test_id: str = Field(..., max_length=64)
    mbps: float | None = Field(None, ge=0, le=100_000)
    seconds: float = Field(0, ge=0, le=600)
    received: int = Field(0, ge=0)
    reason: str = Field("ok", max_length=40)
    detail: str = Field("", max_length=300)
    late_s: float = Field(0, ge=0, le=3600)


@dataclass
class _Test:
    id: str
    url: str
    seconds: float
    starts_at: float                   # the server's monotonic clock
    ordered_at: str                    # UTC, for the dashboard
    results: dict[str, dict[str, Any]] = field(default_factory=dict)


class BandwidthTests:
    """The latest test of each room, and the long polls waiting for one."""

    def __init__(self) -> None:
        self.latest: dict[str, _Test] = {}
        self.changed = asyncio.Condition()

    async def order(self, room: str, url: str, seconds: float) -> _Test:
        test = _Test(uuid.uuid4().hex, url, seconds, time.monotonic() + LEAD_S, utcnow())
        async with self.changed:
            self.latest[room] = test
            self.changed.notify_all()
        return test

    async def wait_order(self, room: str, after: str | None, wait: float) -> _Test | None:
        """A test of ``room`` other than ``after`` not over yet, waiting up to ``wait`` seconds."""
        def pending() -> _Test | None:
            test = self.latest.get(room)
            if test and test.id != after and time.monotonic() < test.starts_at + test.seconds:
                return test
            return None

        async with self.changed:
            try:
                await asyncio.wait_for(self.changed.wait_for(lambda: pending() is not None), timeout=wait)
            except asyncio.TimeoutError:
                return None
            return pending()


def _tests(request: Request) -> BandwidthTests:
    state = request.app.state
    if not hasattr(state, "bandwidth_tests"):
        state.bandwidth_tests = BandwidthTests()
    return state.bandwidth_tests


def _order(test: _Test) -> dict[str, Any]:
    return {"id": test.id, "url": test.url, "seconds": test.seconds,
            "starts_in_s": round(test.starts_at - time.monotonic(), 3), "ordered_at": test.ordered_at}


@router.post("/rooms/{code}/bandwidth-test", tags=["supervisor"])
async def start_test(code: str, body: BandwidthTestIn, request: Request, user: str = Depends(supervisor_auth),
                     server: Server = Depends(get_server)) -> dict[str, Any]:
    """Orders every machine of the room to download ``url`` for ``seconds``, all at once."""
    room = await room_of(code, server)
    test = await _tests(request).order(room["code"], body.url, body.seconds)
    return _order(test)


@router.get("/rooms/{code}/bandwidth-test", tags=["supervisor"])
async def test_state(code: str, request: Request, user: str = Depends(supervisor_auth),
                     server: Server = Depends(get_server)) -> dict[str, Any]:
    """The latest test: each machine's rate, the room's total, and what the room's candidates need."""
    room = await room_of(code, server)
    machines = await server.store.machines(room["code"])
    candidates = len(machines)
    test = _tests(request).latest.get(room["code"])
    need = round(candidates * PER_CANDIDATE_MBPS, 2)
    if test is None:
        return {"test": None, "machines": [], "total_mbps": None, "candidates": candidates,
                "per_candidate_mbps": PER_CANDIDATE_MBPS, "need_mbps": need, "default_url": DEFAULT_URL}
    names = {m["machine_id"]: m.get("hostname") or m["machine_id"] for m in machines}
    rows = [dict(result, machine_id=mid, hostname=names.get(mid, mid)) for mid, result in sorted(test.results.items())]
    total = round(sum(r["mbps"] or 0 for r in rows), 2)
    now = time.monotonic()
    phase = "waiting" if now < test.starts_at else ("running" if now < test.starts_at + test.seconds + 5 else "done")
    return {"test": dict(_order(test), phase=phase, answered=len(rows)), "machines": rows, "total_mbps": total,
            "candidates": candidates, "per_candidate_mbps": PER_CANDIDATE_MBPS, "need_mbps": need,
            "serves": int(total / PER_CANDIDATE_MBPS), "default_url": DEFAULT_URL}


@router.get("/agent/bandwidth-order", tags=["agent"])
async def wait_order(request: Request, after: str | None = Query(None, max_length=64),
                     wait: float = Query(MAX_WAIT_S, ge=0, le=MAX_WAIT_S),
                     who: tuple[str, str] = Depends(machine_auth),
                     server: Server = Depends(get_server)) -> dict[str, Any]:
    """Long poll: answers at once with a pending test (other than ``after``), else when one is
    ordered, else ``{"order": null}`` after ``wait`` seconds. Also the room's machine count
    (the check's default ``--candidates``)."""
    room, _machine = who
    test = await _tests(request).wait_order(normalize_code(room), after, wait)
    machines = await server.store.machines(normalize_code(room))
    return {"order": _order(test) if test else None, "room_machines": len(machines)}


@router.post("/agent/bandwidth-result", tags=["agent"])
async def post_result(body: BandwidthResultIn, request: Request, who: tuple[str, str] = Depends(machine_auth)) -> dict[str, Any]:
    room, machine = who
    test = _tests(request).latest.get(normalize_code(room))
    if test is None or test.id != body.test_id:
        raise ApiError(409, "stale_bandwidth_test", "this bandwidth test is not the room's latest one")
    test.results[machine] = {"mbps": None if body.mbps is None else round(body.mbps, 2), "seconds": body.seconds,
                             "received": body.received, "reason": body.reason, "detail": body.detail,
                             "late_s": body.late_s, "at": utcnow()}
    return {"stored": True}
