"""The software inventory: every browser, office suite, PDF reader, image and video editor
found on the host, computed once per Host and shared by the five software checks.

What to look for comes from ``checks/data/software.toml`` (the catalog); where to look is
the per-OS probe (``software_linux.py``: PATH resolved to the owning package (dpkg file lists and
diversions) or else ``--version``, XDG .desktop files, flatpak, snap, dpkg, rpm; ``software_windows.py``: Uninstall keys, App Paths, Click-to-Run, the .pdf association;
``software_macos.py``: Info.plist of .app bundles; ``winportable.py``: portable copies on the drives).
Facts only: no judgement of ages here.
"""
from __future__ import annotations

import re
import threading
import time
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from checks.probes import for_os
from core.host import Host
from checks.probes.parsing import version_key

CATALOG_FILE = Path(__file__).resolve().parent.parent / "data" / "software.toml"
COMPONENTS = ("spreadsheet", "word_processor", "presentation", "drawing")
# What each software_<os>.py implements (checks.probes.for_os; tests/test_probe_contracts.py).
OS_FUNCTIONS = ("find_programs", "pdf_default")

# Which source's version to believe first when several describe one install: what the
# program says about itself, then what the installer recorded, then package databases;
# .desktop files carry no version. (On Linux, --version is only asked of programs no package
# owns, so a package's version and a --version output rarely meet.)
_SOURCE_RANK = {"click_to_run": 0, "version_output": 1, "bundle": 1, "registry": 2, "portable": 2, "snap": 3,
                "flatpak": 3, "dpkg": 4, "rpm": 4, "app_paths": 6, "path": 7, "desktop": 8}


@dataclass(frozen=True)
class CatalogEntry:
    key: str
    name: str
    kind: str
    series: str | None = None
    pdf_builtin: bool = False
    exe: tuple[str, ...] = ()
    desktop: tuple[str, ...] = ()
    deb: tuple[str, ...] = ()
    rpm: tuple[str, ...] = ()
    win: tuple[str, ...] = ()
    mac: tuple[str, ...] = ()
    components: dict[str, tuple[str, ...]] = field(default_factory=dict)
    provides: tuple[str, ...] = ()   # components every install has (one program does it all)
    name_version: bool = False       # Windows: the DisplayName's version is the real one

    def matches_display_name(self, display_name: str) -> bool:
        return any(re.search(p, display_name, re.I) for p in self.win)


@lru_cache(maxsize=1)
def catalog() -> tuple[CatalogEntry, ...]:
    with CATALOG_FILE.open("rb") as handle:
        data = tomllib.load(handle)
    entries = []
    for key, spec in data.items():
        entries.append(CatalogEntry(
            key=key, name=spec["name"], kind=spec["kind"], series=spec.get("series"),
            pdf_builtin=spec.get("pdf_builtin", False),
            **{f: tuple(spec.get(f, ())) for f in ("exe", "desktop", "deb", "rpm", "win", "mac")},
            components={c: tuple(v) for c, v in spec.get("components", {}).items()},
            provides=tuple(spec.get("provides", ())), name_version=spec.get("name_version", False),
        ))
    return tuple(entries)


def entry(key: str) -> CatalogEntry:
    return next(e for e in catalog() if e.key == key)


def component_of(entry_: CatalogEntry, token: str) -> str | None:
    """Which office component an executable / desktop id / package / bundle id provides."""
    low = token.lower()
    for component, tokens in entry_.components.items():
        if low in (t.lower() for t in tokens):
            return component
    return None


@dataclass
class Finding:
    """One sighting of a program by one source (several sightings make one Program)."""

    key: str
    source: str
    version: str | None = None
    path: str | None = None
    display_name: str | None = None
    components: set[str] = field(default_factory=set)
    opens_pdf: bool = False
    edition: str | None = None      # Microsoft Office: "365", "2021", "2024-ltsc"...
    channel: str | None = None      # Microsoft 365 update channel
    variant: str = ""               # a separate install: "snap", "flatpak", "at:<folder>" (Windows)


@dataclass
class Program:
    key: str
    name: str
    kind: str
    series: str | None
    version: str | None
    path: str | None
    sources: list[str]
    display_name: str | None = None
    components: set[str] = field(default_factory=set)
    opens_pdf: bool = False
    pdf_builtin: bool = False
    edition: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class PdfDefault:
    """The program PDF files open with by default."""

    handler: str             # Windows ProgId, or XDG desktop id on Linux
    command: str | None      # what the OS runs
    key: str | None          # catalog key of the program, when known
    name: str                # what to show: the program's name, else the handler


@dataclass
class Inventory:
    programs: list[Program]
    pdf_default: PdfDefault | None = None
    stats: dict[str, float] = field(default_factory=dict)

    def of_kind(self, kind: str) -> list[Program]:
        return [p for p in self.programs if p.kind == kind]

    def pdf_readers(self) -> list[Program]:
        """Dedicated PDF readers: the catalog's, and any application that declares PDF and
        is not known as something else (xpdf, qpdfview...)."""
        return [p for p in self.programs if p.kind == "pdf"]

    def pdf_openers(self) -> list[Program]:
        """Other programs that declare PDF files (GIMP, LibreOffice Draw...): they import
        PDF for editing, a last resort for reading."""
        return [p for p in self.programs if p.kind != "pdf" and p.opens_pdf and not p.pdf_builtin]


def merge(findings: list[Finding]) -> list[Program]:
    """One Program per catalog entry and install variant (a snap Firefox and the distribution's
    Firefox, or a per-user Chrome and the machine's, are separate installs with their own
    versions). A sighting without a version (App Paths, a .desktop file) joins an install of
    the same program that has one, rather than standing alone as "version unknown"."""
    by_key: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        by_key.setdefault((finding.key, finding.variant), []).append(finding)
    for key in {k for k, _v in by_key}:
        groups = [(v, g) for (k, v), g in sorted(by_key.items()) if k == key]
        versioned = [v for v, g in groups if any(f.version for f in g)]
        for variant, group in groups:
            if versioned and variant not in versioned and variant not in ("snap", "flatpak"):
                by_key[(key, _home_of(variant, versioned))] += by_key.pop((key, variant))
    known = {spec.key for spec in catalog()}
    # Programs outside the catalog that declare PDF: viewers ("desktop:<id>") are readers,
    # the rest ("opener:<id>": Inkscape, Scribus...) import PDF files.
    extra = [CatalogEntry(key=k, name=group[0].display_name or k.split(":", 1)[-1],
                          kind="pdf" if k.startswith("desktop:") else "other")
             for (k, _v), group in by_key.items() if k not in known]
    programs = []
    for spec in list(catalog()) + extra:  # catalog order: stable output
        for variant in sorted({v for k, v in by_key if k == spec.key}):
            programs.append(_program(spec, variant, by_key[(spec.key, variant)]))
    return programs


def _home_of(variant: str, versioned: list[str]) -> str:
    """Which versioned install a versionless sighting belongs to: the one whose folder holds
    it (``at:c:\\program files\\libreoffice`` holds ``at:c:\\program files\\libreoffice\\program``),
    else the first in sorted order (never the registry's key order)."""
    if variant.startswith("at:"):
        folder = variant[3:]
        holders = [v for v in versioned if v.startswith("at:") and (folder + "\\").startswith(v[3:] + "\\")]
        if holders:
            return max(holders, key=len)
    return versioned[0]


def _program(spec: CatalogEntry, variant: str, group: list[Finding]) -> Program:
    # Best source first; among equals, a program file before a database line.
    group = sorted(group, key=lambda f: (_SOURCE_RANK.get(f.source, 9), ": " in (f.path or "")))
    versioned = [f for f in group if f.version and version_key(f.version)]
    return Program(
        key=spec.key, name=f"{spec.name} ({variant})" if variant in ("snap", "flatpak") else spec.name,
        kind=spec.kind,
        series=spec.series, version=versioned[0].version if versioned else None,
        path=next((f.path for f in group if f.path), None),
        sources=list(dict.fromkeys(f.source for f in group)),
        display_name=next((f.display_name for f in group if f.display_name), None),
        components=set(spec.provides).union(*(f.components for f in group)),
        opens_pdf=spec.pdf_builtin or any(f.opens_pdf for f in group),
        pdf_builtin=spec.pdf_builtin,
        edition=next((f.edition for f in group if f.edition), None),
        channel=next((f.channel for f in group if f.channel), None),
    )


def shown_path(host: Host, path: Path) -> str:
    """How the OS itself names ``path`` (a fake host's temporary root is hidden)."""
    try:
        return "/" + path.relative_to(host.root).as_posix()
    except ValueError:
        return str(path)


_LOCK = threading.Lock()
_ATTR = "_examroom_software_inventory"


def inventory(host: Host) -> Inventory:
    """The inventory of ``host``, computed on first use and kept on the Host object, so the
    five checks running in parallel share one scan."""
    with _LOCK:
        cached = getattr(host, _ATTR, None)
        if cached is None:
            cached = scan(host)
            setattr(host, _ATTR, cached)
        return cached


def scan(host: Host) -> Inventory:
    started = time.perf_counter()
    stats: dict[str, float] = {}
    findings = find_programs(host, stats)
    pdf = pdf_default(host)
    stats["seconds"] = time.perf_counter() - started
    return Inventory(programs=merge(findings), pdf_default=pdf, stats=stats)


def find_programs(host: Host, stats: dict[str, float]) -> list[Finding]:
    """What this OS's own records say is installed (``software_<os>.py``); ``stats`` gets counts."""
    return for_os(host, "software").find_programs(host, stats)


def pdf_default(host: Host) -> PdfDefault | None:
    """The program PDF files open with by default, named from the catalog when known."""
    return for_os(host, "software").pdf_default(host)
