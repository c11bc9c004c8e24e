"""storage: the folder where candidates save files is writable and has enough free space.

Facts: the save location (``--storage``, else the Documents folder the OS names, else home:
``checks.probes.folders``), a real write / read-back / delete of a small file in it, and
the free space there (``psutil.disk_usage``; on Windows this is the space available to the
user, quotas of a file server included). The folder is left exactly as found: the test file
has a unique name, is removed, and the folder's times are put back.
"""
from __future__ import annotations

import errno
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from checks.base import CheckContext
from core.host import OS_WINDOWS
from checks.probes.folders import (
    SaveLocation, folder_times_kept, running_as_root, save_location, unique_name,
)
from core.result import CheckResult, Item, Status
from core.oserror import describe

CHECK_ID = "storage"
# Big enough to go past a cache-only "success" on a share, small enough for any quota.
PAYLOAD_SIZE = 256 * 1024
# Windows Explorer shows GiB and calls them "Go"/"GB": use the same unit so the technician
# reads the same number in the report and in the folder's properties.
BYTES_PER_GB = 1024 ** 3


@dataclass
class WriteTrial:
    ok: bool
    problem: str | None = None      # "not_writable" | "full" | "read_only" | "corrupt" | "io"
    reason: str | None = None
    error: OSError | None = None    # the OS's error, said in the report's language (core/oserror.py)

    def said(self, lang: str) -> str:
        return describe(self.error, lang) if self.error is not None else (self.reason or "")


def budget_s(ctx: CheckContext) -> float:
    return 30.0  # a slow file server may take seconds to answer the first open


def location_of(ctx: CheckContext) -> tuple[SaveLocation, Path]:
    loc = save_location(ctx.host, str(ctx.options.storage) if ctx.options.storage else None)
    return loc, ctx.host.path(loc.path)


def run(ctx: CheckContext) -> CheckResult:
    loc, folder = location_of(ctx)
    threshold = ctx.policy.min_free_space_gb
    item = Item(name=loc.path, detail=ctx.t(f"storage.source.{loc.source}"),
                network=loc.is_network)

    def fail(summary_key: str, remediation_key: str, **fields: object) -> CheckResult:
        item.status = Status.fail
        return ctx.result(CHECK_ID, Status.fail, ctx.t(summary_key, path=loc.path, **fields),
                          remediation=ctx.t(remediation_key, path=loc.path, **fields),
                          items=[item], threshold=threshold, unit="GB")

    try:
        exists, is_dir = folder.exists(), folder.is_dir()
    except OSError as exc:  # a parent folder the user may not enter, a share refusing us
        problem = _problem(exc)
        return fail(f"storage.write.{problem}", f"storage.write.{problem}.fix",
                    reason=describe(exc, ctx.lang))
    if not exists:
        return fail("storage.missing", "storage.missing.fix")
    if not is_dir:
        return fail("storage.not_a_folder", "storage.not_a_folder.fix")

    trial = write_read_delete(folder, windows=ctx.host.os == OS_WINDOWS)
    # The trailing-backslash rule is the real Win32 API's: a simulated host has no such API.
    free_gb = free_space_gb(folder, windows=ctx.host.os == OS_WINDOWS and ctx.host.is_real)
    if not trial.ok:
        result = fail(f"storage.write.{trial.problem}", f"storage.write.{trial.problem}.fix",
                      reason=trial.said(ctx.lang))
        return result.model_copy(update={"measured": free_gb})
    if free_gb is None:
        return ctx.result(CHECK_ID, Status.error, ctx.t("storage.free_unknown", path=loc.path),
                          remediation=ctx.t("storage.free_unknown.fix"), items=[item],
                          threshold=threshold, unit="GB")
    if free_gb < threshold:
        item.status = Status.fail
        return ctx.result(
            CHECK_ID, Status.fail,
            ctx.t("storage.low", path=loc.path, free=_num(free_gb, ctx.lang), need=_num(threshold, ctx.lang)),
            remediation=ctx.t("storage.low.fix", path=loc.path, need=_num(threshold, ctx.lang)),
            items=[item], measured=free_gb, threshold=threshold, unit="GB")
    summary = ctx.t("storage.ok", path=loc.path, free=_num(free_gb, ctx.lang))
    if running_as_root(ctx.host):
        # "sudo examroom check" is common: the test then wrote as root (in root's home
        # unless --storage was given), which says nothing of what candidates can do.
        item.status = Status.warn
        fix = "storage.as_root.fix" if loc.source == "option" else "storage.as_root_home.fix"
        return ctx.result(CHECK_ID, Status.warn, summary + ctx.t("storage.as_root"),
                          remediation=ctx.t(fix, path=loc.path), items=[item], measured=free_gb,
                          threshold=threshold, unit="GB")
    return ctx.result(CHECK_ID, Status.ok, summary, items=[item], measured=free_gb,
                      threshold=threshold, unit="GB")


def write_read_delete(folder: Path, *, windows: bool = False) -> WriteTrial:
    """Create a file with a unique name, read it back, compare the bytes, delete it."""
    payload = os.urandom(PAYLOAD_SIZE)
    target = folder / (unique_name(".examroom-storage") + ".tmp")
    with folder_times_kept(folder):
        try:
            # "x": never overwrite anything, even if the unlikely name exists.
            with open(target, "xb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            back = target.read_bytes()
        except OSError as exc:
            _remove(target, windows)
            return WriteTrial(False, _problem(exc), exc.strerror or str(exc), exc)
        removed = _remove(target, windows)
    if back != payload:
        return WriteTrial(False, "corrupt", f"{len(back)} / {len(payload)}")
    if removed is not None:
        return WriteTrial(False, "not_deletable", removed)
    return WriteTrial(True)


def free_space_gb(folder: Path, *, windows: bool = False) -> float | None:
    """Free space, rounded DOWN to 0.1 GB: 0.96 GB must not read as "1.0 GB" and fail."""
    path = str(folder)
    if windows and not path.endswith(("\\", "/")):
        # GetDiskFreeSpaceExW wants a directory with its trailing backslash for the root
        # of a share (\\server\share\); any folder accepts it.
        path += "\\"
    try:
        free = psutil.disk_usage(path).free
    except OSError:
        return None
    return math.floor(free / BYTES_PER_GB * 10) / 10


def _remove(target: Path, windows: bool) -> str | None:
    """Delete ``target``; the error text when it cannot be deleted."""
    # Antivirus scanners on Windows hold a new file for a moment: retry briefly.
    attempts = 5 if windows else 1
    for attempt in range(attempts):
        try:
            target.unlink(missing_ok=True)
            return None
        except OSError as exc:
            if attempt == attempts - 1:
                return exc.strerror or str(exc)
            time.sleep(0.2)
    return None


def _problem(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return "full"
    if exc.errno == errno.EROFS:
        return "read_only"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "not_writable"
    return "io"


def _num(value: float, lang: str) -> str:
    from core.i18n import fmt_number

    return fmt_number(value, lang, 1)
