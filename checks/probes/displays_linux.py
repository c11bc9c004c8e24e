"""Linux displays: X11 (python-xlib, then xrandr), Wayland (wlr-randr, kscreen-doctor), then
pywebview's screen list. The X server is the one ``host.env`` names (``DISPLAY``), never this
process's own: a test points a fake host at its own Xvfb.
"""
from __future__ import annotations

import dataclasses
import re

from checks.probes.displayparse import (
    Display, parse_kscreen_doctor, parse_wlr_randr, parse_wlr_randr_json, parse_xrandr,
)
from checks.probes.displays import DisplayFacts
from checks.probes.webviewscreens import webview_screens
from core.host import Host


def read_displays(host: Host) -> DisplayFacts:
    x_display = host.getenv("DISPLAY")
    wayland = host.getenv("WAYLAND_DISPLAY")
    if not x_display and not wayland:
        # Typical of a run over SSH or from a service while a desktop is open on the
        # machine: say where it is, so the technician knows where to run the test.
        return DisplayFacts(problem="no_display", reason=", ".join(running_x_displays(host)))
    reasons: list[str] = []
    if x_display:
        found, reason = _xlib(x_display)
        if found:
            return DisplayFacts(_primary_or_origin(found), "x11")
        reasons.append(reason)
        out = host.run(["xrandr", "--display", x_display, "--query"], timeout=10)
        if out is not None and out.ok:
            found = parse_xrandr(out.stdout)
            if found:
                return DisplayFacts(_primary_or_origin(found), "xrandr")
    if wayland:
        for argv, parser in ((["wlr-randr", "--json"], parse_wlr_randr_json),
                             (["wlr-randr"], parse_wlr_randr),
                             (["kscreen-doctor", "-o"], parse_kscreen_doctor)):
            out = host.run(argv, timeout=10)
            if out is None or not out.ok:
                continue
            try:
                found = parser(out.stdout)
            except ValueError:
                continue
            if found:
                return DisplayFacts(found, argv[0])
        reasons.append(f"Wayland {wayland}: no wlr-randr or kscreen-doctor answer")
    found = webview_screens(host)
    if found:
        return DisplayFacts(found, "pywebview")
    return DisplayFacts(problem="unreadable", reason="; ".join(r for r in reasons if r))


def running_x_displays(host: Host) -> list[str]:
    """":0", ":1"... for the X servers whose sockets are in /tmp/.X11-unix."""
    try:
        names = [p.name for p in host.path("/tmp/.X11-unix").iterdir()]
    except OSError:
        return []
    numbers = sorted(int(n[1:]) for n in names if n[:1] == "X" and n[1:].isdigit())
    return [f":{n}" for n in numbers]


def _primary_or_origin(found: list[Display]) -> list[Display]:
    # X servers without a primary output set (Xvfb, many VMs) put panels and new windows
    # on the output at 0,0: that one is the primary display in practice.
    if any(d.primary for d in found):
        return found
    origin = next((d for d in found if (d.x, d.y) == (0, 0)), found[0])
    return [dataclasses.replace(d, primary=d is origin) for d in found]


def _xlib(name: str) -> tuple[list[Display], str]:
    try:
        from Xlib import display as xdisplay
        from Xlib import error as xerror
    except ImportError:
        return [], "python-xlib is not installed"
    try:
        conn = xdisplay.Display(name)
    except (xerror.DisplayError, OSError) as exc:
        return [], str(exc)
    try:
        found: list[Display] = []
        for number in range(conn.screen_count()):
            found += _xlib_screen(conn, number)
        scale = _xft_scale(conn)
        if scale is not None:
            found = [dataclasses.replace(d, scale=d.scale or scale) for d in found]
        return found, ""
    except (xerror.XError, OSError) as exc:
        return [], f"X display {name}: {exc}"
    finally:
        conn.close()


def _xft_scale(conn) -> float | None:
    """The desktop scaling of an X11 session: ``Xft.dpi`` in the root window's resources
    (GNOME and KDE set 192 for 200 %). Chrome and Firefox on X11 size web pages by it."""
    from Xlib import Xatom

    prop = conn.screen(0).root.get_full_property(Xatom.RESOURCE_MANAGER, Xatom.STRING)
    value = prop.value if prop is not None else b""
    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    match = re.search(r"^Xft\.dpi:\s*([\d.]+)\s*$", text, re.MULTILINE)
    if not match or float(match[1]) <= 0:
        return None
    return round(float(match[1]) / 96, 2)


def _randr_version(conn) -> tuple[int, int] | None:
    """The RandR version the server speaks, None without the extension."""
    if not conn.has_extension("RANDR"):
        return None
    reply = conn.xrandr_query_version()
    return reply.major_version, reply.minor_version


def _xlib_screen(conn, number: int) -> list[Display]:
    screen = conn.screen(number)
    root = screen.root
    prefix = f"{number}:" if conn.screen_count() > 1 else ""
    version = _randr_version(conn)
    if version is not None:
        from Xlib.ext import randr

        if version >= (1, 5):
            monitors = randr.get_monitors(root, True).monitors
            if monitors:
                return [Display(prefix + conn.get_atom_name(m["name"]), m["width_in_pixels"],
                                m["height_in_pixels"], bool(m["primary"]), m["x"], m["y"])
                        for m in monitors]
        # RandR 1.2-1.4 (older servers, some VNC and thin-client X servers): active CRTCs.
        resources = randr.get_screen_resources(root)
        primary = randr.get_output_primary(root).output if version >= (1, 3) else 0
        crtc_displays = []
        for output in resources.outputs:
            info = randr.get_output_info(root, output, resources.config_timestamp)
            if not info.crtc:  # disconnected or switched off
                continue
            crtc = randr.get_crtc_info(root, info.crtc, resources.config_timestamp)
            crtc_displays.append(Display(prefix + info.name, crtc.width, crtc.height,
                                         output == primary, crtc.x, crtc.y))
        if crtc_displays:
            return crtc_displays
    return [Display(prefix + "screen", screen.width_in_pixels, screen.height_in_pixels, number == 0)]
