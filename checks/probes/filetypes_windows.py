"""Windows default programs: the Explorer UserChoice, else HKCR, and the ProgId's open command."""
from __future__ import annotations

from checks.probes.filetypes import DefaultProgram, FileType
from checks.probes.folders_windows import expand_windows_vars
from core.host import Host

_FILE_EXTS = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Explorer\FileExts"


def default_program(host: Host, kind: FileType) -> DefaultProgram | None:
    registry = host.registry
    if registry is None:
        return None
    progid = registry.values(f"{_FILE_EXTS}\\{kind.extension}\\UserChoice").get("ProgId") or \
        registry.values(f"HKCR\\{kind.extension}").get("")
    if not isinstance(progid, str) or not progid.strip():
        return None
    command = registry.values(f"HKCR\\{progid}\\shell\\open\\command").get("")
    if not isinstance(command, str) or not command.strip():
        # Store apps (AppX ProgIds) and shell handlers have no command to check
        return DefaultProgram(progid, None, None, None)
    program = program_of(command, host)
    return DefaultProgram(progid, command.strip(), program, host.path(program).is_file())


def program_of(command: str, host: Host) -> str:
    """``"C:\\Program Files\\7-Zip\\7zFM.exe" "%1"`` -> ``C:\\Program Files\\7-Zip\\7zFM.exe``."""
    command = expand_windows_vars(command.strip(), host)
    if command.startswith('"'):
        return command[1:].split('"', 1)[0]
    lowered = command.lower()
    end = lowered.find(".exe")
    return command[: end + 4] if end >= 0 else command.split(" ", 1)[0]
