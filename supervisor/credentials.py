"""Machine credentials and account sessions, the part of the server (supervisor/service.py)
that decides whether a token still works: machine tokens expire (``serve
--machine-token-days``), a supervisor revokes or removes a machine, an account removed or
changed loses its sessions.

Facts kept: the machines' token hashes (the store's machine rows, with ``enrolled_at``: when
the token was issued), records ``machine_revoked`` ("ROOM|id" -> when, by whom, its token
hashes) and ``revoked_token`` (hash -> the machine it was), kept until the machine is removed,
so its next post is told why it is refused and it cannot enrol again behind the supervisor's
back. Tokens found are cached in memory (``_tokens``, with their expiry); every revocation
bumps ``_token_generation`` so a lookup racing a revocation is not cached.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from typing import Any

from core.i18n import t
from supervisor.fanout import Notice
from supervisor.store import iso, utcnow

DEFAULT_MACHINE_TOKEN_DAYS = 30.0
audit = logging.getLogger("examroom.audit")  # who did what (serve prints it on its output)
REVOKED_NS, REVOKED_TOKEN_NS = "machine_revoked", "revoked_token"


def _epoch(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


class Credentials:
    """Mixed into ``Server`` (its store, hub, liveness, fanout and publishing methods)."""

    store: Any        # supervisor/store.py Store
    hub: Any          # supervisor/live.py Hub
    liveness: Any     # supervisor/watchdog.py Liveness
    fanout: Any       # supervisor/fanout.py PgFanout, or None
    settings: Any
    _tokens: dict[str, tuple[str, str, float]]
    _token_generation: int

    def audit(self, key: str, **fields: Any) -> None:
        """One dated line of who did what, in the server's language (serve prints them)."""
        audit.info(t(key, getattr(self.settings, "lang", "en"), **fields))

    @property
    def machine_token_s(self) -> float:
        """How long a machine token is valid after its enrolment (``serve --machine-token-days``)."""
        days = getattr(self.settings, "machine_token_days", None) or DEFAULT_MACHINE_TOKEN_DAYS
        return float(days) * 86400.0

    async def revoke_machine(self, room: str, machine_id: str, *, remove: bool, by: str = "?") -> bool:
        """A supervisor revokes (or removes) a machine: its token and secret are forgotten at once.

        Revoked, it stays refused (posts and enrolment: ``machine_revoked``) until removed;
        removed, its tile goes and its id is free again. Its reports and events stay either way
        (the journal and the PV d'incident keep what it sent), with a journal line saying who."""
        from supervisor.enrolment import forget_secret

        key = f"{room}|{machine_id}"
        found, revoked = await self.store.revoke_machine(room, machine_id, remove=remove)
        if not found:
            return False
        await forget_secret(self.store, room, machine_id)
        if revoked is not None:
            self._token_generation += 1
            self._tokens.pop(revoked, None)
            if self.fanout is not None:
                self.fanout.send(Notice(origin=self.fanout.origin, room=room, kind="revoke", token_hash=revoked))
        marker = await self.store.record(REVOKED_NS, key)
        tokens = list(marker[0].get("tokens", [])) if marker else []
        self.liveness.forget((room, machine_id))  # no companion_lost for a machine taken out
        if remove:
            for digest in tokens:  # now plainly unknown: the machine may enrol again
                await self.store.delete_record(REVOKED_TOKEN_NS, digest)
            await self.store.delete_record(REVOKED_NS, key)
            await self.server_event((room, machine_id), "machine_removed", {"by": by})
            self.audit("audit.machine_removed", by=by, machine=machine_id, room=room)
            self.publish(room, "machine_removed", {"machine_id": machine_id})
            return True
        now = utcnow()
        if revoked is not None:
            tokens.append(revoked)
            await self.store.put_record(REVOKED_TOKEN_NS, revoked, {"room": room, "machine_id": machine_id,
                                                                    "at": now, "by": by})
        if marker is None or revoked is not None:
            await self.store.put_record(REVOKED_NS, key, {"at": marker[0]["at"] if marker else now,
                                                          "by": marker[0]["by"] if marker else by,
                                                          "tokens": tokens[-20:]})
        if marker is None:
            await self.server_event((room, machine_id), "machine_revoked", {"by": by})
            self.audit("audit.machine_revoked", by=by, machine=machine_id, room=room)
        await self.publish_machine(room, machine_id)
        return True

    async def revoked_in(self, room: str) -> dict[str, dict[str, Any]]:
        """The room's revoked machines: machine id -> {at, by}."""
        prefix = f"{room}|"
        return {key[len(prefix):]: value for key, value, _ in await self.store.records(REVOKED_NS)
                if key.startswith(prefix)}

    async def _token_entry(self, token_hash: str) -> tuple[str, str, float] | None:
        known = self._tokens.get(token_hash)
        if known is not None:
            return known
        generation = self._token_generation
        found = await self.store.machine_token(token_hash)
        if found is None:
            return None
        entry = (found[0], found[1], _epoch(found[2]) + self.machine_token_s)
        # Cache only if no enrolment ran meanwhile: else this row may be a token just revoked.
        if generation == self._token_generation:
            self._tokens[token_hash] = entry
        return entry

    async def machine_for_token(self, token_hash: str) -> tuple[str, str] | None:
        """(room, machine id) of a valid machine token; None when unknown, revoked or expired."""
        entry = await self._token_entry(token_hash)
        if entry is None or entry[2] <= time.time():
            return None
        return entry[0], entry[1]

    async def token_refusal(self, token_hash: str) -> tuple[str, dict[str, Any]]:
        """Why a machine token is refused: ``token_expired``, ``machine_revoked`` or ``bad_token``."""
        entry = await self._token_entry(token_hash)
        if entry is not None and entry[2] <= time.time():
            return "token_expired", {"expired_at": iso(datetime.fromtimestamp(entry[2], timezone.utc)),
                                     "machine_id": entry[1]}
        found = await self.store.record(REVOKED_TOKEN_NS, token_hash)
        if found is not None:
            return "machine_revoked", {"machine_id": found[0]["machine_id"], "revoked_at": found[0]["at"],
                                       "revoked_by": found[0]["by"]}
        return "bad_token", {}

    async def end_sessions(self, username: str, keep: str | None = None) -> int:
        """An account removed or changed: its sessions end and their live streams close."""
        hashes = await self.store.remove_sessions_of(username, keep)
        for digest in hashes:
            self.hub.close_owner(digest)
        return len(hashes)
