"""Pointing devices (mouse, touchpad, touchscreen) attached to this machine.

Facts read, through the Host:

- Linux: ``/proc/bus/input/devices`` (blocks of ``N: Name=``, ``H: Handlers=mouse0
  event3``, ``B: EV=``/``REL=``/``PROP=`` bitmaps), else ``/sys/class/input/mouse*/device/name``.
  Devices created by software (uinput, under ``/devices/virtual/``: remote-control tools,
  ydotool) are not hardware a candidate can hold, so they are left out. The virtual *bus*
  (0x06) is not enough to tell: Hyper-V guests' real pointer sits on it.
- Windows: the raw-input mice (``GetRawInputDeviceList``) without the Remote Desktop
  virtual mouse, ``SM_CMOUSEBUTTONS``; ``SM_MOUSEPRESENT`` only when the list cannot be
  read (ctypes through ``host.native``, ``checks.probes.pointing_windows``).
- macOS: ``ioreg -a -r -d 1 -c IOHIDDevice`` (an XML plist): devices whose usage pairs
  include Generic Desktop / Mouse (1, 2) or Pointer (1, 1).

Each OS is in ``pointing_<os>.py`` (``checks.probes.for_os``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from checks.probes import for_os
from core.host import Host

OS_FUNCTIONS = ("read_pointing",)
# Names of touchpads, on every OS.

TOUCHPAD_NAMES = re.compile(r"touch ?pad|trackpad|glidepoint|synaptics", re.IGNORECASE)


@dataclass(frozen=True)
class PointingDevice:
    name: str
    kind: str                 # "mouse" | "touchpad" | "touchscreen" | "pointer" (kind unknown)
    buttons: int | None = None


@dataclass
class PointingFacts:
    devices: list[PointingDevice] = field(default_factory=list)
    readable: bool = True
    reason: str = ""
    source: str = ""


def read_pointing(host: Host) -> PointingFacts:
    return for_os(host, "pointing").read_pointing(host)
