"""One alert per act: what the candidate did that the rules forbid, remembered while it lasts.

An act is a forbidden program running, or a forbidden site open in a tab, during one exam
phase. Several signals can tell of the same act: the process watcher finds Discord running
(``forbidden_process``) and the focus tracker sees the candidate go to its window
(``focus_lost``, category communication), in either order; the candidate comes back to the
webmail tab a second time. The first signal is the act's alert; every later one is still
recorded (journal, tile) but at level ``notice`` with ``act_of`` naming that alert, so the
supervisor reads one alert per act (core/data/kinds.toml: an event with ``act_of`` is never
an alert).

How signals are tied to one act: by key (``program:<label>``, ``host:<host>``, and
``pid:<n>`` for a program's processes: a window's pid ties it to the catalog entry whose
process that is, whatever each side calls it). An act ends (and the next signal is a new
alert) when the exam phase changes, when the process watcher says its program stopped, when
none of its processes runs any more, or when no tab is open on its host any more.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable, Iterable

import psutil


def pid_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except (psutil.Error, ValueError):
        return False


def program_key(label: str) -> str:
    return "program:" + label.strip().lower()


def host_key(host: str) -> str:
    return "host:" + host.strip().lower()


def pid_key(pid: int) -> str:
    return f"pid:{pid}"


@dataclass
class Act:
    alert_id: str                                       # the event that was this act's alert
    keys: set[str] = field(default_factory=set)         # what ties a later signal to it
    pids: set[int] = field(default_factory=set)         # it lasts while one of these runs...
    hosts: set[str] = field(default_factory=set)        # ...or a tab is open on one of these
    held: bool = False                                  # or until the process watcher says it stopped


class Acts:
    """The acts of the current exam phase (thread-safe: the process and focus loops share it)."""

    def __init__(self, *, alive: Callable[[int], bool] = pid_alive,
                 open_hosts: Callable[[], set[str] | None] = lambda: None) -> None:
        self.alive = alive
        # the hosts of the browser's open tabs (None: not known, e.g. no extension): a
        # host's act then lasts for the phase
        self.open_hosts = open_hosts
        self.acts: list[Act] = []
        self._lock = threading.Lock()

    def claim(self, alert_id: str, keys: Iterable[str], *, pids: Iterable[int] = (), hosts: Iterable[str] = (),
              held: bool = False) -> str | None:
        """A signal about to be an alert: None if it starts a new act (it is that act's alert),
        else the id of the alert of the act it belongs to (it must then not be an alert)."""
        keys, pids, hosts = set(keys), set(pids), {h.strip().lower() for h in hosts}
        with self._lock:
            self._prune()
            for act in self.acts:
                if act.keys & keys:
                    act.keys |= keys
                    act.pids |= pids
                    act.hosts |= hosts
                    act.held = act.held or held
                    return act.alert_id
            self.acts.append(Act(alert_id, keys, pids, hosts, held))
            return None

    def release(self, key: str) -> None:
        """The process watcher saw the program stop: its act is over (its next start is a new
        act, hence a new alert)."""
        with self._lock:
            self.acts = [act for act in self.acts if key not in act.keys]

    def attach(self, key: str, keys: Iterable[str], pids: Iterable[int]) -> None:
        """More processes of a program already in an act (an Electron app's helpers): a
        window of any of them belongs to the same act."""
        with self._lock:
            for act in self.acts:
                if key in act.keys:
                    act.keys |= set(keys)
                    act.pids |= set(pids)

    def prune(self) -> None:
        """Something closed (a tab, a window): forget the acts that are over."""
        with self._lock:
            self._prune()

    def reset(self) -> None:
        """A new exam phase: nothing done before counts as already alerted."""
        with self._lock:
            self.acts.clear()

    def snapshot(self) -> list[str]:
        with self._lock:
            return [act.alert_id for act in self.acts]

    def _prune(self) -> None:
        hosts = self.open_hosts()
        kept = []
        for act in self.acts:
            if act.held:
                kept.append(act)
            elif act.pids and any(self.alive(p) for p in act.pids):
                kept.append(act)
            elif act.hosts and (hosts is None or act.hosts & hosts):
                kept.append(act)
            elif not act.pids and not act.hosts:
                kept.append(act)   # nothing tells when it ends: it lasts for the phase
        self.acts = kept
