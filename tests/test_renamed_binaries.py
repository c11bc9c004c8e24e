"""Renamed forbidden programs, for real: Debian's own binaries of the catalog's programs copied
under an innocent name and changed by one byte appended (another build: the installed file's
SHA-256 no longer helps) are still known by their content signatures; some of them run (pidgin
and TigerVNC's X0tigervnc under Xvfb, irssi in a pseudo-terminal) and the process watcher
flags them by their catalog name. Windows executables: the version resource of real PE files
(one built here with the MinGW binutils, the launchers pip ships) gives OriginalFilename and
InternalName, which catch a renamed AnyDesk.exe."""
from __future__ import annotations

import os
import pty
import shutil
import subprocess
from pathlib import Path

import pytest

from companion.identities import Identities
from companion.pemeta import pe_metadata
from companion.processes import ForbiddenWatcher, Proc, load_catalog, match
from tests.companion_support import wait_for
from tests.support import free_port, need, xvfb

LINUX = load_catalog("linux")
WINDOWS = load_catalog("windows")

# Debian packages (in .ci/run): binary -> catalog label
SIGNED = {"pidgin": "Pidgin", "hexchat": "HexChat", "mumble": "Mumble", "tmate": "tmate", "weechat": "WeeChat / Irssi",
          "irssi": "WeeChat / Irssi", "x11vnc": "VNC", "X0tigervnc": "VNC"}


def another_build(binary: str, target: Path) -> Path:
    """A copy of the real binary, one byte longer: not the installed file's hash any more."""
    shutil.copy(shutil.which(binary), target)
    with target.open("ab") as handle:
        handle.write(b"\0")
    return target


@pytest.mark.parametrize("binary", sorted(SIGNED))
def test_each_signed_program_is_known_by_its_content_under_any_name(binary: str, tmp_path: Path) -> None:
    need(binary)
    copy = another_build(binary, tmp_path / "revisions-maths")
    no_hashes = Identities(LINUX, search=[])          # only the signatures can tell
    found = no_hashes.program_of(str(copy))
    assert found is not None and found.label == SIGNED[binary]
    assert match(Proc(1, copy.name, str(copy)), LINUX) is None              # the name says nothing
    assert match(Proc(1, copy.name, str(copy)), LINUX, identities=no_hashes).label == SIGNED[binary]


@pytest.mark.parametrize("innocent", ["xterm", "python3", "evince", "pcmanfm", "sleep"])
def test_other_real_programs_carry_no_signature(innocent: str, tmp_path: Path) -> None:
    need(innocent)
    copy = tmp_path / "outil"
    shutil.copy(os.path.realpath(shutil.which(innocent)), copy)
    assert Identities(LINUX, search=[]).program_of(str(copy)) is None


def _watch(pid: int, watcher: ForbiddenWatcher, events: list) -> dict | None:
    def found() -> dict | None:
        watcher.scan()
        return next((e.wire() for e in events if e.details.get("pid") == pid), None)
    return wait_for(found, timeout=20, step=0.2)


def test_renamed_real_programs_running_are_flagged_by_their_catalog_name(tmp_path: Path) -> None:
    need("pidgin", "X0tigervnc", "irssi", "Xvfb")
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), TERM="xterm")
    chat = another_build("pidgin", tmp_path / "cahier-de-textes")
    vnc = another_build("X0tigervnc", tmp_path / "aide-ecran")
    irc = another_build("irssi", tmp_path / "notes")
    events: list = []
    # me=-1: the test runner is their parent; no installed hashes, the signatures alone
    watcher = ForbiddenWatcher(LINUX, events.append, me=-1, identities=Identities(LINUX, search=[]))
    started: list[subprocess.Popen] = []
    master, slave = pty.openpty()
    try:
        with xvfb(800, 600) as display:
            xenv = dict(env, DISPLAY=display)
            started.append(subprocess.Popen([str(chat), f"--config={home / 'purple'}"], env=xenv,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            started.append(subprocess.Popen([str(vnc), "-display", display, "-rfbport", str(free_port()),
                                             "-localhost", "-SecurityTypes", "None"], env=xenv,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            # irssi in a terminal of its own, with no configuration that connects anywhere
            started.append(subprocess.Popen([str(irc), f"--home={home / 'irssi'}", "--noconnect"], env=env,
                                            stdin=slave, stdout=slave, stderr=slave, start_new_session=True))
            seen = {proc.args[0]: _watch(proc.pid, watcher, events) for proc in started}
            for proc in started:
                assert proc.poll() is None, f"{proc.args[0]} exited with {proc.returncode}"
    finally:
        for proc in started:
            proc.kill()
            proc.wait(10)
        os.close(master)
        os.close(slave)
    assert {Path(name).name: (e["program"], e["name"], e["state"]) if e else None for name, e in seen.items()} == {
        "cahier-de-textes": ("Pidgin", "cahier-de-textes", "started"),
        "aide-ecran": ("VNC", "aide-ecran", "started"),
        "notes": ("WeeChat / Irssi", "notes", "started")}
    assert all(e["level"] == "alert" for e in seen.values())


def _build_pe(tmp_path: Path, name: str, fields: dict[str, str]) -> Path:
    """A real x86-64 Windows executable with a version resource: MinGW's as, windres and ld."""
    pytest.importorskip("pefile", reason="pefile is a dependency: pip install -e .")
    need("x86_64-w64-mingw32-as", "x86_64-w64-mingw32-windres", "x86_64-w64-mingw32-ld", "cpp")
    values = "\n".join(f'      VALUE "{k}", "{v}"' for k, v in fields.items())
    (tmp_path / "app.rc").write_text(f"""1 VERSIONINFO
FILEVERSION 7,1,0,0
PRODUCTVERSION 7,1,0,0
FILEOS 0x40004
FILETYPE 0x1
BEGIN
  BLOCK "StringFileInfo"
  BEGIN
    BLOCK "040904b0"
    BEGIN
{values}
    END
  END
  BLOCK "VarFileInfo"
  BEGIN
    VALUE "Translation", 0x409, 1200
  END
END
""")
    (tmp_path / "main.s").write_text(".text\n.globl _start\n_start:\n    xor %eax, %eax\n    ret\n")
    run = dict(cwd=tmp_path, check=True, capture_output=True, timeout=60)
    subprocess.run(["x86_64-w64-mingw32-windres", "--preprocessor=cpp", "app.rc", "-O", "coff", "-o", "app.o"], **run)
    subprocess.run(["x86_64-w64-mingw32-as", "main.s", "-o", "main.o"], **run)
    subprocess.run(["x86_64-w64-mingw32-ld", "-e", "_start", "--subsystem", "console", "main.o", "app.o", "-o", name],
                   **run)
    return tmp_path / name


def test_a_renamed_windows_executable_is_known_by_its_version_resource(tmp_path: Path) -> None:
    renamed = _build_pe(tmp_path, "calc.exe", {"CompanyName": "AnyDesk Software GmbH", "InternalName": "AnyDesk",
                                               "OriginalFilename": "AnyDesk.exe", "ProductName": "AnyDesk"})
    assert renamed.read_bytes()[:2] == b"MZ"
    meta = pe_metadata(str(renamed))
    assert meta == {"company": "AnyDesk Software GmbH", "internal_name": "AnyDesk", "original_filename": "AnyDesk.exe",
                    "product": "AnyDesk"}
    path = r"C:\Users\eleve\Downloads\calc.exe"
    assert match(Proc(1, "calc.exe", path), WINDOWS, {path: meta}.get).label == "AnyDesk"
    assert match(Proc(1, "calc.exe", path), WINDOWS) is None


def test_the_internal_name_alone_is_enough(tmp_path: Path) -> None:
    """OriginalFilename emptied (a crude edit), InternalName left: still TeamViewer."""
    exe = _build_pe(tmp_path, "outil.exe", {"CompanyName": "TeamViewer Germany GmbH", "InternalName": "TeamViewer"})
    meta = pe_metadata(str(exe))
    assert meta == {"company": "TeamViewer Germany GmbH", "internal_name": "TeamViewer"}
    assert match(Proc(1, "outil.exe", "C:/Temp/outil.exe"), WINDOWS, lambda _: meta).label == "TeamViewer"


def test_real_third_party_pe_files_and_files_that_are_not() -> None:
    """pip's own Windows launchers (real MSVC builds, in every venv) carry a version resource of
    their own: read, and not a forbidden program; an ELF file, a truncated PE and a missing file
    are "not readable", never an error."""
    import pip

    pytest.importorskip("pefile", reason="pefile is a dependency: pip install -e .")
    launchers = sorted((Path(pip.__file__).parent / "_vendor" / "distlib").glob("t64.exe"))
    if not launchers:
        pytest.skip("this pip ships no Windows launchers")
    meta = pe_metadata(str(launchers[0]))
    assert meta is not None and meta["original_filename"] == "t64.exe" and meta["company"]
    assert match(Proc(1, "t64.exe", str(launchers[0])), WINDOWS, lambda _: meta) is None
    assert pe_metadata(shutil.which("sleep")) is None
    assert pe_metadata("/nonexistent/file.exe") is None


def test_a_truncated_or_garbled_pe_is_not_readable(tmp_path: Path) -> None:
    exe = _build_pe(tmp_path, "app.exe", {"OriginalFilename": "AnyDesk.exe"})
    data = exe.read_bytes()
    for cut, name in ((200, "cut.exe"), (len(data) // 2, "half.exe")):
        (tmp_path / name).write_bytes(data[:cut])
        assert pe_metadata(str(tmp_path / name)) in (None, {"original_filename": "AnyDesk.exe"})
    garbled = bytearray(data)
    garbled[0x3C:0x40] = b"\xff\xff\xff\x7f"            # e_lfanew far beyond the file
    (tmp_path / "bad.exe").write_bytes(bytes(garbled))
    assert pe_metadata(str(tmp_path / "bad.exe")) is None
