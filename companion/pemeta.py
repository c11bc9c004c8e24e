"""The version resource of a Windows executable: who made it and what it was called at build time.

A renamed ``AnyDesk.exe`` (``calc.exe`` in Downloads) still says ``OriginalFilename =
AnyDesk.exe``, ``InternalName = AnyDesk`` and ``CompanyName = AnyDesk Software GmbH`` in its
version resource (RT_VERSION, StringFileInfo). Read with pefile, the same on every OS, so the
rules that use it (companion/processes.py) are tested on Linux with real PE files; the file
is untrusted (the candidate may have brought it): pefile's errors, a file that is not a PE,
or one without a version resource all mean "not readable", never an exception to the caller.
"""
from __future__ import annotations

import os

FIELDS = {"OriginalFilename": "original_filename", "InternalName": "internal_name", "CompanyName": "company",
          "ProductName": "product"}
MAX_BYTES = 512 * 2**20    # a bigger file is not read (pefile maps it whole)
VALUE_MAX = 256


def pe_metadata(exe: str) -> dict[str, str] | None:
    """{original_filename, internal_name, company, product} (those present), or None."""
    try:
        if os.path.getsize(exe) > MAX_BYTES:
            return None
        with open(exe, "rb") as handle:
            if handle.read(2) != b"MZ":
                return None
    except OSError:
        return None
    import pefile

    try:
        pe = pefile.PE(exe, fast_load=True)
    except (pefile.PEFormatError, OSError, ValueError):
        return None
    try:
        pe.parse_data_directories(directories=[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_RESOURCE"]])
        out: dict[str, str] = {}
        for group in getattr(pe, "FileInfo", None) or []:
            for info in group:
                if getattr(info, "Key", b"") != b"StringFileInfo":
                    continue
                for table in getattr(info, "StringTable", []):
                    for key, value in table.entries.items():
                        name = FIELDS.get(_text(key))
                        if name and name not in out and _text(value):
                            out[name] = _text(value)[:VALUE_MAX]
        return out or None
    except Exception:   # pefile on a crafted file: any failure is "not readable"
        return None
    finally:
        pe.close()


def _text(value: bytes | str) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value.strip().strip("\x00")
