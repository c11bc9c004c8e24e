"""Forbidden software: the catalog (data/forbidden.toml) matched against running processes.

Facts read: psutil's process list (pid, name, executable path, parent), and on Windows the
executable's version resource (OriginalFilename, CompanyName) when readable. Rules against
false positives (each one from a real way to get it wrong):
- exact name match, case-insensitive, ".exe" stripped; never substrings ("zoom" is not
  "zoomit");
- names other software also uses (the entry's ``ambiguous``) count only when the executable's
  folder is known and contains one of the product's install paths;
- on Windows a process whose CompanyName is readable and is not the product's is not
  reported (a helper that merely shares a name); a renamed executable is still caught by
  its OriginalFilename or InternalName (companion/pemeta.py);
- our own process and its children are never reported; zombies are ignored;
- an Electron app runs a dozen processes with the same name: one ``started`` per catalog
  entry when its first process appears, one ``stopped`` when its last one ends.
"""
from __future__ import annotations

import logging
import os
import threading
import time
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Callable, Iterable

import psutil

from companion.acts import Acts, pid_key, program_key
from companion.identities import Identities
from core.events import Event, event

log = logging.getLogger(__name__)

Metadata = Callable[[str], dict | None]   # exe path -> {"original_filename", "internal_name", "company"} or None


def _norm(name: str) -> str:
    name = name.strip().lower()
    return name[:-4] if name.endswith(".exe") else name


@dataclass(frozen=True)
class Program:
    label: str
    category: str
    names: frozenset[str]
    paths: tuple[str, ...] = ()
    ambiguous: frozenset[str] = frozenset()
    original_filenames: frozenset[str] = frozenset()
    companies: tuple[str, ...] = ()
    args: frozenset[str] = frozenset()   # command-line words that make it this entry (ffmpeg x11grab)
    signatures: tuple[str, ...] = ()     # strings only this product's executable holds (renamed copies)


@dataclass(frozen=True)
class Proc:
    """One fact about a running process."""

    pid: int
    name: str
    exe: str = ""
    ppid: int | None = None


def load_catalog(os_name: str, text: str | None = None) -> list[Program]:
    if text is None:
        text = resources.files("companion").joinpath("data/forbidden.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    programs = []
    for entry in data.get("program", []):
        programs.append(Program(
            label=entry["label"], category=entry["category"],
            names=frozenset(_norm(n) for n in entry.get(os_name, [])),
            paths=tuple(p.lower() for p in entry.get("paths", [])),
            ambiguous=frozenset(_norm(n) for n in entry.get("ambiguous", [])),
            original_filenames=frozenset(_norm(n) for n in entry.get("original_filenames", [])),
            companies=tuple(c.lower() for c in entry.get("companies", [])),
            args=frozenset(a.lower() for a in entry.get("args", [])),
            signatures=tuple(entry.get("signatures", [])),
        ))
    return programs


def match(proc: Proc, catalog: Iterable[Program], metadata: Metadata | None = None,
          identities: Identities | None = None, cmdline: Callable[[int], list[str]] | None = None) -> Program | None:
    """The catalog entry this process is an instance of, or None (see the module's rules)."""
    if identities is not None and proc.exe:
        same = identities.program_of(proc.exe)
        if same is not None:
            return same   # a copy of an installed catalog program, whatever its name
    name = _norm(proc.name)
    exe_name = _norm(os.path.basename(proc.exe.replace("\\", "/"))) if proc.exe else ""
    meta = metadata(proc.exe) if (metadata and proc.exe) else None
    original = _norm(meta.get("original_filename") or "") if meta else ""
    internal = _norm(meta.get("internal_name") or "") if meta else ""   # "AnyDesk" for AnyDesk.exe
    company = (meta.get("company") or "").lower() if meta else ""
    # the folder only: the file's own name would always "contain" the product's name
    folder = os.path.dirname(proc.exe.lower().replace("\\", "/"))
    for program in catalog:
        by_name = name in program.names or (exe_name and exe_name in program.names)
        by_original = ((bool(original) and original in program.original_filenames)
                       or (bool(internal) and internal in program.original_filenames))
        if not (by_name or by_original):
            continue
        if company and program.companies and not any(c in company for c in program.companies):
            continue  # same name, another vendor: a helper that merely shares the name
        if by_name and not by_original and (name in program.ambiguous or exe_name in program.ambiguous):
            if not folder or not any(fragment in folder for fragment in program.paths):
                continue
        if program.args:
            words = {w.lower() for w in (cmdline or _cmdline)(proc.pid)}
            if not words & program.args:
                continue
        return program
    return None


def _cmdline(pid: int) -> list[str]:
    try:
        return psutil.Process(pid).cmdline()
    except (psutil.Error, OSError):
        return []


def list_processes() -> list[Proc]:
    procs = []
    for p in psutil.process_iter(["pid", "name", "exe", "ppid", "status"]):
        info = p.info
        if info.get("status") == psutil.STATUS_ZOMBIE:
            continue
        procs.append(Proc(pid=info["pid"], name=info.get("name") or "", exe=info.get("exe") or "",
                          ppid=info.get("ppid")))
    return procs


def _one(pid: int) -> Proc | None:
    try:
        proc = psutil.Process(pid)
        with proc.oneshot():
            if proc.status() == psutil.STATUS_ZOMBIE:
                return None
            try:
                exe = proc.exe()
            except psutil.AccessDenied:  # another user's process on Windows/macOS: the name still counts
                exe = ""
            return Proc(pid=pid, name=proc.name(), exe=exe or "", ppid=proc.ppid())
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return None


class ProcessLister:
    """The process list, read incrementally: only new pids are examined between full scans.

    Why: reading every process's name, path and parent every 2 s was most of the companion's
    CPU time (about 15 ms per scan for 140 processes). A full scan every ``full_every``
    calls catches what an incremental one cannot (a pid reused, a process that exec'd into
    another program).
    """

    def __init__(self, full_every: int = 10) -> None:
        self.full_every = max(1, full_every)
        self.cache: dict[int, Proc] = {}
        self.calls = 0
        self._fresh: set[int] = set()    # the pids new at the previous call: read once more

    def __call__(self) -> list[Proc]:
        if self.calls % self.full_every == 0:
            self.cache = {p.pid: p for p in list_processes()}
            self._fresh = set()
        else:
            current = set(psutil.pids())
            for pid in [pid for pid in self.cache if pid not in current]:
                del self.cache[pid]
            new = current - self.cache.keys()
            # a process just started is read twice (now and at the next call): right after
            # fork/exec its name may still be its launcher's or interpreter's (a program renames
            # itself with prctl a moment later), and the next full scan is up to 20 s away
            for pid in new | (self._fresh & current):
                proc = _one(pid)
                if proc is not None:
                    self.cache[pid] = proc
            self._fresh = new
        self.calls += 1
        return list(self.cache.values())


def own_family(procs: list[Proc], me: int) -> set[int]:
    """Our pid and all its descendants (the status window, a browser we started)."""
    children: dict[int, list[int]] = {}
    for p in procs:
        if p.ppid is not None:
            children.setdefault(p.ppid, []).append(p.pid)
    family, todo = set(), [me]
    while todo:
        pid = todo.pop()
        if pid not in family:
            family.add(pid)
            todo.extend(children.get(pid, []))
    return family


@dataclass
class _Running:
    program: Program
    first: Proc
    since: float
    pids: set[int] = field(default_factory=set)


class ForbiddenWatcher:
    """Scans the process list every ``interval_s``; emits ``forbidden_process`` events."""

    def __init__(self, catalog: list[Program], emit: Callable[[Event], None], *,
                 interval_s: float = 2.0, lister: Callable[[], list[Proc]] | None = None,
                 metadata: Metadata | None = None, me: int | None = None,
                 clock: Callable[[], float] = time.monotonic, identities: Identities | None = None,
                 find_installed: bool = False, acts: Acts | None = None) -> None:
        self.catalog = catalog
        self.acts = acts   # one alert per act: its window may have been alerted first
        self.emit = emit
        self.interval_s = interval_s
        # a full scan every ~20 s whatever the pace (between them only new pids are read)
        self.lister = lister or ProcessLister(full_every=max(1, round(20 / max(interval_s, 0.05))))
        self.metadata = metadata
        self.me = os.getpid() if me is None else me
        self.clock = clock
        self.identities = identities
        self.find_installed = find_installed  # hash the installed catalog programs when run() starts
        self.running: dict[str, _Running] = {}
        # a pid's verdict is cached: reading exe paths and version resources every 2 s for
        # every process would cost more CPU than the rest of the companion together
        self._verdicts: dict[tuple[int, str, str], Program | None] = {}
        self._lock = threading.Lock()

    def scan(self) -> list[Event]:
        procs = self.lister()
        family = own_family(procs, self.me)
        seen: dict[str, list[Proc]] = {}
        verdicts: dict[tuple[int, str, str], Program | None] = {}
        for proc in procs:
            if proc.pid in family:
                continue
            key = (proc.pid, proc.name, proc.exe)
            verdict = (self._verdicts[key] if key in self._verdicts
                       else match(proc, self.catalog, self.metadata, self.identities))
            verdicts[key] = verdict
            if verdict is not None:
                seen.setdefault(verdict.label, []).append(proc)
        self._verdicts = verdicts
        out: list[Event] = []
        with self._lock:
            for label, procs_of in seen.items():
                pids = {p.pid for p in procs_of}
                if label not in self.running:
                    first = min(procs_of, key=lambda p: p.pid)
                    program = next(p for p in self.catalog if p.label == label)
                    self.running[label] = _Running(program, first, self.clock())
                    out.append(self._started(program, first, pids))
                elif self.acts is not None and pids != self.running[label].pids:
                    self.acts.attach(program_key(label), [pid_key(p) for p in pids], pids)
                self.running[label].pids = pids
            for label in [l for l in self.running if l not in seen]:
                gone = self.running.pop(label)
                out.append(self._event(gone.program, gone.first, "stopped",
                                       duration_s=round(self.clock() - gone.since, 1)))
                if self.acts is not None:
                    self.acts.release(program_key(label))   # started again: a new act
        for ev in out:
            self.emit(ev)
        return out

    def _started(self, program: Program, proc: Proc, pids: set[int]) -> Event:
        """The program's start: an alert, unless its act was already alerted in this phase
        (its window had the focus first): then a notice naming that alert."""
        ev = self._event(program, proc, "started", level="alert")
        if self.acts is not None:
            first = self.acts.claim(ev.id, {program_key(program.label), *(pid_key(p) for p in pids)}, pids=pids,
                                    held=True)
            if first is not None:
                ev.details.update(level="notice", act_of=first)
        return ev

    @staticmethod
    def _event(program: Program, proc: Proc, state: str, **extra) -> Event:
        return event("forbidden_process", name=proc.name, exe=proc.exe, pid=proc.pid, program=program.label,
                     category=program.category, state=state, **extra)

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self.running)

    def run(self, stop: threading.Event) -> None:
        if self.identities is None and self.find_installed:
            try:
                self.identities = Identities(self.catalog)
            except Exception as exc:  # renamed copies then go unrecognised; names still count
                log.warning("installed programs not hashed: %s", exc)
        while not stop.is_set():
            try:
                self.scan()
            except Exception as exc:  # one bad scan must not end the watch
                log.warning("process scan failed: %s", exc)
            stop.wait(self.interval_s)


def cached_metadata(reader: Metadata) -> Metadata:
    """One read per executable path (version resources do not change while it runs); a
    reader that fails counts as "not readable", never as an error."""
    cache: dict[str, dict | None] = {}

    def read(exe: str) -> dict | None:
        if exe not in cache:
            try:
                cache[exe] = reader(exe)
            except Exception as exc:  # a locked or odd file must not stop the scan
                log.debug("version resource of %s: %s", exe, exc)
                cache[exe] = None
            if len(cache) > 4096:
                cache.clear()
        return cache[exe]
    return read


def metadata_reader(os_name: str) -> Metadata | None:
    """Windows: the version resource read by pefile (companion/pemeta.py; tested on real PE
    files), or by the OS's version.dll when pefile is missing."""
    if os_name != "windows":
        return None
    try:
        import pefile  # noqa: F401
    except ImportError:
        return cached_metadata(windows_metadata)
    from companion.pemeta import pe_metadata

    return cached_metadata(pe_metadata)


def windows_metadata(exe: str) -> dict | None:  # pragma: no cover - needs Windows
    """OriginalFilename and CompanyName from the executable's version resource (version.dll)."""
    import ctypes

    version = ctypes.windll.version
    size = version.GetFileVersionInfoSizeW(exe, None)
    if not size:
        return None
    buffer = ctypes.create_string_buffer(size)
    if not version.GetFileVersionInfoW(exe, 0, size, buffer):
        return None
    pointer, length = ctypes.c_void_p(), ctypes.c_uint()
    if not version.VerQueryValueW(buffer, r"\VarFileInfo\Translation", ctypes.byref(pointer), ctypes.byref(length)):
        return None
    lang, codepage = ctypes.cast(pointer, ctypes.POINTER(ctypes.c_ushort * 2)).contents
    out = {}
    for key, field_name in (("original_filename", "OriginalFilename"), ("company", "CompanyName")):
        query = f"\\StringFileInfo\\{lang:04x}{codepage:04x}\\{field_name}"
        if version.VerQueryValueW(buffer, query, ctypes.byref(pointer), ctypes.byref(length)) and length.value:
            out[key] = ctypes.wstring_at(pointer, length.value - 1)
    return out
