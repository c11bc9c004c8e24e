"""Software facts on Windows, all from the registry (through ``host.registry``).

Reads: the Uninstall keys of ``HKLM``, ``HKLM\\SOFTWARE\\WOW6432Node`` (32-bit programs on a
64-bit Windows), ``HKCU`` (per-user installs such as SumatraPDF's default) and the loaded
hives of other users under ``HKU``; the App Paths (``HKLM`` and ``HKCU``), which name the executables Windows can start by name (``excel.exe``,
``scalc.exe``...); the Office Click-to-Run configuration (``VersionToReport``,
``ProductReleaseIds``, ``UpdateChannel``/``CDNBaseUrl``, ``<product>.ExcludedApps``); and the
program ``.pdf`` files open with (``HKCU\\...\\FileExts\\.pdf\\UserChoice`` ProgId, else the
default value of ``HKCR\\.pdf``, resolved through ``HKCR\\<ProgId>\\shell\\open\\command``).
"""
from __future__ import annotations

import re
from core.host import Host
from checks.probes.filetypes import default_program
from checks.probes.parsing import first_version, icon_path, office_release_ids, registry_str
from checks.probes.software import CatalogEntry, Finding, PdfDefault, catalog, component_of

UNINSTALL_ROOTS = (
    "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall",
    "HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall",
    "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall",
)
APP_PATHS = (
    "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\App Paths",
    "HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\App Paths",
    "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\App Paths",
)
CTR = "HKLM\\SOFTWARE\\Microsoft\\Office\\ClickToRun\\Configuration"
PDF_USERCHOICE = "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\FileExts\\.pdf\\UserChoice"

# Click-to-Run update channels, by the GUID at the end of UpdateChannel / CDNBaseUrl.
CHANNELS = {
    "492350f6-3a01-4f97-b9c0-c7c6ddf67d60": "Current",
    "55336b82-a18d-4dd6-b5f6-9e5095c314a6": "MonthlyEnterprise",
    "7ffbc6bf-bc32-4f92-8982-f9dd17fd3114": "SemiAnnual",
    "b8f9b850-328d-4355-9145-c59439a0c4cf": "SemiAnnualPreview",
    "64256afe-f5d9-4f86-8936-8840a6a4f5be": "CurrentPreview",
    "5440fd1f-7ecb-4221-8110-145efaa6372f": "Beta",
    "f2e724c1-748f-4b47-8fb8-8e0d210e9208": "PerpetualVL2019",
    "5030841d-c919-4594-8d2d-84ae4f96e58e": "PerpetualVL2021",
    "7983bac0-e531-40cf-be00-fd24fe66619c": "PerpetualVL2024",
}
# Click-to-Run app ids in ExcludedApps -> office component.
_EXCLUDED = {"excel": "spreadsheet", "word": "word_processor", "powerpoint": "presentation"}


def _registry(host: Host):
    return host.registry


def office_edition(release_ids: list[str]) -> str | None:
    """``O365ProPlusRetail`` -> ``365``; ``ProPlus2021Volume`` -> ``2021-ltsc``;
    ``ProPlus2024Retail`` -> ``2024``; ``HomeStudent2019Retail`` -> ``2019``;
    ``ProPlusRetail`` (no year: Office 2016's Click-to-Run ids) -> ``2016``.
    Volume licences of 2021 and 2024 are the LTSC editions (their own release dates);
    ``ProPlus2019Volume`` is plain Office 2019 (LTSC naming began with 2021)."""
    for rid in release_ids:
        if rid.startswith(("O365", "Microsoft365")):
            return "365"
    suites = [r for r in release_ids if not r.lower().startswith(("visio", "project", "access", "skype",
                                                                   "onenote", "language", "proofing"))]
    for rid in suites:
        match = re.search(r"(20\d\d)(Retail|Volume)$", rid)
        if match:
            year, kind = match.groups()
            return f"{year}-ltsc" if kind == "Volume" and year in ("2021", "2024") else year
    for rid in suites:
        if re.fullmatch(r"(ProPlus|Standard|HomeBusiness|HomeStudent|Professional|Personal|Mondo)(Retail|Volume)", rid):
            return "2016"
    return None


def install_folder(*paths: str) -> str:
    """The folder that tells one install from another (``C:\\Program Files\\Mozilla Firefox``
    vs ``C:\\Program Files (x86)\\Mozilla Firefox``), lower-cased, without trailing backslash."""
    for path in paths:
        path = (path or "").strip().strip('"').rstrip("\\")
        if not path:
            continue
        if path.lower().endswith(".exe"):
            path = path.rsplit("\\", 1)[0]
        return path.lower()
    return ""


def uninstall_roots(host: Host) -> list[str]:
    """The machine's Uninstall keys, the current user's, and those of the other users whose
    hive is loaded (``HKU\\S-1-5-21-...``): the technician often runs the check from an admin
    account while the pupils' per-user installs live in their own hives."""
    roots = list(UNINSTALL_ROOTS)
    for sid in _registry(host).subkeys("HKU"):
        if sid.startswith("S-1-5-21-") and not sid.endswith("_Classes"):
            roots.append(f"HKU\\{sid}\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall")
    return roots


def from_uninstall(host: Host, stats: dict[str, float]) -> list[Finding]:
    registry = _registry(host)
    findings: list[Finding] = []
    count = 0
    c2r_folder = install_folder(registry_str(registry.values(CTR).get("InstallationPath")))
    for root in uninstall_roots(host):
        for sub in registry.subkeys(root):
            values = registry.values(f"{root}\\{sub}")
            count += 1
            name = registry_str(values.get("DisplayName"))
            # Updates and hidden system parts are not programs a technician would name.
            if not name or registry_str(values.get("ParentKeyName")) or values.get("SystemComponent") == 1:
                continue
            spec = next((s for s in catalog() if s.win and s.matches_display_name(name)), None)
            if spec is None:
                continue
            location = registry_str(values.get("InstallLocation"))
            icon = icon_path(registry_str(values.get("DisplayIcon")))
            # Each Uninstall entry with its own folder is its own install: a leftover 32-bit
            # Firefox in Program Files (x86) beside the 64-bit one is judged on its own.
            folder = install_folder(location, icon) or f"{root}\\{sub}".lower()
            if values.get("ClickToRunComponent") == 1 and c2r_folder:  # one Office, however many entries
                folder = c2r_folder
            findings.append(Finding(
                key=spec.key, source="registry", edition=_edition_from_name(name) if spec.key == "msoffice" else None,
                variant=f"at:{folder}",
                version=(spec.name_version and first_version(name)) or registry_str(values.get("DisplayVersion")) or None,
                path=location.rstrip("\\") or icon or f"{root}\\{sub}", display_name=name,
                components=_components_near(host, spec, location, icon),
            ))
    stats["uninstall_entries"] = count
    return findings


def _edition_from_name(name: str) -> str | None:
    """"Microsoft 365 Apps for enterprise - fr-fr" -> 365; "... Professionnel Plus 2021" -> 2021."""
    if name.startswith(("Microsoft 365", "Microsoft Office 365")):
        return "365"
    year = re.search(r"\b(20\d\d)\b", name)
    if not year and re.search(r"\bOffice 16\b", name):
        return "2016"
    if not year:
        return None
    return year.group(1) + ("-ltsc" if "LTSC" in name else "")


def _components_near(host: Host, spec: CatalogEntry, location: str, icon: str) -> set[str]:
    """LibreOffice's components are files in its ``program`` folder (scalc.exe...)."""
    if not spec.components:
        return set()
    folders = []
    if location:
        folders += [location.rstrip("\\"), location.rstrip("\\") + "\\program"]
    if icon and "\\" in icon:
        folders.append(icon.rsplit("\\", 1)[0])
    found = set()
    for folder in folders:
        for component, tokens in spec.components.items():
            for token in tokens:
                if token.endswith(".exe") and host.path(f"{folder}\\{token}").is_file():
                    found.add(component)
    return found


def from_app_paths(host: Host, stats: dict[str, float]) -> list[Finding]:
    registry = _registry(host)
    findings = []
    for root in APP_PATHS:
        for exe in registry.subkeys(root):
            target = registry_str(registry.values(f"{root}\\{exe}").get("")).strip('"')
            specs = [s for s in catalog() if exe.lower() in (e.lower() for e in s.exe)
                     or (s.components and component_of(s, exe))]
            # scalc.exe is LibreOffice's and Apache OpenOffice's: the folder tells which.
            named = [s for s in specs if s.key in target.lower().replace(" ", "")]
            for spec in named or specs:
                component = component_of(spec, exe) if spec.components else None
                findings.append(Finding(key=spec.key, source="app_paths", path=target or None,
                                        variant=f"at:{install_folder(target)}" if target else "",
                                        components={component} if component else set()))
    return findings


def from_click_to_run(host: Host, stats: dict[str, float]) -> list[Finding]:
    values = _registry(host).values(CTR)
    version = registry_str(values.get("VersionToReport"))
    if not version:
        return []
    release_ids = office_release_ids(registry_str(values.get("ProductReleaseIds")))
    components = {"spreadsheet", "word_processor", "presentation"}
    for rid in release_ids:
        excluded = registry_str(values.get(f"{rid}.ExcludedApps")).lower().split(",")
        components -= {_EXCLUDED[a.strip()] for a in excluded if a.strip() in _EXCLUDED}
    if any(rid.lower().startswith("visio") for rid in release_ids):
        components.add("drawing")
    channel_url = registry_str(values.get("UpdateChannel") or values.get("CDNBaseUrl"))
    channel = CHANNELS.get(channel_url.rstrip("/").rsplit("/", 1)[-1].lower()) if channel_url else None
    path = registry_str(values.get("InstallationPath"))
    return [Finding(key="msoffice", source="click_to_run", version=version, path=path or None,
                    variant=f"at:{install_folder(path)}" if path else "",
                    components=components, edition=office_edition(release_ids), channel=channel,
                    display_name=", ".join(release_ids) or None)]


def pdf_default(host: Host) -> PdfDefault | None:
    """What a double-click on a .pdf opens (checks.probes.filetypes), named from the catalog."""
    found = default_program(host, "pdf")
    if found is None:
        return None
    prog_id, command = found.handler, found.command
    exe = icon_path(command).replace("/", "\\").rsplit("\\", 1)[-1].lower() if command else ""
    spec = next((s for s in catalog() if exe and exe in (e.lower() for e in s.exe)), None)
    if spec is None:  # ProgIds name their owner: MSEdgePDF, FirefoxPDF-..., AcroExch.Document.DC
        low = prog_id.lower()
        hints = {"msedge": "edge", "firefox": "firefox", "chrome": "chrome", "acro": "acrobat",
                 "sumatra": "sumatrapdf", "foxit": "foxit", "pdfxedit": "pdfxchange"}
        key = next((k for hint, k in hints.items() if hint in low), None)
        spec = next((s for s in catalog() if s.key == key), None)
    return PdfDefault(handler=prog_id, command=command, key=spec.key if spec else None,
                      name=spec.name if spec else prog_id)


def find_programs(host: Host, stats: dict[str, float]) -> list[Finding]:
    if host.registry is None:
        return []
    from checks.probes import winportable

    return (from_click_to_run(host, stats) + from_uninstall(host, stats) + from_app_paths(host, stats)
            + winportable.scan(host, stats))
