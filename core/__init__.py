"""What every package of examroom may import, and which imports none of them.

The machine (``Host``), its state folder and id (``state``), bad input (``BadInput``), the
translation table (``i18n``), the report models (``Status``, ``CheckResult``, ``Report``,
``Machine``), the check ids, the companion's ``Event``, the event kinds (``kinds``) and the
room summary. ``checks``,
``whitelist``, ``agent``, ``companion`` and ``supervisor`` sit above it
(tests/test_layering.py enforces the layers).
"""
from __future__ import annotations

__version__ = "0.1.0"
