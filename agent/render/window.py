"""The report in a pywebview window. (Placeholder until the technician-experience issue lands.)"""
from __future__ import annotations

import sys


def run_in_window(ids, ctx):
    """Run the crash test in a window; ``None`` when no window can be shown."""
    sys.stderr.write("examroom: --gui is not available yet; showing the terminal report\n")
    return None
