"""Check ``pdf_reader``: a program can open PDF files.

Facts: the software inventory: PDF readers of the catalog and any application whose
.desktop file (Linux) or CFBundleDocumentTypes (macOS) declares PDF, browsers with a
built-in PDF viewer, programs that import PDF (GIMP, LibreOffice Draw), and on Windows the
program ``.pdf`` files are associated with. The summary names the best kind found: a
dedicated reader, else a browser's viewer (what candidates use most), else the rest.
"""
from __future__ import annotations

from checks.base import CheckContext
from core.result import CheckResult, Status
from checks.softcheck import fix_for_os, item, join, label, software

ID = "pdf_reader"


def budget_s(ctx: CheckContext) -> float:
    return 20.0


def run(ctx: CheckContext) -> CheckResult:
    inv = software(ctx)
    readers = inv.pdf_readers()
    browsers = [b for b in inv.of_kind("browser") if b.pdf_builtin]
    openers = inv.pdf_openers()
    association = inv.pdf_default
    items = [item(ctx, p, Status.ok, how="reader") for p in readers]
    items += [item(ctx, b, Status.ok, how="browser_builtin_viewer") for b in browsers]
    items += [item(ctx, p, Status.ok, how="opens_pdf") for p in openers]
    def names(programs: list) -> str:
        return join(ctx, [label(ctx, p, say_unknown=False) for p in programs])

    if readers:
        summary = ctx.t("software.pdf.ok_reader", names=names(readers))
    elif browsers:
        summary = ctx.t("software.pdf.ok_browser", names=join(ctx, [b.name for b in browsers]))
    elif openers:
        summary = ctx.t("software.pdf.ok_reader", names=names(openers))
    elif association is not None and association.command:
        # Windows knows a program for .pdf that our catalog does not (PDFelement...).
        summary = ctx.t("software.pdf.ok_reader", names=association.name)
    else:
        return ctx.result(ID, Status.fail, ctx.t("software.pdf.none"),
                          remediation=fix_for_os(ctx, "software.pdf.fix"))
    if association is not None:
        summary = ctx.t("software.pdf.default", summary=summary, name=association.name)
    return ctx.result(ID, Status.ok, summary, items=items)
