"""Software facts on macOS: the ``Contents/Info.plist`` of ``.app`` bundles.

Reads ``/Applications``, ``/Applications/Utilities``, ``/System/Applications`` (Preview),
``/System/Volumes/Preboot/Cryptexes/App/System/Applications`` (Safari lives there since
macOS 13) and ``~/Applications``, one level of sub-folders deep (``/Applications/LibreOffice.app``,
``/Applications/Microsoft Office/...``). From each plist: CFBundleIdentifier,
CFBundleShortVersionString and CFBundleDocumentTypes (does it open PDF?).
"""
from __future__ import annotations

from pathlib import Path

from core.host import Host
from checks.probes.filetypes import default_program
from checks.probes.parsing import PDF_TYPES, parse_info_plist
from checks.probes.software import Finding, PdfDefault, catalog, component_of, shown_path

APP_DIRS = ("/Applications", "/Applications/Utilities", "/System/Applications",
            "/System/Volumes/Preboot/Cryptexes/App/System/Applications")


def bundles(host: Host) -> list[Path]:
    folders = [host.path(d) for d in APP_DIRS]
    if host.home:
        folders.append(host.home / "Applications")
    found: list[Path] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for child in sorted(folder.iterdir()):
            if child.suffix == ".app":
                found.append(child)
            elif child.is_dir() and not child.name.startswith("."):
                found += sorted(p for p in child.iterdir() if p.suffix == ".app")
    return list(dict.fromkeys(found))  # /Applications/Utilities is listed and also a sub-folder


def find_programs(host: Host, stats: dict[str, float]) -> list[Finding]:
    findings = []
    apps = bundles(host)
    stats["app_bundles"] = len(apps)
    for app in apps:
        plist = app / "Contents" / "Info.plist"
        try:
            info = parse_info_plist(plist.read_bytes())
        except OSError:
            continue
        if info is None:
            continue
        for spec in catalog():
            component = component_of(spec, info.bundle_id) if spec.components else None
            if info.bundle_id.lower() not in (m.lower() for m in spec.mac) and not component:
                continue
            components = {component} if component else set()
            if spec.key in ("libreoffice", "openoffice"):  # one bundle holds Calc, Writer, Impress and Draw
                components = set(spec.components)
            findings.append(Finding(
                key=spec.key, source="bundle", version=info.version, path=shown_path(host, app),
                display_name=info.name, components=components,
                opens_pdf=bool(PDF_TYPES & set(info.document_types)),
            ))
    return findings


def pdf_default(host: Host) -> PdfDefault | None:
    """The application chosen in Finder for PDF files (checks.probes.filetypes); None: Preview."""
    found = default_program(host, "pdf")
    if found is None:
        return None
    spec = next((s for s in catalog() if found.handler.lower() in (m.lower() for m in s.mac)), None)
    return PdfDefault(handler=found.handler, command=found.program, key=spec.key if spec else None,
                      name=spec.name if spec else found.handler)
