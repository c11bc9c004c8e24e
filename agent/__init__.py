"""The agent: what a technician runs on a lab machine (crash test, report upload)."""
from __future__ import annotations

__version__ = "0.1.0"
