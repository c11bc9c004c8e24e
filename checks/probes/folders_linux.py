"""The Linux Documents folder: XDG user dirs (``$XDG_CONFIG_HOME/user-dirs.dirs``)."""
from __future__ import annotations

import re

from checks.probes.folders import home_folder
from core.host import Host


def documents_dir(host: Host) -> str | None:
    home = home_folder(host).rstrip("/") or "/"
    config = host.getenv("XDG_CONFIG_HOME") or f"{home}/.config"
    try:
        text = host.path(f"{config}/user-dirs.dirs").read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    configured = parse_user_dirs(text, home).get("DOCUMENTS")
    # The XDG spec: a value of $HOME itself means "no Documents folder". A configured
    # folder that was never created is what file managers treat as missing too.
    for candidate in ([configured] if configured else []) + [f"{home}/Documents"]:
        if candidate.rstrip("/") != home and host.path(candidate).is_dir():
            return candidate
    return None


def parse_user_dirs(text: str, home: str) -> dict[str, str]:
    """``XDG_DOCUMENTS_DIR="$HOME/Documents"`` lines -> ``{"DOCUMENTS": "/home/x/Documents"}``."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = re.match(r'\s*XDG_([A-Z]+)_DIR\s*=\s*"(.*)"\s*$', line)
        if not match:
            continue
        value = match.group(2).replace('\\"', '"')
        if value.startswith("$HOME"):
            value = home.rstrip("/") + value[len("$HOME"):]
        elif not value.startswith("/"):
            continue  # the spec allows only $HOME-relative or absolute paths
        found[match.group(1)] = value
    return found
