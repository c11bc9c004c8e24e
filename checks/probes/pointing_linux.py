"""Linux pointing devices: ``/proc/bus/input/devices``, else ``/sys/class/input/mouse*``."""
from __future__ import annotations

import re

from checks.probes.pointing import TOUCHPAD_NAMES, PointingDevice, PointingFacts
from core.host import Host

EV_REL, EV_ABS = 0x02, 0x03
REL_X = 0x00
INPUT_PROP_POINTER = 0x00     # touchpads: an absolute surface that moves a cursor
INPUT_PROP_DIRECT = 0x01      # touchscreens: the pointer is where the finger is


def read_pointing(host: Host) -> PointingFacts:
    proc = host.path("/proc/bus/input/devices")
    try:
        return PointingFacts(parse_proc_input_devices(proc.read_text(errors="replace")),
                             source="/proc/bus/input/devices")
    except OSError as exc:
        proc_error = f"{proc}: {exc.strerror or exc}"
    sys_input = host.path("/sys/class/input")
    try:
        entries = sorted(sys_input.iterdir())
    except OSError as exc:
        return PointingFacts(readable=False, reason=f"{proc_error}; {sys_input}: {exc.strerror or exc}")
    devices = []
    for entry in entries:
        if not re.fullmatch(r"mouse\d+", entry.name):
            continue
        try:
            name = (entry / "device" / "name").read_text(errors="replace").strip()
        except OSError:
            name = entry.name
        devices.append(PointingDevice(name, TOUCHPAD_NAMES.search(name) and "touchpad" or "mouse"))
    return PointingFacts(devices, source="/sys/class/input")


def parse_proc_input_devices(text: str) -> list[PointingDevice]:
    found = []
    for block in re.split(r"\n\s*\n", text.strip()):
        fields: dict[str, str] = {}
        bits: dict[str, int] = {}
        for line in block.splitlines():
            kind, _, rest = line.partition(": ")
            if kind == "B":
                name, _, value = rest.partition("=")
                bits[name] = _bitmap(value)
            elif kind in ("I", "N", "H", "P", "S"):
                fields[kind] = rest
        name_match = re.search(r'Name="(.*)"', fields.get("N", ""))
        name = name_match.group(1) if name_match else "?"
        if fields.get("S", "").startswith("Sysfs=/devices/virtual/"):
            continue
        handlers = fields.get("H", "")
        has_mouse_handler = re.search(r"\bmouse\d+\b", handlers) is not None
        relative = bool(bits.get("EV", 0) >> EV_REL & 1) and bool(bits.get("REL", 0) >> REL_X & 1)
        if not has_mouse_handler and not relative:
            continue
        if bits.get("PROP", 0) >> INPUT_PROP_DIRECT & 1:
            kind = "touchscreen"
        elif TOUCHPAD_NAMES.search(name) or (bits.get("PROP", 0) >> INPUT_PROP_POINTER & 1 and not relative):
            kind = "touchpad"
        else:
            kind = "mouse"
        found.append(PointingDevice(name, kind))
    return found


def _bitmap(value: str) -> int:
    """The kernel prints bitmaps as hex words, most significant first: "70000 0 0 0"."""
    words = value.split()
    result = 0
    for word in words:
        try:
            result = (result << 64) | int(word, 16)
        except ValueError:
            return 0
    return result
