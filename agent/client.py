"""The agent's side of the supervisor API: enrolment, reports, events, heartbeats.

Facts read: the server URL, the room code, ``state_dir()/enrolment.json`` (machine tokens
and the secret binding the machine id, keyed by server URL and room code) and ``state_dir()/outbox.sqlite`` (reports waiting to be
sent). HTTPS is verified against the system's CAs or ``--ca-file``. No automatic retry here:
the caller (``check``, the companion's loop) decides when to try again.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from core.i18n import t
from core.report import Machine, Report
from core.state import state_dir
from core.errors import BadInput
from core.oserror import describe, os_error_key

API = "/api/v1"
# One enrolment at a time in this process: two clients (the companion's event and heartbeat
# threads) must not both enrol, since each enrolment revokes the previous token.
_ENROL_LOCK = threading.RLock()
# A machine token lasts what the server says (``token_lifetime_s``, 30 days by default): it is
# renewed (enrolling again with the machine's secret) once this share of it has gone by, so an
# expiry never interrupts a session; an expired one (machine off for weeks) is renewed at its
# first refusal. A failed renewal is tried again after RENEW_RETRY_S at most.
RENEW_AT = 0.8
RENEW_RETRY_S = 60.0
log = logging.getLogger("examroom.client")


class ServerUnreachable(Exception):
    """Network error, timeout or 5xx: try again later (exit code 3 for ``check``)."""


class ServerRefused(Exception):
    """The server answered 4xx: bad room code, revoked token, invalid data..."""

    def __init__(self, message: str, status: int = 400, code: str = "") -> None:
        super().__init__(message)
        self.status, self.code = status, code


def _room_key(server: str, room_code: str) -> str:
    code = "".join(ch for ch in room_code.upper() if ch not in " -_\t")
    return f"{server}|{code}"


class ApiClient:
    def __init__(self, server: str, *, ca_file: str | None = None, timeout: float = 5.0,
                 lang: str = "en") -> None:
        self.server = server.strip().rstrip("/")
        self.timeout = timeout
        self.lang = lang
        if ca_file and not Path(ca_file).is_file():
            raise BadInput(t("client.bad_ca_file", lang, reason="not found"), ca_file,
                           t("client.bad_ca_file.hint", lang))
        self.session = requests.Session()
        for prefix in ("http://", "https://"):
            self.session.mount(prefix, HTTPAdapter(max_retries=0))
        # Passed with each request: a session-level value would lose to REQUESTS_CA_BUNDLE.
        self.verify: str | bool = ca_file or True
        self.token: str | None = None
        self.machine_id: str | None = None
        self._enrolment: tuple[str, Machine] | None = None
        self._renew_after: float | None = None   # time.time() when the token should be renewed
        self._renew_retry_at = 0.0

    # -- enrolment
    @staticmethod
    def _state_file() -> Path:
        return state_dir() / "enrolment.json"

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self._state_file().read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def _save(self, data: dict[str, Any]) -> None:
        path = self._state_file()
        tmp = path.with_suffix(".tmp")
        # The token is a credential: readable by this user only; replaced atomically.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    def ensure_enrolled(self, room_code: str, machine: Machine, *, force: bool = False,
                        failed_token: str | None = None) -> str:
        """Enrol once per (server, room); later calls reuse the stored token. Returns the machine id.

        ``force`` enrols again, unless the stored token is no longer ``failed_token``: another
        client of this machine (the companion's heartbeat thread, a ``check`` run) enrolled
        meanwhile, and its token is the valid one; enrolling again would revoke it in turn.
        """
        self._enrolment = (room_code, machine)
        key = _room_key(self.server, room_code)
        with _ENROL_LOCK:
            known = self._load().get(key)
            usable = isinstance(known, dict) and known.get("machine_id") == machine.id and known.get("token")
            if usable and (not force or known["token"] != failed_token):
                self.token, self.machine_id = known["token"], known["machine_id"]
                renew = known.get("renew_after")
                self._renew_after = float(renew) if isinstance(renew, (int, float)) else None
                return self.machine_id
            # The secret the first enrolment gave this machine: the server binds the machine id
            # to it, so that no other machine can take this one's identity.
            secret = known.get("secret") if isinstance(known, dict) and known.get("machine_id") == machine.id else None
            body = {"room_code": room_code, "machine": machine.model_dump(mode="json")}
            if secret:
                body["secret"] = secret
            reply = self._once("POST", "/enroll", body, auth=False)
            self.token, self.machine_id = reply["token"], reply["machine_id"]
            lifetime = reply.get("token_lifetime_s")
            # On this machine's clock (which may be off the server's): obtained now, renewed
            # after RENEW_AT of the lifetime; an older server gives none: never renewed early.
            self._renew_after = time.time() + RENEW_AT * lifetime \
                if isinstance(lifetime, (int, float)) and lifetime > 0 else None
            data = self._load()
            data[key] = {"machine_id": self.machine_id, "token": self.token,
                         "secret": reply.get("secret") or secret, "renew_after": self._renew_after}
            self._save(data)
        return self.machine_id

    # -- writes
    def post_report(self, report: Report) -> None:
        self._call("POST", "/reports", report.to_dict())

    def post_events(self, events: list[dict]) -> dict:
        return self._call("POST", "/events", {"events": events})

    def heartbeat(self, payload: dict) -> dict:
        return self._call("POST", "/heartbeat", payload)

    # -- transport
    def renew_if_due(self) -> bool:
        """Renew the machine token before it expires (enrolling again with the machine's secret,
        which the server accepts even when the room's enrolment is closed). True if renewed or
        adopted from another client of this machine; a failure is logged and tried again later,
        the current token goes on being used meanwhile."""
        now = time.time()
        if self._enrolment is None or self.token is None or self._renew_after is None \
                or now < self._renew_after or now < self._renew_retry_at:
            return False
        try:
            self.ensure_enrolled(*self._enrolment, force=True, failed_token=self.token)
        except (ServerUnreachable, ServerRefused) as exc:
            self._renew_retry_at = now + RENEW_RETRY_S
            log.warning("machine token renewal failed (tried again later): %s", exc)
            return False
        return True

    def _call(self, method: str, path: str, body: Any, *, auth: bool = True) -> dict:
        if auth:
            self.renew_if_due()
        try:
            return self._once(method, path, body, auth)
        except ServerRefused as exc:
            # Our token was revoked (this machine enrolled again elsewhere, or the server's
            # database was replaced) or expired: enrol again once, with the room code we were
            # given. Not when a supervisor revoked this machine: enrolling is refused too.
            if not (auth and exc.status == 401 and self._enrolment is not None) or exc.code == "machine_revoked":
                raise
            self.ensure_enrolled(*self._enrolment, force=True, failed_token=self.token)
            return self._once(method, path, body, auth)

    def _once(self, method: str, path: str, body: Any, auth: bool) -> dict:
        headers = {"Authorization": f"Bearer {self.token}"} if auth and self.token else {}
        try:
            reply = self.session.request(method, self.server + API + path, json=body, headers=headers,
                                         timeout=self.timeout, verify=self.verify)
        except requests.exceptions.SSLError:
            raise ServerUnreachable(t("client.tls_failed", self.lang)) from None
        except requests.RequestException as exc:
            # the OS's reason in the user's language ("connexion refusée"), else requests' innermost text
            raise ServerUnreachable(describe(exc, self.lang) if os_error_key(exc) else _short(exc)) from None
        if reply.status_code >= 500:
            raise ServerUnreachable(f"HTTP {reply.status_code}")
        try:
            data = reply.json()
        except ValueError:
            data = None
        if reply.status_code >= 400:
            code = data.get("code", "") if isinstance(data, dict) else ""
            message = data.get("error") if isinstance(data, dict) else None
            if code and t(f"client.error.{code}", self.lang) != f"client.error.{code}":
                message = t(f"client.error.{code}", self.lang)
            raise ServerRefused(str(message or f"HTTP {reply.status_code}"), reply.status_code, code)
        if not isinstance(data, dict):
            raise ServerUnreachable(f"not an examroom server (HTTP {reply.status_code}, no JSON)")
        return data


def _short(exc: Exception) -> str:
    """requests' messages nest three exceptions deep; keep the innermost reason."""
    text = str(exc)
    for marker in ("Caused by ", "] "):
        if marker in text:
            text = text.rsplit(marker, 1)[-1]
    return text.strip("()'\" ")[:200] or exc.__class__.__name__


# Refusals that concern the report itself (too large, invalid, not this machine's): sending
# it again cannot succeed, so it is set aside (kept on disk, kind "report_refused") instead of
# blocking every later report behind it.
_REFUSED_FOR_GOOD = (400, 403, 413, 422)


def upload_report(report: Report, *, server: str, room: str, ca_file: str | None, lang: str) -> str:
    """Queue the report durably, then send the queue (oldest first) to (server, room).

    On ServerUnreachable the report stays queued and the message says it will be sent next
    time; on a refusal of the room (bad code) it stays queued too and the user gets exit 2.
    """
    from agent.outbox import Outbox

    outbox = Outbox(state_dir() / "outbox.sqlite")
    target = _room_key(server.strip().rstrip("/"), room)
    try:
        current = outbox.put("report", {"target": target, "report": report.to_dict()})
        client = ApiClient(server, ca_file=ca_file, lang=lang)
        try:
            client.ensure_enrolled(room, report.machine)
            sent = 0
            for item_id, payload in outbox.peek("report", limit=1000):
                queued = payload.get("report") or {}
                # Only what was meant for this server and room, from this machine.
                if payload.get("target") != target or (queued.get("machine") or {}).get("id") != client.machine_id:
                    continue
                try:
                    client.post_report(Report.model_validate(queued))
                except ServerRefused as exc:
                    if exc.status not in _REFUSED_FOR_GOOD:
                        raise
                    outbox.put("report_refused", {**payload, "refused": str(exc)}, item_id=f"refused-{item_id}")
                    outbox.ack([item_id])
                    if item_id == current:
                        raise
                    continue
                outbox.ack([item_id])
                sent += 1
        except ServerUnreachable as exc:
            raise ServerUnreachable(t("client.unreachable", lang, server=server, reason=exc)) from None
        except ServerRefused as exc:
            raise BadInput(t("client.refused", lang, server=server, reason=exc), "--server/--room",
                           t("client.refused.hint", lang)) from None
    finally:
        outbox.close()
    if sent > 1:
        return t("client.uploaded_with_backlog", lang, server=server, room=room, count=sent - 1)
    return t("client.uploaded", lang, server=server, room=room)


def room_size(server: str, room: str, ca_file: str | None, lang: str) -> int | None:
    """How many machines the server knows in ``room`` (``examroom check``'s default
    ``--candidates``); None when the server cannot say (unreachable, refused)."""
    from agent.machine import describe_machine
    from core.host import Host

    try:
        client = ApiClient(server, ca_file=ca_file, lang=lang, timeout=3.0)
        client.ensure_enrolled(room, describe_machine(Host.current()))
        answer = client._call("GET", "/agent/bandwidth-order?wait=0", None)
    except (ServerUnreachable, ServerRefused, BadInput, OSError):
        return None
    size = answer.get("room_machines") if isinstance(answer, dict) else None
    return size if isinstance(size, int) and size > 0 else None
