"""The Windows Documents folder: ``User Shell Folders`` (``Personal`` or FOLDERID_Documents,
REG_EXPAND_SZ), then the already-expanded ``Shell Folders``; and ``%VAR%`` expansion."""
from __future__ import annotations

import re

from core.host import Host

SHELL_FOLDERS = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Explorer"
# FOLDERID_Documents: Windows 10/11 write the moved location under this name too, and
# some folder-redirection tools write it alone.
DOCUMENTS_GUID = "{F42EE2D3-909F-4907-8871-4C22FC0BF756}"


def documents_dir(host: Host) -> str | None:
    if host.registry is None:
        return None
    for key in ("User Shell Folders", "Shell Folders"):
        values = {name.upper(): value for name, value in host.registry.values(f"{SHELL_FOLDERS}\\{key}").items()}
        for name in ("PERSONAL", DOCUMENTS_GUID):
            value = values.get(name)
            if isinstance(value, str) and value.strip():
                return expand_windows_vars(value.strip(), host)
    return None


def expand_windows_vars(value: str, host: Host) -> str:
    """``%USERPROFILE%\\Documents`` -> ``C:\\Users\\eleve\\Documents`` (unknown names kept)."""
    def repl(match: re.Match[str]) -> str:
        found = host.getenv(match.group(1))
        return found if found is not None else match.group(0)

    return re.sub(r"%([^%]+)%", repl, value)
