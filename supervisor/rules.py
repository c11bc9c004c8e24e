"""Rules of the domain applied to what the server stores, the same whatever the backend.

Pure functions of their arguments: which event is an alert, what a machine row shows of a
report (its problems, worst first) and which machine fields are "facts".
"""
from __future__ import annotations

from typing import Any

from core.kinds import kinds

_PROBLEM_ORDER = {"fail": 0, "error": 1, "warn": 2}
_IDENTITY = ("id", "hostname", "os", "os_version")


def is_alert(kind: str, details: dict[str, Any]) -> bool:
    # The kind's spec decides (core/data/kinds.toml): its level, or the level the companion judged;
    # an event naming the alert of its act (`act_of`) is never a second alert: one alert per act.
    return kinds().is_alert(kind, details)


def machine_facts(machine: dict[str, Any]) -> dict[str, Any]:
    """What a machine told about itself beyond its identity (arch, cpu_count, ram_gb...)."""
    return {k: v for k, v in machine.items() if k not in _IDENTITY}


def machine_identity(machine: dict[str, Any]) -> dict[str, Any]:
    return {"hostname": machine.get("hostname", ""), "os": machine.get("os", ""),
            "os_version": machine.get("os_version", ""), "facts": machine_facts(machine)}


def report_summary(report: dict[str, Any]) -> dict[str, Any]:
    """The machine row's fields set by a report: identity, verdict and problems (fail, error, warn)."""
    problems = [{k: c.get(k) for k in ("id", "title", "status", "summary", "remediation")}
                for c in report.get("checks", []) if c.get("status") in _PROBLEM_ORDER]
    problems.sort(key=lambda p: _PROBLEM_ORDER[p["status"]])
    return {**machine_identity(report.get("machine") or {}), "ready": bool(report.get("ready")),
            "report_status": report.get("status"), "report_at": report.get("finished_at"),
            "problems": problems}
