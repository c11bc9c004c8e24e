"""Check ``pdf_reader``: a program can open PDF files.

Facts: the software inventory: PDF readers of the catalog, any application whose .desktop
file (Linux) or CFBundleDocumentTypes (macOS) declares PDF, browsers with a built-in PDF
viewer, and on Windows the program ``.pdf`` files are associated with. A browser's viewer
counts (it is what candidates use most), but a dedicated reader is named first.
"""
from __future__ import annotations

from checks.base import CheckContext
from checks.result import CheckResult, Status
from checks.softcheck import fix_for_os, item, join, label, software

ID = "pdf_reader"


def budget_s(ctx: CheckContext) -> float:
    return 20.0


def run(ctx: CheckContext) -> CheckResult:
    inv = software(ctx)
    readers = inv.pdf_capable()
    browsers = [b for b in inv.of_kind("browser") if b.pdf_builtin]
    items = [item(ctx, p, Status.ok, how="reader") for p in readers]
    items += [item(ctx, b, Status.ok, how="browser_builtin_viewer") for b in browsers]
    association = inv.pdf_default
    if readers:
        summary = ctx.t("software.pdf.ok_reader", names=join(ctx, [label(ctx, p) for p in readers]))
    elif browsers:
        summary = ctx.t("software.pdf.ok_browser", names=join(ctx, [b.name for b in browsers]))
    else:
        return ctx.result(ID, Status.fail, ctx.t("software.pdf.none"),
                          remediation=fix_for_os(ctx, "software.pdf.fix"))
    if association is not None:
        summary = ctx.t("software.pdf.default", summary=summary, name=association.name)
    return ctx.result(ID, Status.ok, summary, items=items)
