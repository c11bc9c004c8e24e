"""archive: a zip archive can be extracted into the save location, and candidates have a
program to do it.

Facts: a zip built in memory (a folder, a file with an accented name, a nested file) is
extracted with ``zipfile`` into a uniquely named temporary folder of the save location
(the one ``storage`` tests), each file is compared with the archive (CRC-32 and bytes),
then everything is removed, in a ``finally`` so that a failure half-way leaves nothing
behind. The archive programs, and what a double-click on a .zip opens, come from
``checks.probes.archivers``.
"""
from __future__ import annotations

import io
import shutil
import time
import unicodedata
import zipfile
import zlib
from pathlib import Path

from checks.base import CheckContext
from core.host import OS_LINUX, OS_WINDOWS
from checks.probes.archivers import ArchiveTool, ZipHandler, archive_tools, zip_handler
from checks.probes.folders import folder_times_kept, save_location, unique_name
from core.result import CheckResult, Item, Status

CHECK_ID = "archive"

# What a Pix question's attachment looks like once unpacked: accents, spaces, nesting.
MEMBERS: dict[str, bytes] = {
    "Données/résumé été.txt": "Résumé de l'été : crème brûlée, façade, œuvre.\n".encode("utf-8"),
    "dossier/sous-dossier/fichier.txt": b"contenu du fichier imbrique\n" * 64,
    "lisez-moi.txt": "Archive de test examroom : vous pouvez la supprimer.\n".encode("utf-8"),
}
EMPTY_DIRS = ("dossier vide/",)


class ExtractionProblem(Exception):
    """The extracted tree is not the archive's (missing, extra or different files)."""


def budget_s(ctx: CheckContext) -> float:
    return 30.0


def build_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for folder in EMPTY_DIRS:
            archive.writestr(zipfile.ZipInfo(folder), b"")
        for name, data in MEMBERS.items():
            # Non-ASCII names get the UTF-8 flag (bit 11), as 7-Zip and macOS write them.
            archive.writestr(name, data)
    return buffer.getvalue()


def run(ctx: CheckContext) -> CheckResult:
    loc = save_location(ctx.host, str(ctx.options.storage) if ctx.options.storage else None)
    folder = ctx.host.path(loc.path)
    tools = archive_tools(ctx.host)
    items = [_tool_item(tool, ctx) for tool in tools]

    problem = extract_and_verify(folder, windows=ctx.host.os == OS_WINDOWS)
    if problem is not None:
        kind, reason = problem
        return ctx.result(CHECK_ID, Status.fail,
                          ctx.t(f"archive.{kind}", path=loc.path, reason=reason),
                          remediation=ctx.t(f"archive.{kind}.fix", path=loc.path), items=items)

    handler = zip_handler(ctx.host)
    if handler is not None:
        items.append(_handler_item(handler, ctx))
        if handler.present is False:
            shown = handler.program or handler.name
            return ctx.result(CHECK_ID, Status.warn, ctx.t("archive.handler_missing", program=shown),
                              remediation=ctx.t("archive.handler_missing.fix", program=shown), items=items)

    gui = [t for t in tools if t.graphical]
    if not gui and ctx.host.os == OS_LINUX:
        return ctx.result(CHECK_ID, Status.warn, ctx.t("archive.no_tool", path=loc.path),
                          remediation=ctx.t("archive.no_tool.fix"), items=items)
    return ctx.result(CHECK_ID, Status.ok,
                      ctx.t("archive.ok", path=loc.path, tools=", ".join(t.name for t in gui)),
                      items=items)


def extract_and_verify(folder: Path, *, windows: bool = False) -> tuple[str, str] | None:
    """None when the archive extracted and verified; else (kind, reason).

    kind is "missing" (no such folder), "not_a_folder", "extract" (could not write), "mismatch" (wrong
    contents) or "leftover" (could not clean up after itself).
    """
    try:
        if not folder.is_dir():
            return ("not_a_folder" if folder.exists() else "missing"), str(folder)
    except OSError as exc:  # a parent folder we may not enter
        return "extract", exc.strerror or str(exc)
    target = folder / unique_name("examroom-archive")
    outcome: tuple[str, str] | None = None
    with folder_times_kept(folder):
        try:
            with zipfile.ZipFile(io.BytesIO(build_zip())) as archive:
                target.mkdir()
                for member in archive.infolist():
                    _extract_member(archive, member, target)
                _verify(archive, target)
        except ExtractionProblem as exc:
            outcome = ("mismatch", str(exc))
        except (OSError, zipfile.BadZipFile) as exc:
            outcome = ("extract", getattr(exc, "strerror", None) or str(exc))
        finally:
            left = _remove_tree(target, attempts=5 if windows else 1)
        if left and outcome is None:
            outcome = ("leftover", left)
    return outcome


def _extract_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path) -> None:
    archive.extract(member, target)


def _verify(archive: zipfile.ZipFile, target: Path) -> None:
    expected = {info.filename: info for info in archive.infolist() if not info.is_dir()}
    # macOS file systems may hand names back decomposed (é = e + U+0301): compare in NFC.
    found = {unicodedata.normalize("NFC", p.relative_to(target).as_posix()): p
             for p in target.rglob("*") if p.is_file()}
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    if missing or extra:
        raise ExtractionProblem(", ".join([f"- {m}" for m in missing] + [f"+ {e}" for e in extra]))
    for name, info in expected.items():
        data = found[name].read_bytes()
        if zlib.crc32(data) != info.CRC or data != MEMBERS[name]:
            raise ExtractionProblem(name)
    for folder in EMPTY_DIRS:
        if not (target / folder).is_dir():
            raise ExtractionProblem(f"- {folder}")


def _remove_tree(target: Path, attempts: int = 1) -> str | None:
    """Remove ``target``; the first error when something is left."""
    errors: list[str] = []
    for attempt in range(attempts):
        if not target.exists():
            return None
        if attempt:
            # Windows antivirus scanners hold freshly written files for a moment.
            time.sleep(0.2)
        errors.clear()
        # onerror (not 3.12's onexc): Python 3.11 is supported.
        shutil.rmtree(target, onerror=lambda _f, path, info: errors.append(f"{path}: {info[1]}"))
    return None if not target.exists() else (errors[0] if errors else str(target))


def _tool_item(tool: ArchiveTool, ctx: CheckContext) -> Item:
    kind = "archive.tool.gui" if tool.graphical else "archive.tool.cli"
    return Item(name=tool.name, detail=ctx.t(kind, where=tool.where), graphical=tool.graphical)


def _handler_item(handler: ZipHandler, ctx: CheckContext) -> Item:
    if handler.program is None and handler.present:
        detail = ctx.t("archive.handler.builtin")
    else:
        detail = handler.program or handler.name
    status = Status.warn if handler.present is False else Status.ok
    return Item(name=ctx.t("archive.handler"), detail=detail, status=status, handler=handler.name)
