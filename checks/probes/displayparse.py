"""Pure parsers of what display tools print, tested with real outputs (tests/fixtures/displays).

Each returns a list of ``Display``; widths are the display's own pixels, and ``scale`` is
the desktop scaling factor when the tool tells it (1.25 = 125 %), so that the width a web
page sees (``logical_width``) can be judged too.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Display:
    name: str
    width: int
    height: int
    primary: bool = False
    x: int = 0
    y: int = 0
    scale: float | None = None

    @property
    def logical_width(self) -> int | None:
        """The width in CSS pixels a browser gets once the desktop scaling is applied."""
        return round(self.width / self.scale) if self.scale else None


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


# -- xrandr -------------------------------------------------------------------------------
_XRANDR_OUTPUT = re.compile(
    r"^(?P<name>\S+) connected (?P<primary>primary )?(?P<w>\d+)x(?P<h>\d+)\+(?P<x>-?\d+)\+(?P<y>-?\d+)"
    r"(?: \w+)? ?(?:\((?P<caps>[^)]*)\))?")
_XRANDR_ROTATED = re.compile(r"^\S+ connected (?:primary )?\d+x\d+\+-?\d+\+-?\d+ (left|right) ")


def parse_xrandr(text: str) -> list[Display]:
    """``xrandr --query``: one display per connected output that has a mode."""
    found = []
    for line in text.splitlines():
        match = _XRANDR_OUTPUT.match(line)
        if match:
            found.append(Display(match["name"], int(match["w"]), int(match["h"]),
                                 bool(match["primary"]), int(match["x"]), int(match["y"])))
    if not found:
        # Virtual servers (Xvfb, Xvnc) may list no output: the screen line is all there is.
        match = re.search(r"^Screen \d+: .*current (\d+) x (\d+)", text, re.MULTILINE)
        if match:
            found.append(Display("screen", int(match[1]), int(match[2]), True))
    return found


# -- wlr-randr ----------------------------------------------------------------------------
def _rotated(transform: str | None) -> bool:
    return bool(transform) and transform.replace("flipped-", "").replace("flipped", "") in ("90", "270")


def parse_wlr_randr_json(text: str) -> list[Display]:
    """``wlr-randr --json`` (wlr-randr >= 0.4)."""
    try:
        outputs = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    found = []
    for out in outputs if isinstance(outputs, list) else []:
        if not out.get("enabled", True):
            continue
        mode = next((m for m in out.get("modes", []) if m.get("current")), None)
        if not mode:
            continue
        w, h = int(mode["width"]), int(mode["height"])
        if _rotated(str(out.get("transform", ""))):
            w, h = h, w
        pos = out.get("position") or {}
        found.append(Display(out.get("name", "?"), w, h, False, int(pos.get("x", 0)),
                             int(pos.get("y", 0)), float(out.get("scale") or 1.0)))
    return _first_is_primary(found)


def parse_wlr_randr(text: str) -> list[Display]:
    """Plain ``wlr-randr``: blocks starting with ``NAME "description"``."""
    found = []
    for block in re.split(r"\n(?=\S)", text.strip()):
        lines = block.splitlines()
        if not lines or not lines[0].strip():
            continue
        name = lines[0].split()[0]
        body = "\n".join(lines[1:])
        if re.search(r"^\s*Enabled:\s*no", body, re.MULTILINE):
            continue
        mode = re.search(r"^\s*(\d+)x(\d+) px\b[^\n]*\bcurrent\b", body, re.MULTILINE)
        if not mode:
            continue
        w, h = int(mode[1]), int(mode[2])
        transform = re.search(r"^\s*Transform:\s*(\S+)", body, re.MULTILINE)
        if _rotated(transform[1] if transform else None):
            w, h = h, w
        pos = re.search(r"^\s*Position:\s*(-?\d+),(-?\d+)", body, re.MULTILINE)
        scale = re.search(r"^\s*Scale:\s*([\d.]+)", body, re.MULTILINE)
        found.append(Display(name, w, h, False, int(pos[1]) if pos else 0, int(pos[2]) if pos else 0,
                             float(scale[1]) if scale else None))
    return _first_is_primary(found)


def _first_is_primary(found: list[Display]) -> list[Display]:
    # wlroots has no "primary" output; the one at 0,0 is where panels and new windows go.
    if not found:
        return found
    origin = next((d for d in found if (d.x, d.y) == (0, 0)), found[0])
    return [Display(d.name, d.width, d.height, d is origin, d.x, d.y, d.scale) for d in found]


# -- kscreen-doctor (KDE Plasma) ----------------------------------------------------------
def parse_kscreen_doctor(text: str) -> list[Display]:
    """``kscreen-doctor -o``: ``Output: ID NAME`` blocks (with colour codes)."""
    text = _ANSI.sub("", text)
    found = []
    for block in re.split(r"(?m)^(?=Output:)", text):
        head = re.match(r"Output:\s*\d+\s+(\S+)", block)
        if not head:
            continue
        # Plasma 5 prints "Output: 1 eDP-1 enabled ..." on one line, Plasma 6 one fact per
        # line; other lines say "disabled" too (HDR, wide colour gamut).
        state = re.search(r"^Output:\s*\d+\s+\S+\s+(enabled|disabled)\b|^\s+(enabled|disabled)\s*$",
                          block, re.MULTILINE)
        if not state or "disabled" in (state[1], state[2]):
            continue
        current = re.search(r"\b\d+:(\d+)x(\d+)@[\d.]+\*", block)
        geometry = re.search(r"Geometry:\s*(-?\d+),(-?\d+)\s+(\d+)x(\d+)", block)
        scale = re.search(r"Scale:\s*([\d.]+)", block)
        if current:
            w, h = int(current[1]), int(current[2])
        elif geometry:
            w, h = int(geometry[3]), int(geometry[4])
        else:
            continue
        rotation = re.search(r"Rotation:\s*(\d+)", block)
        if rotation and rotation[1] in ("2", "8"):  # KScreen: 2 = left, 8 = right
            w, h = h, w
        primary = re.search(r"\bpriority 1\b|\bprimary\b", block) is not None
        found.append(Display(head[1], w, h, primary,
                             int(geometry[1]) if geometry else 0, int(geometry[2]) if geometry else 0,
                             float(scale[1]) if scale else None))
    if found and not any(d.primary for d in found):
        found = _first_is_primary(found)
    return found


# -- macOS system_profiler ----------------------------------------------------------------
_WXH = re.compile(r"(\d+)\s*x\s*(\d+)")


def parse_system_profiler(text: str) -> list[Display]:
    """``system_profiler SPDisplaysDataType -json``: displays are the ``spdisplays_ndrvs``
    of each graphics card."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    found = []
    for gpu in data.get("SPDisplaysDataType", []):
        for screen in gpu.get("spdisplays_ndrvs", []) or []:
            if screen.get("spdisplays_online", "spdisplays_yes") == "spdisplays_no":
                continue
            pixels = _WXH.search(str(screen.get("_spdisplays_pixels", "")))
            looks = _WXH.search(str(screen.get("_spdisplays_resolution")
                                    or screen.get("spdisplays_resolution", "")))
            size = pixels or looks
            if not size:
                continue
            w, h = int(size[1]), int(size[2])
            scale = round(w / int(looks[1]), 2) if pixels and looks and int(looks[1]) else None
            primary = screen.get("spdisplays_main") == "spdisplays_yes"
            found.append(Display(str(screen.get("_name", "display")), w, h, primary, scale=scale))
    return found
