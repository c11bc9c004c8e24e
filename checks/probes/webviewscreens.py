"""Display sizes as pywebview's GUI toolkit sees them: the last resort on Linux when
neither X11 nor a Wayland tool (wlr-randr, kscreen-doctor) answered, e.g. GNOME on
Wayland with XWayland switched off.

The toolkit (Qt or GTK) runs in a child process (``host.run``): a toolkit started inside
the check's thread could not be shut down cleanly, and a second start in one process
crashes Qt. The child is told which display to use through its arguments, since the
display belongs to the Host, not to this process's environment.
"""
from __future__ import annotations

import json
import sys

from core.host import Host
from checks.probes.displayparse import Display

# argv[1] and argv[2]: DISPLAY and WAYLAND_DISPLAY ("" when unset).
SCRIPT = """
import json, os, sys
for name, value in (("DISPLAY", sys.argv[1]), ("WAYLAND_DISPLAY", sys.argv[2])):
    if value:
        os.environ[name] = value
    else:
        os.environ.pop(name, None)
import webview
print(json.dumps([dict(x=s.x, y=s.y, width=s.physical_width, height=s.physical_height,
                       scale=s.scale) for s in webview.screens]))
"""


def webview_screens(host: Host, timeout: float = 20.0) -> list[Display] | None:
    """None when pywebview or its toolkit is missing or failed."""
    out = host.run([sys.executable, "-c", SCRIPT, host.getenv("DISPLAY") or "",
                    host.getenv("WAYLAND_DISPLAY") or ""], timeout=timeout)
    if out is None or not out.ok:
        return None
    try:
        return parse_webview_screens(out.stdout)
    except ValueError:
        return None


def parse_webview_screens(text: str) -> list[Display]:
    # The toolkit may print warnings before the JSON line: take the last line.
    lines = [line for line in text.strip().splitlines() if line.strip()]
    try:
        screens = json.loads(lines[-1]) if lines else []
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    found = []
    for index, screen in enumerate(screens if isinstance(screens, list) else []):
        scale = float(screen.get("scale") or 1.0)
        found.append(Display(f"screen {index}", int(screen["width"]), int(screen["height"]),
                             index == 0, int(screen.get("x", 0)), int(screen.get("y", 0)), scale))
    return found
