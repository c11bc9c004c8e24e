"""Software facts on Linux.

Reads, all through the Host: the dpkg database ``/var/lib/dpkg/status`` read directly (fast)
and ``rpm -qa`` where rpm exists; programs of the catalog on PATH, each followed to the real
program (links, alternatives, wrapper scripts, dpkg diversions: ``linuxpkg.py``) and dated by
the package that owns it, by snap/flatpak metadata, and only when nothing else tells by its
``--version`` output (run concurrently, each capped, cached by path, size and mtime:
``versioncache.py``); XDG ``.desktop`` files under ``$XDG_DATA_HOME`` (default
``~/.local/share``), ``$XDG_DATA_DIRS`` (default ``/usr/local/share:/usr/share``), the flatpak
exports (``/var/lib/flatpak/exports/share``, ``~/.local/share/flatpak/exports/share``) and
snap's ``/var/lib/snapd/desktop``; versions of flatpak apps (AppStream metainfo) and snaps
(``/snap/<name>/current/meta/snap.yaml``); the default application for PDF from
``mimeapps.list`` (``$XDG_CONFIG_HOME``, ``$XDG_CONFIG_DIRS``, then the data dirs).
LibreOffice's own builds (``libobasis24.8-calc``, ``libreoffice24.8-draw.desktop``) are read
under the distribution's names.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from core.host import Host
from checks.probes import versioncache, xdg
from checks.probes.filetypes_linux import default_desktop_id
from checks.probes.linuxpkg import DpkgOwners, read_owners, resolve
from checks.probes.parsing import (
    DesktopEntry, first_version, distro_name, metainfo_version, parse_desktop, parse_dpkg_status,
    parse_rpm_qa, snap_version, upstream_version, version_from_output,
)
from checks.probes.software import CatalogEntry, Finding, PdfDefault, catalog, component_of, shown_path

VERSION_TIMEOUT_S = 2.5
_DISTRO_DIRS = ("/usr/bin/", "/bin/", "/usr/lib/", "/usr/lib64/", "/usr/libexec/", "/usr/share/", "/usr/games/")
_WRAPPERS = {"flatpak", "snap", "env", "sh", "bash"}


def desktop_entries(host: Host, stats: dict[str, float]) -> list[tuple[str, Path, DesktopEntry]]:
    found = []
    shadowed: set[str] = set()  # the first data dir wins for a given desktop id (XDG rule)
    count = 0
    for source, folder in xdg.data_dirs(host):
        apps = folder / "applications"
        if not apps.is_dir():
            continue
        for path in sorted(apps.rglob("*.desktop")):
            count += 1
            desktop_id = str(path.relative_to(apps))[: -len(".desktop")].replace("/", "-")
            if desktop_id in shadowed:
                continue
            shadowed.add(desktop_id)
            try:
                entry = parse_desktop(path.read_text(encoding="utf-8", errors="replace"), desktop_id)
            except OSError:
                continue
            # XDG: an entry whose TryExec program is gone is a leftover of an uninstalled app.
            if entry and not entry.hidden and _try_exec_ok(host, entry.try_exec):
                found.append((source, path, entry))
    stats["desktop_files"] = count
    return found


def _try_exec_ok(host: Host, try_exec: str) -> bool:
    if not try_exec:
        return True
    if try_exec.startswith("/"):
        return host.path(try_exec).is_file()
    return host.which(try_exec) is not None


def pdf_default(host: Host) -> PdfDefault | None:
    """The default application for PDF, resolved to its .desktop file."""
    desktop_id = default_desktop_id(host, "application/pdf")
    if not desktop_id:
        return None
    for _source, folder in xdg.data_dirs(host):
        path = folder / "applications" / f"{desktop_id}.desktop"
        if path.is_file():
            entry = parse_desktop(path.read_text(encoding="utf-8", errors="replace"), desktop_id)
            if entry is None:
                continue
            spec = next((s for s in catalog() if _desktop_match(entry, s)), None)
            return PdfDefault(handler=desktop_id, command=entry.exec or None,
                              key=spec.key if spec else None, name=spec.name if spec else entry.name)
    return None  # a default pointing to an uninstalled app opens nothing


def _desktop_match(entry: DesktopEntry, spec: CatalogEntry) -> bool:
    ids = {d.lower() for d in spec.desktop}
    if distro_name(entry.desktop_id).lower() in ids:
        return True
    program = distro_name(entry.program).lower()
    if program in _WRAPPERS:  # "flatpak run --branch=stable org.gimp.GIMP @@u %U @@": the app id
        words = entry.exec.split()
        after = words[words.index("run") + 1:] if "run" in words else words[1:]
        program = next((w for w in after if not w.startswith(("-", "%", "@@"))), "").lower()
    return program in {e.lower() for e in spec.exe} or program in ids


def _flatpak_version(host: Host, app_id: str) -> str | None:
    for base in (host.path("/var/lib/flatpak/app"), (host.home or Path("/")) / ".local/share/flatpak/app"):
        folder = base / app_id / "current/active/files/share"
        for sub in ("metainfo", "appdata"):
            for suffix in (".metainfo.xml", ".appdata.xml"):
                path = folder / sub / (app_id + suffix)
                if path.is_file():
                    return metainfo_version(path.read_text(encoding="utf-8", errors="replace"))
    return None


def _snap_version(host: Host, desktop_id: str) -> str | None:
    name = desktop_id.split("_", 1)[0]
    path = host.path(f"/snap/{name}/current/meta/snap.yaml")
    if not path.is_file():
        return None
    version = snap_version(path.read_text(encoding="utf-8", errors="replace"))
    # "140.0.2-1": the snap's packaging suffix; the program's own version is "140.0.2".
    return (first_version(version) or version) if version else None


def from_desktop_files(host: Host, stats: dict[str, float]) -> list[Finding]:
    findings = []
    suites = [s for s in catalog() if s.components]
    for source, path, entry in desktop_entries(host, stats):
        matched = False
        for spec in catalog():
            component = component_of(spec, distro_name(entry.desktop_id)) if spec.components else None
            if not (_desktop_match(entry, spec) or component):
                continue
            version = None
            if source == "flatpak":
                version = _flatpak_version(host, entry.desktop_id.rsplit(".", 1)[0] if component
                                           else entry.desktop_id)
            elif source == "snap":
                version = _snap_version(host, entry.desktop_id)
            matched = True
            components = {component} if component else set()
            if spec in suites and source in ("flatpak", "snap") and not component:
                components = set(spec.components)  # one flatpak/snap ships the whole suite
            findings.append(Finding(
                key=spec.key, source=source, version=version, path=shown_path(host, path),
                variant=source if source in ("snap", "flatpak") else "",
                display_name=entry.name, components=components,
                opens_pdf="application/pdf" in entry.mime_types,
            ))
        if not matched and "application/pdf" in entry.mime_types:
            # Any application that declares PDF opens it: a reader when it is a viewer (xpdf,
            # qpdfview, MuPDF...), else an editor that imports PDF (Inkscape, Scribus...).
            kind = "desktop" if "Viewer" in entry.categories else "opener"
            findings.append(Finding(key=f"{kind}:{entry.desktop_id}", source=source,
                                    variant=source if source in ("snap", "flatpak") else "",
                                    path=shown_path(host, path), display_name=entry.name,
                                    opens_pdf=True))
    return findings


def wanted_packages() -> dict[str, tuple[CatalogEntry, str | None]]:
    """Package name (distribution spelling) -> (catalog entry, office component or None)."""
    wanted: dict[str, tuple[CatalogEntry, str | None]] = {}
    for spec in catalog():
        for name in spec.deb + spec.rpm:
            wanted[name] = (spec, None)
        for component, tokens in spec.components.items():
            for token in tokens:
                if token.startswith(("libreoffice-", "openoffice4.1-")):
                    wanted[token] = (spec, component)
    return wanted


def _canonical(package: str) -> str:
    return distro_name(package, "libreoffice-core")


def from_packages(host: Host, stats: dict[str, float], dpkg: dict[str, str]) -> list[Finding]:
    wanted = wanted_packages()
    findings = _package_findings(dpkg, wanted, "dpkg", "/var/lib/dpkg/status")
    if host.which("rpm"):
        done = host.run(["rpm", "-qa", "--qf", "%{NAME}\t%{VERSION}\n"], timeout=5)
        if done is not None and done.ok:
            packages = {n: v for n, v in parse_rpm_qa(done.stdout).items() if _canonical(n) in wanted}
            stats["rpm_packages_matched"] = len(packages)
            findings += _package_findings(packages, wanted, "rpm", "rpm -qa")
    return findings


def read_dpkg(host: Host, stats: dict[str, float]) -> dict[str, str]:
    """``{package: version}`` of the installed packages of the catalog, from the status file."""
    wanted = wanted_packages()
    status = host.path("/var/lib/dpkg/status")
    try:
        text = status.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    stats["dpkg_packages_total"] = text.count("\nPackage: ") + text.startswith("Package: ")
    packages = parse_dpkg_status(text, lambda name: _canonical(name) in wanted)
    stats["dpkg_packages_matched"] = len(packages)
    return packages


def _package_findings(packages: dict[str, str], wanted, source: str, where: str) -> list[Finding]:
    findings = []
    for name, version in packages.items():
        spec, component = wanted[_canonical(name)]
        findings.append(Finding(key=spec.key, source=source, version=upstream_version(version),
                                path=f"{where}: {name}", components={component} if component else set()))
    return findings


def from_path(host: Host, stats: dict[str, float], dpkg: dict[str, str] | None = None,
              owners: DpkgOwners | None = None) -> list[Finding]:
    """Catalog programs on PATH. The version comes from the package that owns the file
    (following links, wrapper scripts and dpkg diversions, so Debian's ``/usr/bin/firefox``
    wrapper is firefox-esr), from snap/flatpak metadata, and only otherwise from
    ``--version``, run in parallel and cached by (path, size, mtime)."""
    dpkg = dpkg or {}
    wanted = wanted_packages()
    targets: list[tuple[CatalogEntry, Path, str | None]] = []
    seen: set[Path] = set()
    for spec in catalog():
        names: list[tuple[str, str | None]] = [(e, None) for e in spec.exe if not e.endswith(".exe")]
        for component, tokens in spec.components.items():  # localc, lowriter... launchers
            names += [(t, component) for t in tokens if "." not in t and not t.startswith(("libreoffice", "openoffice"))]
        for name, component in names:
            found = host.which(name)
            if found and found not in seen:
                seen.add(found)
                targets.append((spec, found, component))
    findings: list[Finding] = []
    to_run: list[tuple[CatalogEntry, Path, Path]] = []
    for spec, path, component in targets:
        shown = shown_path(host, path)
        if component is not None:  # the suite's own binary tells the version
            findings.append(Finding(key=spec.key, source="path", path=shown, components={component}))
            continue
        if shown.startswith("/snap/bin/"):
            name = path.name.split(".", 1)[0]
            findings.append(Finding(key=spec.key, source="snap", path=shown, variant="snap",
                                    version=_snap_version(host, name)))
            continue
        if "/flatpak/exports/bin/" in shown:
            findings.append(Finding(key=spec.key, source="flatpak", path=shown, variant="flatpak",
                                    version=_flatpak_version(host, path.name)))
            continue
        real = resolve(host, path)
        package = None
        if owners is not None:
            package = owners.owner(shown) or owners.owner(shown_path(host, real))
        if package and _canonical(package) in wanted and package in dpkg:
            owner_spec, _c = wanted[_canonical(package)]
            findings.append(Finding(key=owner_spec.key, source="dpkg", path=shown,
                                    version=upstream_version(dpkg[package])))
            continue
        to_run.append((spec, path, real))
    stats["path_programs"] = len(targets)
    stats["version_commands"] = 0
    # the real machine's cache in the state folder; none on a fake host (host.native)
    cache = (host.native("examroom.version_cache", versioncache.on_disk) if to_run else None) \
        or versioncache.VersionCache(None)
    outputs: dict[Path, str | None] = {}
    missing = []
    for _spec, path, real in to_run:
        cached = cache.get(real)
        if cached is not None:
            outputs[path] = cached
        else:
            missing.append((path, real))
    if missing:
        stats["version_commands"] = len(missing)
        with ThreadPoolExecutor(max_workers=min(8, len(missing))) as pool:
            futures = {(path, real): pool.submit(host.run, [str(path), "--version"], VERSION_TIMEOUT_S)
                       for path, real in missing}
            for (path, real), future in futures.items():
                done = future.result()
                outputs[path] = (done.stdout + "\n" + done.stderr) if done is not None else None
                if done is not None and not done.timed_out and outputs[path] and version_from_output(outputs[path]):
                    cache.put(real, outputs[path])
        cache.save()
    for spec, path, real in to_run:
        output = outputs.get(path)
        version = version_from_output(output) if output else None
        # A program no package owns, outside the distribution's folders (/opt/firefox, a
        # home folder) is an install of its own, beside the distribution's package if any.
        where = shown_path(host, real)
        variant = "" if where.startswith(_DISTRO_DIRS) else f"at:{where.rsplit('/', 1)[0]}"
        findings.append(Finding(key=spec.key, source="version_output" if version else "path",
                                version=version, path=shown_path(host, path), variant=variant))
    return findings


def find_programs(host: Host, stats: dict[str, float]) -> list[Finding]:
    started = time.perf_counter()
    dpkg = read_dpkg(host, stats)
    owners = read_owners(host, sorted(dpkg)) if dpkg else None
    findings = from_packages(host, stats, dpkg)
    stats["packages_ms"] = round((time.perf_counter() - started) * 1000, 1)
    for phase, probe in (("path", lambda h, s: from_path(h, s, dpkg, owners)), ("desktop", from_desktop_files)):
        started = time.perf_counter()
        findings += probe(host, stats)
        stats[f"{phase}_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return findings
