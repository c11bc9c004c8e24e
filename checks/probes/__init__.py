"""Probes: each gathers one kind of fact about the machine through a ``core.host.Host``.

A fact that the three OSes answer differently has one public module, ``<fact>.py`` (its
data types, the functions the checks call, and ``OS_FUNCTIONS``: what every OS implements),
and one module per OS, ``<fact>_linux.py``, ``<fact>_windows.py``, ``<fact>_macos.py``,
each defining exactly those functions with the same parameters (tests/test_probe_contracts.py).
The public module reaches them through ``for_os`` only, so the per-OS modules may import
its types without an import cycle.
"""
from __future__ import annotations

import importlib
from types import ModuleType

from core.host import OSES, Host


def for_os(host: Host, fact: str) -> ModuleType:
    """The module that implements ``fact`` on ``host``'s OS: ``checks.probes.<fact>_<os>``."""
    if host.os not in OSES:
        raise ValueError(f"unknown OS {host.os!r} (known: {', '.join(OSES)})")
    return importlib.import_module(f"{__name__}.{fact}_{host.os}")
