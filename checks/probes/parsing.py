"""Pure parsers for what installed software says about itself.

No file or process access here: callers (linux.py, windows.py, macos.py) read the bytes and
hand them over. Covered formats: ``--version`` outputs of real programs, XDG ``.desktop``
files, the dpkg status database, ``rpm -qa --qf`` output, flatpak/snap metadata, macOS
``Info.plist`` (binary or XML) and Windows Uninstall registry values.
"""
from __future__ import annotations

import plistlib
import re
from dataclasses import dataclass, field
from typing import Callable

_VERSION = re.compile(r"(?<![\w.])v?(\d+(?:\.\d+){1,3})(?:[a-z]+\d*)?(?![\w.])", re.I)


def version_key(version: str | None) -> tuple[int, ...]:
    """``"24.8.4.2"`` -> ``(24, 8, 4, 2)``; non-numeric parts end the key."""
    if not version:
        return ()
    parts: list[int] = []
    for piece in re.split(r"[.\-+~ ]", version.strip()):
        digits = re.match(r"\d+", piece)
        if not digits:
            break
        parts.append(int(digits.group()))
        if digits.group() != piece:
            break
    return tuple(parts)


def first_version(text: str) -> str | None:
    """The first dotted version number in ``text`` (``"Firefox 128.5.0esr"`` -> ``128.5.0``)."""
    match = _VERSION.search(text or "")
    return match.group(1) if match else None


def version_from_output(output: str) -> str | None:
    """The program's own version in a ``--version`` output.

    Real outputs handled (first line wins; later lines are often library versions):
    ``Mozilla Firefox 140.0``, ``Mozilla Firefox 128.5.0esr``,
    ``Chromium 156.0.8078.79 built on Debian GNU/Linux 12 (bookworm)``,
    ``Google Chrome 131.0.6778.204``, ``Microsoft Edge 131.0.2903.112``,
    ``LibreOffice 24.8.4.2 480(Build:2)``, ``LibreOffice 7.4.7.2 40(Build:2)``,
    ``GNU Image Manipulation Program version 2.10.34``, ``kdenlive 22.12.3``,
    ``krita 5.2.6``, ``GNOME Document Viewer 43.1``, ``okular 22.12.3``.
    """
    for line in (output or "").splitlines():
        line = line.strip()
        # Noise before or instead of the banner: shell errors of wrapper scripts
        # ("/usr/bin/chromium: 9: [: ..."), GTK/GLib messages ("Gtk-Message: 10:22:33.123: ...",
        # "(gimp:4242): GLib-WARNING **: ..."): never take a version from those.
        first = line.split(" ", 1)[0]
        if not line or line.startswith(("/", "(")) or first.endswith(":"):
            continue
        # "built on Debian GNU/Linux 12": cut there so the OS release is never taken.
        line = re.split(r"\bbuilt on\b|\(Build:", line, maxsplit=1)[0]
        found = first_version(line)
        if found:
            return found
    return None


# -- XDG .desktop files ----------------------------------------------------------------------

@dataclass
class DesktopEntry:
    desktop_id: str
    name: str
    exec: str = ""
    mime_types: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    hidden: bool = False
    try_exec: str = ""
    names: dict[str, str] = field(default_factory=dict)

    @property
    def program(self) -> str:
        """The executable's file name (``env``/``flatpak run`` wrappers skipped)."""
        words = [w for w in self.exec.split() if "=" not in w or w.startswith("/")]
        if words and words[0].rsplit("/", 1)[-1] == "env":
            words = words[1:]
        while words and words[0].startswith("%"):
            words = words[1:]
        return words[0].rsplit("/", 1)[-1].strip('"') if words else ""


def parse_desktop(text: str, desktop_id: str) -> DesktopEntry | None:
    """The ``[Desktop Entry]`` group of a .desktop file; None if it is not an application."""
    group = None
    keys: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            group = line
            continue
        if group != "[Desktop Entry]" or "=" not in line:
            continue
        key, value = line.split("=", 1)
        keys.setdefault(key.strip(), value.strip())
    if keys.get("Type", "Application") != "Application" or "Name" not in keys:
        return None
    split = lambda v: [p for p in v.split(";") if p]  # noqa: E731
    return DesktopEntry(
        desktop_id=desktop_id,
        name=keys["Name"],
        exec=keys.get("Exec", ""),
        mime_types=split(keys.get("MimeType", "")),
        categories=split(keys.get("Categories", "")),
        hidden=keys.get("Hidden", "").lower() == "true",
        try_exec=keys.get("TryExec", ""),
        names={k[5:-1]: v for k, v in keys.items() if k.startswith("Name[")},
    )


def parse_mimeapps(text: str, mime: str) -> list[str]:
    """Desktop ids set as default for ``mime`` in a ``mimeapps.list`` / ``defaults.list``."""
    group = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("["):
            group = line
        elif group == "[Default Applications]" and line.startswith(mime + "="):
            return [d[: -len(".desktop")] if d.endswith(".desktop") else d
                    for d in line.split("=", 1)[1].split(";") if d]
    return []


# -- package databases -------------------------------------------------------------------------

_LO_OFFICIAL = re.compile(r"^(?:libreoffice|libobasis)\d+\.\d+(?=-|$)")


def distro_name(name: str, bare: str = "libreoffice") -> str:
    """Names of LibreOffice's own .deb/.rpm builds (installed beside the distribution's, in
    /opt) -> the distribution's names: ``libobasis24.8-calc`` -> ``libreoffice-calc``,
    ``libreoffice24.8-draw`` (desktop id) -> ``libreoffice-draw``, ``libreoffice24.8`` -> ``bare``."""
    if not _LO_OFFICIAL.match(name):
        return name
    rest = _LO_OFFICIAL.sub("", name)
    return "libreoffice" + rest if rest else bare


_DPKG_PACKAGE = re.compile(r"^Package: (\S+)[ \t]*$", re.M)


def parse_dpkg_status(text: str, wanted: Callable[[str], bool] | set[str] | None = None) -> dict[str, str]:
    """``{package: version}`` of installed packages in ``/var/lib/dpkg/status``. Only the
    stanzas of wanted packages are read past their first line (the file holds thousands)."""
    if isinstance(wanted, set):
        wanted = wanted.__contains__
    found: dict[str, str] = {}
    for match in _DPKG_PACKAGE.finditer(text):
        package = match.group(1)
        if wanted is not None and not wanted(package):
            continue
        end = text.find("\n\n", match.end())
        stanza = text[match.end(): end if end >= 0 else len(text)]
        status = re.search(r"^Status: (.*)$", stanza, re.M)
        version = re.search(r"^Version: (\S+)", stanza, re.M)
        if status and version and status.group(1).strip().endswith(" installed"):
            found[package] = version.group(1)
    return found


def upstream_version(package_version: str) -> str:
    """Debian/RPM package version -> upstream version: ``4:24.8.4-1~bpo12+1`` -> ``24.8.4``,
    ``140.0esr-1~deb12u1`` -> ``140.0``, ``2.10.34-1+deb12u3`` -> ``2.10.34``."""
    version = package_version.split(":", 1)[-1]
    version = version.rsplit("-", 1)[0] if "-" in version else version
    found = first_version(version.replace("~", " ").replace("+", " "))
    if found:
        return found
    numbers = version_key(version)  # "11.1.0.11723.XA" (WPS): the numeric part
    return ".".join(map(str, numbers)) if len(numbers) > 1 else version


def parse_rpm_qa(text: str) -> dict[str, str]:
    """Output of ``rpm -qa --qf '%{NAME}\\t%{VERSION}\\n'``."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        if "\t" in line:
            name, version = line.split("\t", 1)
            found[name.strip()] = version.strip()
    return found


def snap_version(snap_yaml: str) -> str | None:
    """``version:`` of a snap's ``meta/snap.yaml``."""
    match = re.search(r"^version:\s*['\"]?([^'\"\n]+)", snap_yaml, re.M)
    return match.group(1).strip() if match else None


def metainfo_version(xml: str) -> str | None:
    """The newest ``<release version=...>`` of an AppStream metainfo file (listed first)."""
    match = re.search(r"<release\b[^>]*\bversion=\"([^\"]+)\"", xml)
    return match.group(1) if match else None


# -- macOS -------------------------------------------------------------------------------------

@dataclass
class BundleInfo:
    name: str
    bundle_id: str
    version: str | None
    executable: str | None
    document_types: list[str]  # content types (UTIs), MIME types and extensions it opens


def parse_info_plist(data: bytes) -> BundleInfo | None:
    """An app bundle's ``Contents/Info.plist`` (binary or XML)."""
    try:
        info = plistlib.loads(data)
    except Exception:  # plistlib raises several types on damaged files
        return None
    if not isinstance(info, dict):
        return None
    types: list[str] = []
    for doc in info.get("CFBundleDocumentTypes") or []:
        if isinstance(doc, dict):
            for key in ("LSItemContentTypes", "CFBundleTypeMIMETypes", "CFBundleTypeExtensions"):
                types += [str(v).lower() for v in doc.get(key) or []]
    name = info.get("CFBundleDisplayName") or info.get("CFBundleName") or ""
    version = info.get("CFBundleShortVersionString") or info.get("CFBundleVersion")
    return BundleInfo(name=str(name), bundle_id=str(info.get("CFBundleIdentifier") or ""),
                      version=str(version) if version else None,
                      executable=info.get("CFBundleExecutable"), document_types=types)


PDF_TYPES = {"com.adobe.pdf", "application/pdf", "pdf"}


# -- Windows -----------------------------------------------------------------------------------

def registry_str(value: object) -> str:
    """A registry value as text (REG_SZ, REG_EXPAND_SZ, REG_DWORD, REG_MULTI_SZ)."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value).strip()


def icon_path(display_icon: str) -> str:
    """``"C:\\Program Files\\GIMP 2\\bin\\gimp-2.10.exe",0`` -> the path alone."""
    text = display_icon.strip()
    if text.startswith('"'):
        return text[1:].split('"', 1)[0]
    return re.sub(r",\s*-?\d+$", "", text)


def office_release_ids(value: str) -> list[str]:
    """Click-to-Run ``ProductReleaseIds``: ``"O365ProPlusRetail,VisioProRetail"``."""
    return [p.strip() for p in value.split(",") if p.strip()]


# -- regedit exports (.reg) --------------------------------------------------------------------

_HIVE_SHORT = {"HKEY_LOCAL_MACHINE": "HKLM", "HKEY_CURRENT_USER": "HKCU", "HKEY_CLASSES_ROOT": "HKCR",
               "HKEY_USERS": "HKU", "HKEY_CURRENT_CONFIG": "HKCC"}
_REG_VALUE = re.compile(r'^(@|"(?:[^"\\]|\\.)*")=(.*)$', re.S)


def reg_text(data: bytes) -> str:
    """The text of a .reg file: regedit writes UTF-16 LE with a BOM ("Windows Registry Editor
    Version 5.00"); REGEDIT4 files and hand-written ones are ANSI/UTF-8."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    return data.decode("utf-8-sig", errors="replace")


def parse_reg_export(text: str) -> dict[str, dict[str, object]]:
    """``{key path: {value name: value}}`` of a regedit export, keys with short hive names
    (``HKLM\\SOFTWARE\\...``), values typed as ``winreg`` returns them: REG_SZ -> str,
    ``dword:`` -> int, ``hex(b):`` (QWORD) -> int, ``hex(2):`` (EXPAND_SZ) -> str,
    ``hex(7):`` (MULTI_SZ) -> list[str], ``hex:`` (binary) -> bytes. Lines continued with a
    trailing backslash are joined; deleted keys (``[-HKEY...]``) and values (``=-``) are skipped."""
    keys: dict[str, dict[str, object]] = {}
    current: dict[str, object] | None = None
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip() if not pending else raw.lstrip()
        if pending:
            line = pending + line
            pending = ""
        if line.endswith("\\") and not line.startswith("[") and "=hex" in line:
            pending = line[:-1]
            continue
        logical.append(line)
    for line in logical:
        if not line or line.startswith(";") or line.startswith(("Windows Registry Editor", "REGEDIT4")):
            continue
        if line.startswith("[") and line.endswith("]"):
            path = line[1:-1]
            if path.startswith("-"):
                current = None
                continue
            hive, _, rest = path.partition("\\")
            path = _HIVE_SHORT.get(hive.upper(), hive) + ("\\" + rest if rest else "")
            current = keys.setdefault(path, {})
            continue
        match = _REG_VALUE.match(line)
        if current is None or not match:
            continue
        name = "" if match.group(1) == "@" else _reg_unquote(match.group(1))
        value = _reg_value(match.group(2))
        if value is not _DELETED:
            current[name] = value
    return keys


_DELETED = object()


def _reg_unquote(quoted: str) -> str:
    return re.sub(r"\\(.)", r"\1", quoted[1:-1])


def _reg_value(data: str) -> object:
    data = data.strip()
    if data == "-":
        return _DELETED
    if data.startswith('"'):
        return _reg_unquote(data if data.endswith('"') and len(data) > 1 else data + '"')
    if data.lower().startswith("dword:"):
        return int(data[6:], 16)
    kind, _, payload = data.partition(":")
    raw = bytes(int(b, 16) for b in payload.replace(" ", "").split(",") if b)
    kind = kind.lower()
    if kind == "hex(2)":
        return raw.decode("utf-16-le", errors="replace").rstrip("\x00")
    if kind == "hex(7)":
        return [s for s in raw.decode("utf-16-le", errors="replace").split("\x00") if s]
    if kind == "hex(b)":
        return int.from_bytes(raw, "little")
    if kind == "hex(4)":
        return int.from_bytes(raw, "little")
    return raw
