"""Alert groups and the bytes kept per machine: the part of the server (supervisor/service.py)
that follows what the store folds and counts in each write's transaction.

Groups (supervisor/alertgroups.py): their times on the server's clock, one stream message per
group a batch touched (``group``, after the batch's ``event`` and ``machine`` messages), a group
acknowledged at once up to what the supervisor saw. Bytes kept (the ``bytes_kept`` quota of
supervisor/quotas.py): read from the store once, then followed in memory (``_kept``) and
reserved before each write's await, so concurrent posts cannot all pass the check; with other
processes sharing the database (PostgreSQL), read at every request.
"""
from __future__ import annotations

from typing import Any

from core.kinds import kinds
from supervisor.clock import corrected
from supervisor.store import utcnow
from supervisor.watchdog import Key


class AlertsAndBytes:
    """Mixed into ``Server`` (its store, hub, liveness, fanout, quotas and publishing methods)."""

    store: Any        # supervisor/store.py Store
    hub: Any          # supervisor/live.py Hub
    liveness: Any     # supervisor/watchdog.py Liveness
    fanout: Any       # supervisor/fanout.py PgFanout, or None
    quotas: Any       # supervisor/quotas.py Quotas
    _kept: dict[Key, int]

    # -- the bytes kept per machine (its reports and event details as stored): its quota
    async def kept_bytes(self, who: Key) -> int:
        """What the database keeps for this machine. Read once, then followed in memory; with
        other processes writing too (PostgreSQL), read at every request."""
        known = self._kept.get(who)
        if known is None or self.fanout is not None:
            known = self._kept[who] = await self.store.machine_bytes(*who)
            if len(self._kept) > 50_000:  # bounded: a forgotten entry is read again
                self._kept.clear()
                self._kept[who] = known
        return known

    async def reserve_bytes(self, who: Key, size: int) -> None:
        """429 if storing ``size`` more bytes puts the machine over its quota; else counted at once
        (before the write's await: concurrent posts cannot all pass the check)."""
        kept = await self.kept_bytes(who)
        self.quotas.check_kept(kept, size)
        self._kept[who] = kept + size

    def _unreserve(self, who: Key, size: int) -> None:
        if size and who in self._kept:
            self._kept[who] -= size

    # -- alert groups (supervisor/alertgroups.py)
    def timed_group(self, room: str, group: dict[str, Any]) -> dict[str, Any]:
        """A group with its first and last times on the server's clock, as ``Server.timed`` does for events."""
        if kinds().get(group["kind"]).origin == "server":
            offset = None
        else:
            offset = self.liveness.get((room, group["machine_id"])).clock.offset_s
        return {**group, "first_at_corrected": corrected(group["first_at"], offset),
                "last_at_corrected": corrected(group["last_at"], offset)}

    async def publish_groups(self, room: str, gids: set[int], *, here_only: bool = False) -> None:
        """Tell the dashboards the groups' new counts and last alert (one message per group per batch)."""
        if not gids or (not self.hub.subscribers(room) and (self.fanout is None or here_only)):
            return
        for group in await self.store.alert_groups(room, None, len(gids), gids=sorted(gids)):
            data = self.timed_group(room, group)
            if here_only:
                self.hub.publish(room, "group", data)
            else:
                self.publish(room, "group", data, gid=group["gid"])

    async def ack_group(self, room: str, gid: int, by: str, upto: int | None = None) -> dict[str, Any] | None:
        """Acknowledge a group's open alerts (those up to seq ``upto``, by default all of them)."""
        acked = await self.store.ack_group(room, gid, 2**62 if upto is None else upto, by, utcnow())
        if acked is None:
            return None
        groups = await self.store.alert_groups(room, None, 1, gids=[gid])
        group = self.timed_group(room, groups[0])
        await self.publish_machine(room, group["machine_id"])
        self.publish(room, "group", group, gid=gid)
        return {"acked": acked, "group": group}
