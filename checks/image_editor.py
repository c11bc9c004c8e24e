"""Check ``image_editor``: GIMP or an equivalent (Photofiltre, Krita, Paint.NET, Pinta) is installed.

Facts: the software inventory (programs of kind ``image`` in checks/data/software.toml).
No age rule here: the checklist asks for the program, not a recent version.
"""
from __future__ import annotations

from checks.base import CheckContext
from core.result import CheckResult
from checks.softcheck import editor_check

ID = "image_editor"


def budget_s(ctx: CheckContext) -> float:
    return 20.0


def run(ctx: CheckContext) -> CheckResult:
    return editor_check(ctx, ID, "image")
