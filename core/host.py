"""Host: every fact about the operating system is read through it.

Files (under ``root``), PATH and environment, commands, the Windows registry, the OS's
native APIs (ctypes on Windows, pyobjc on macOS: ``native()``), the user's home and id and
the clock all come from a Host, so that Windows and macOS detection run on Linux in tests
against a fake tree, a dict-backed registry and stand-in APIs. ``Host.current()`` is the
only place in examroom that looks at ``sys.platform``; probes never ask whether a host is
real: what differs is in what the Host gives them.
"""
from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Callable, Mapping, Protocol, Sequence, TypeVar

OS_LINUX, OS_WINDOWS, OS_MACOS = "linux", "windows", "macos"
OSES = (OS_LINUX, OS_WINDOWS, OS_MACOS)
T = TypeVar("T")


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    stdout: str
    stderr: str = ""
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


class Registry(Protocol):
    """The two reads examroom needs from the Windows registry.

    Paths are written as Windows shows them: ``HKLM\\SOFTWARE\\Microsoft\\...``.
    Missing keys give ``[]`` / ``{}``, never an exception.
    """

    def subkeys(self, path: str) -> list[str]: ...

    def values(self, path: str) -> dict[str, object]: ...


class DictRegistry:
    """A registry made of ``{key path: {value name: value}}``; keys are case-insensitive as on Windows.

    Parent keys need not be listed: ``subkeys`` derives them from the longer paths.
    """

    def __init__(self, data: Mapping[str, Mapping[str, object]]):
        self._values: dict[str, dict[str, object]] = {}
        self._children: dict[str, dict[str, str]] = {}
        for path, values in data.items():
            parts = _split_key(path)
            self._values.setdefault(_norm(parts), {}).update(values)
            for depth in range(1, len(parts)):
                parent = _norm(parts[:depth])
                self._children.setdefault(parent, {})[parts[depth].lower()] = parts[depth]
                self._values.setdefault(_norm(parts[: depth + 1]), {})

    def subkeys(self, path: str) -> list[str]:
        return sorted(self._children.get(_norm(_split_key(path)), {}).values(), key=str.lower)

    def values(self, path: str) -> dict[str, object]:
        return dict(self._values.get(_norm(_split_key(path)), {}))


def _split_key(path: str) -> list[str]:
    return [p for p in path.replace("/", "\\").split("\\") if p]


def _norm(parts: Sequence[str]) -> str:
    return "\\".join(parts).lower()


class WinRegistry:
    """The real registry (Windows only). Reads the 64-bit view so that a 32-bit Python sees
    the same keys as the system; WOW6432Node is read by its explicit path."""

    _HIVES = {
        "HKLM": "HKEY_LOCAL_MACHINE", "HKEY_LOCAL_MACHINE": "HKEY_LOCAL_MACHINE",
        "HKCU": "HKEY_CURRENT_USER", "HKEY_CURRENT_USER": "HKEY_CURRENT_USER",
        "HKCR": "HKEY_CLASSES_ROOT", "HKEY_CLASSES_ROOT": "HKEY_CLASSES_ROOT",
        "HKU": "HKEY_USERS", "HKEY_USERS": "HKEY_USERS",
    }

    def _open(self, path: str):
        import winreg  # only on Windows

        parts = _split_key(path)
        hive = getattr(winreg, self._HIVES[parts[0].upper()])
        access = winreg.KEY_READ | getattr(winreg, "KEY_WOW64_64KEY", 0)
        return winreg.OpenKey(hive, "\\".join(parts[1:]), 0, access)

    def subkeys(self, path: str) -> list[str]:
        import winreg

        try:
            key = self._open(path)
        except (OSError, KeyError):
            return []
        names: list[str] = []
        with key:
            index = 0
            while True:
                try:
                    names.append(winreg.EnumKey(key, index))
                except OSError:
                    return names
                index += 1

    def values(self, path: str) -> dict[str, object]:
        import winreg

        try:
            key = self._open(path)
        except (OSError, KeyError):
            return {}
        found: dict[str, object] = {}
        with key:
            index = 0
            while True:
                try:
                    name, value, _kind = winreg.EnumValue(key, index)
                except OSError:
                    return found
                found[name] = value
                index += 1


Runner = Callable[[Sequence[str], float], "CommandResult | None"]


def _real_runner(argv: Sequence[str], timeout: float) -> CommandResult | None:
    try:
        done = subprocess.run(
            list(argv), capture_output=True, text=True, errors="replace", timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        return None
    except PermissionError:
        return None
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return CommandResult(-1, out, "timed out", timed_out=True)
    except OSError as exc:
        return CommandResult(-1, "", str(exc))
    return CommandResult(done.returncode, done.stdout, done.stderr)


@dataclass
class Host:
    """The machine being examined, real or fake.

    ``root`` is where absolute paths of this OS are looked up: ``/`` for the real host, a
    temporary folder for a fake one (``C:\\Program Files`` becomes ``ROOT/C/Program Files``).
    """

    os: str
    root: Path = Path("/")
    env: Mapping[str, str] = field(default_factory=dict)
    runner: Runner = _real_runner
    registry: Registry | None = None
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    home: Path | None = None
    is_real: bool = False
    arch: str = ""
    os_version: str = ""
    # The home folder as this OS writes it ("/home/eleve", "C:/Users/eleve"); ``home`` is
    # where it is on this host (under ``root`` for a fake one).
    home_os: str = ""
    # The effective user id on Linux/macOS (0: root), None on Windows or when not known.
    euid: int | None = None
    # Native APIs by name: None for the real machine (each built on first use by the
    # factory the probe names), a dict of stand-ins for a fake host (see ``native``).
    native_apis: dict[str, Any] | None = None
    _native_built: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    # -- construction -------------------------------------------------------------------
    @classmethod
    def current(cls) -> "Host":
        if sys.platform.startswith("win"):
            name, registry = OS_WINDOWS, WinRegistry()
            version = platform.version()
        elif sys.platform == "darwin":
            name, registry = OS_MACOS, None
            version = platform.mac_ver()[0]
        else:
            name, registry = OS_LINUX, None
            version = _linux_version()
        return cls(
            os=name, root=Path("/") if name != OS_WINDOWS else Path(""), env=dict(os.environ),
            registry=registry, home=Path.home(), is_real=True, arch=platform.machine(),
            os_version=version, home_os=str(Path.home()),
            euid=os.geteuid() if hasattr(os, "geteuid") else None,
        )

    @classmethod
    def fake(
        cls,
        os: str,
        root: Path,
        *,
        env: Mapping[str, str] | None = None,
        commands: Mapping[tuple[str, ...] | str, "str | CommandResult"] | None = None,
        registry: Mapping[str, Mapping[str, object]] | Registry | None = None,
        now: datetime | None = None,
        home: str | None = None,
        native: Mapping[str, Any] | None = None,
        euid: int | None = None,
    ) -> "Host":
        """A host for tests. ``commands`` maps an argv tuple (or a program name alone, for
        any arguments) to its stdout or a CommandResult; other commands are "not found".
        ``native`` gives stand-ins for the OS's APIs by name (``"win32.displays"``...):
        an API not given is absent, as on a machine that lacks it."""
        table = dict(commands or {})

        def run(argv: Sequence[str], timeout: float) -> CommandResult | None:
            key = tuple(argv)
            base = (_basename(argv[0]),) + tuple(argv[1:])
            for candidate in (key, base, argv[0], base[0]):
                if candidate in table:
                    out = table[candidate]
                    return out if isinstance(out, CommandResult) else CommandResult(0, out)
            return None

        if registry is not None and not hasattr(registry, "subkeys"):
            registry = DictRegistry(registry)  # type: ignore[arg-type]
        moment = now or datetime(2026, 11, 22, 8, 0, tzinfo=timezone.utc)
        default_home = {"windows": "C:/Users/eleve", "macos": "/Users/eleve"}.get(os, "/home/eleve")
        natives = dict(native or {})
        if os == OS_WINDOWS:
            # A fake Windows host's drives are the one-letter folders of its root (ROOT/C, ROOT/D).
            natives.setdefault("win32.drives", lambda: sorted(
                p.name.upper() for p in Path(root).iterdir() if len(p.name) == 1 and p.name.isalpha() and p.is_dir())
                if Path(root).is_dir() else [])
        host = cls(os=os, root=Path(root), env=dict(env or {}), runner=run,
                   registry=registry, clock=lambda: moment, is_real=False, arch="x86_64",
                   home_os=home or default_home, euid=euid, native_apis=natives)
        host.home = host.path(host.home_os)
        return host

    # -- native APIs ----------------------------------------------------------------------
    def native(self, name: str, real: Callable[[], T]) -> T | None:
        """The OS API ``name`` (e.g. ``"win32.displays"``): on the real machine ``real()``,
        built once and kept; on a fake host the stand-in the test gave, else None (absent).

        ``real`` is only called on the real machine, so it may import ctypes.windll,
        winreg or pyobjc."""
        if self.native_apis is not None:
            return self.native_apis.get(name)
        if name not in self._native_built:
            self._native_built[name] = real()
        return self._native_built[name]

    # -- reads ----------------------------------------------------------------------------
    def path(self, p: str | Path) -> Path:
        """Where the OS path ``p`` is on this host."""
        if self.is_real:
            return Path(p)
        pure = PureWindowsPath(str(p)) if self.os == OS_WINDOWS else PurePosixPath(str(p))
        parts = list(pure.parts)
        if parts and pure.anchor:
            drive = pure.drive.rstrip(":")
            parts = ([drive] if drive else []) + parts[1:]
        return self.root.joinpath(*parts)

    def now(self) -> datetime:
        return self.clock()

    def os_path(self, path: Path) -> str:
        """The inverse of ``path()``: how this OS writes a path of this host (what a report shows)."""
        if self.is_real:
            return str(path)
        parts = path.relative_to(self.root).parts
        if self.os == OS_WINDOWS:
            return (f"{parts[0]}:\\" + "\\".join(parts[1:])) if parts else ""
        return "/" + "/".join(parts)

    def realpath(self, path: Path) -> Path:
        """``path`` with its symlinks followed, staying inside a fake host's root (the links of
        a fake tree are absolute paths of its OS or relative ones)."""
        if self.is_real:
            return Path(os.path.realpath(path))
        current = path
        for _ in range(16):
            try:
                link = os.readlink(current)
            except OSError:
                return current
            current = self.path(link) if link.startswith("/") else (current.parent / link)
            current = Path(os.path.normpath(current))
        return current

    def getenv(self, name: str, default: str | None = None) -> str | None:
        if self.os == OS_WINDOWS:  # Windows environment names are case-insensitive
            for key, value in self.env.items():
                if key.upper() == name.upper():
                    return value
            return default
        return self.env.get(name, default)

    def path_dirs(self) -> list[Path]:
        sep = ";" if self.os == OS_WINDOWS else ":"
        return [self.path(d) for d in (self.getenv("PATH") or "").split(sep) if d]

    def which(self, name: str) -> Path | None:
        """The program ``name`` as found on this host's PATH."""
        if self.is_real:
            found = shutil.which(name, path=self.getenv("PATH"))
            return Path(found) if found else None
        suffixes = [""]
        if self.os == OS_WINDOWS:
            suffixes += [s.lower() for s in (self.getenv("PATHEXT") or ".COM;.EXE;.BAT;.CMD").split(";")]
        for folder in self.path_dirs():
            for suffix in suffixes:
                candidate = folder / (name + suffix)
                if candidate.is_file() and (self.os == OS_WINDOWS or os.access(candidate, os.X_OK)):
                    return candidate
        return None

    def run(self, argv: Sequence[str | Path], timeout: float = 5.0) -> CommandResult | None:
        """Run a command; ``None`` when the program does not exist."""
        return self.runner([str(a) for a in argv], timeout)


def _basename(program: str) -> str:
    return program.replace("\\", "/").rsplit("/", 1)[-1]


def _linux_version() -> str:
    try:
        info = platform.freedesktop_os_release()
        return info.get("PRETTY_NAME") or info.get("NAME", "") + " " + info.get("VERSION_ID", "")
    except OSError:
        return platform.release()
