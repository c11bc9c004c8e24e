"""archive: a real zip extracted into real folders, cleaned up even when it breaks
half-way; archive programs found on fake Linux, Windows and macOS trees."""
from __future__ import annotations

import errno
import os
import io
import zipfile
from pathlib import Path

from checks import archive
from checks.base import CheckContext, CheckOptions
from core.host import Host
from checks.probes.archivers import archive_tools
from core.result import Status
from tests.test_storage import mounted_tmpfs, snapshot


def fake_linux(tmp_path: Path, desktop_files=(), programs=()) -> tuple[Host, Path]:
    documents = tmp_path / "home/eleve/Documents"
    documents.mkdir(parents=True)
    (documents / "devoir.odt").write_bytes(b"PK")
    apps = tmp_path / "usr/share/applications"
    apps.mkdir(parents=True)
    for name in desktop_files:
        (apps / name).write_text("[Desktop Entry]\nType=Application\nName=Archives\n")
    bin_dir = tmp_path / "usr/bin"
    bin_dir.mkdir(parents=True)
    for name in programs:
        (bin_dir / name).write_text("#!/bin/sh\n")
        (bin_dir / name).chmod(0o755)
    host = Host.fake("linux", tmp_path, env={"PATH": "/usr/bin"})
    return host, documents


def test_the_test_archive_has_accents_folders_and_nesting():
    with zipfile.ZipFile(io.BytesIO(archive.build_zip())) as built:
        names = [i.filename for i in built.infolist()]
        accented = built.getinfo("Données/résumé été.txt")
    assert "dossier/sous-dossier/fichier.txt" in names and "dossier vide/" in names
    assert accented.flag_bits & 0x800, "non-ASCII names must carry the UTF-8 flag"


def test_extracts_verifies_and_leaves_nothing_with_a_graphical_tool(tmp_path):
    host, documents = fake_linux(tmp_path, ["org.gnome.FileRoller.desktop"], ["unzip"])
    before = snapshot(documents)
    result = archive.run(CheckContext(host=host, lang="fr"))
    assert result.status == Status.ok, result.summary
    assert "File Roller" in result.summary
    assert {i.name for i in result.items} == {"File Roller", "unzip"}
    assert [i.graphical for i in result.items if i.name == "unzip"] == [False]
    assert snapshot(documents) == before


def test_only_command_line_tools_on_linux_is_a_warning(tmp_path):
    host, documents = fake_linux(tmp_path, programs=["unzip"])
    result = archive.run(CheckContext(host=host))
    assert result.status == Status.warn
    assert "graphical archive manager" in result.summary
    assert "file-roller" in result.remediation
    assert [p.name for p in documents.iterdir()] == ["devoir.odt"]


def test_failure_half_way_leaves_nothing_behind(tmp_path, monkeypatch):
    real_extract = archive._extract_member
    calls = []

    def extract_then_disk_full(zf, member, target):
        calls.append(member.filename)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_extract(zf, member, target)

    monkeypatch.setattr(archive, "_extract_member", extract_then_disk_full)
    before = snapshot(tmp_path)
    result = archive.run(CheckContext(host=Host.current(), options=CheckOptions(storage=tmp_path)))
    assert len(calls) == 3, "the failure must happen after some files were written"
    assert result.status == Status.fail
    assert "No space left" in result.summary and result.remediation
    assert snapshot(tmp_path) == before


def test_altered_contents_are_a_mismatch_and_are_cleaned_up(tmp_path, monkeypatch):
    def extract_and_corrupt(zf, member, target):
        path = Path(zf.extract(member, target))
        if path.is_file() and path.name == "fichier.txt":
            path.write_bytes(b"autre contenu")

    monkeypatch.setattr(archive, "_extract_member", extract_and_corrupt)
    before = snapshot(tmp_path)
    result = archive.run(CheckContext(host=Host.current(), options=CheckOptions(storage=tmp_path)))
    assert result.status == Status.fail
    assert "do not match" in result.summary and "fichier.txt" in result.summary
    assert snapshot(tmp_path) == before


def test_a_folder_that_cannot_be_cleaned_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(archive.shutil, "rmtree", lambda *a, **k: None)
    result = archive.run(CheckContext(host=Host.current(), options=CheckOptions(storage=tmp_path)))
    assert result.status == Status.fail
    assert "could not be removed" in result.summary and "examroom-archive" in result.remediation
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith("examroom-archive-")]
    assert len(leftovers) == 1


def test_missing_save_folder_or_a_file_fails(tmp_path):
    result = archive.run(CheckContext(host=Host.current(), options=CheckOptions(storage=tmp_path / "nope")))
    assert result.status == Status.fail and "does not exist" in result.summary
    (tmp_path / "notes.txt").write_text("x")
    result = archive.run(CheckContext(host=Host.current(), options=CheckOptions(storage=tmp_path / "notes.txt")))
    assert result.status == Status.fail and "is a file" in result.summary and result.remediation


def test_read_only_folder_fails_and_says_why(tmp_path):
    # A read-only mount refuses even root (file permissions would not).
    with mounted_tmpfs(tmp_path / "ro", "size=1m,ro") as read_only:
        result = archive.run(CheckContext(host=Host.current(), options=CheckOptions(storage=read_only)))
        assert result.status == Status.fail
        assert "Read-only file system" in result.summary and result.remediation
        assert list(read_only.iterdir()) == []


def test_windows_tools_from_registry_and_program_files(tmp_path):
    exe = tmp_path / "C/Program Files/WinRAR/WinRAR.exe"
    exe.parent.mkdir(parents=True)
    exe.write_bytes(b"MZ")
    host = Host.fake("windows", tmp_path, env={"ProgramFiles": r"C:\Program Files"},
                     registry={r"HKLM\SOFTWARE\7-Zip": {"Path": "C:\\Program Files\\7-Zip\\",
                                                         "Path64": "C:\\Program Files\\7-Zip\\"}})
    tools = {t.name: t.where for t in archive_tools(host)}
    assert tools == {"Windows Explorer": "C:\\Windows\\explorer.exe",
                     "7-Zip": "C:\\Program Files\\7-Zip\\",
                     "WinRAR": "C:\\Program Files\\WinRAR\\WinRAR.exe"}


def test_windows_and_macos_always_have_a_built_in_tool(tmp_path):
    docs = tmp_path / "C/Users/eleve/Documents"
    docs.mkdir(parents=True)
    win = Host.fake("windows", tmp_path, env={"USERPROFILE": r"C:\Users\eleve"}, registry={})
    result = archive.run(CheckContext(host=win))
    assert result.status == Status.ok and "Windows Explorer" in result.summary
    assert list(docs.iterdir()) == []

    mac = Host.fake("macos", tmp_path)
    assert archive_tools(mac) == []
    (tmp_path / "System/Library/CoreServices/Applications/Archive Utility.app").mkdir(parents=True)
    (tmp_path / "Applications/Keka.app").mkdir(parents=True)
    assert [t.name for t in archive_tools(mac)] == ["Archive Utility", "Keka"]


def test_storage_and_archive_run_together_leave_the_folder_as_found(tmp_path, monkeypatch):
    """The runner starts both at once in the same folder (as examroom check does)."""
    from agent.runner import run_checks
    from checks import storage

    monkeypatch.setattr(storage, "running_as_root", lambda host: False)
    (tmp_path / "cours.pdf").write_bytes(b"%PDF-1.7")
    os.utime(tmp_path, ns=(1_500_000_000_000_000_000, 1_500_000_000_000_000_000))
    before = snapshot(tmp_path)
    ctx = CheckContext(host=Host.current(), options=CheckOptions(storage=tmp_path))
    for _ in range(20):  # the race it guards against does not show on every run
        results = run_checks(["storage", "archive"], ctx)
        assert [r.status for r in results][0] == Status.ok
        assert results[1].status in (Status.ok, Status.warn)
        assert snapshot(tmp_path) == before


def test_a_folder_that_cannot_be_looked_at_fails_cleanly(tmp_path, monkeypatch):
    real_stat = Path.stat

    def refuse(self, *args, **kwargs):
        if str(self).startswith(str(tmp_path)):
            raise PermissionError(13, "Permission denied")
        return real_stat(self, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", refuse)
    result = archive.run(CheckContext(host=Host.current(), options=CheckOptions(storage=tmp_path / "x")))
    assert result.status == Status.fail and "Permission denied" in result.summary


ZIP_CHOICE = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Explorer\FileExts\.zip\UserChoice"


def windows_host(tmp_path: Path, registry: dict) -> Host:
    (tmp_path / "C/Users/eleve/Documents").mkdir(parents=True, exist_ok=True)
    return Host.fake("windows", tmp_path, env={"USERPROFILE": r"C:\Users\eleve"}, registry=registry)


def test_windows_zip_opened_by_an_uninstalled_winrar_is_a_warning(tmp_path):
    host = windows_host(tmp_path, {
        ZIP_CHOICE: {"ProgId": "WinRAR.ZIP", "Hash": "x"},
        r"HKCR\WinRAR.ZIP\shell\open\command": {"": r'"C:\Program Files\WinRAR\WinRAR.exe" "%1"'}})
    result = archive.run(CheckContext(host=host, lang="fr"))
    assert result.status == Status.warn
    assert r"C:\Program Files\WinRAR\WinRAR.exe" in result.summary and "Ouvrir avec" in result.remediation
    exe = tmp_path / "C/Program Files/WinRAR/WinRAR.exe"
    exe.parent.mkdir(parents=True)
    exe.write_bytes(b"MZ")
    fixed = archive.run(CheckContext(host=host))
    assert fixed.status == Status.ok
    assert [i.detail for i in fixed.items if i.name == "Opening .zip files"] == [r"C:\Program Files\WinRAR\WinRAR.exe"]


def test_windows_built_in_zip_handler(tmp_path):
    host = windows_host(tmp_path, {r"HKCR\.zip": {"": "CompressedFolder", "Content Type": "application/x-zip-compressed"}})
    result = archive.run(CheckContext(host=host))
    assert result.status == Status.ok
    assert [i.detail for i in result.items if i.name == "Opening .zip files"] == ["Windows Explorer compressed folders (built in)"]


def test_linux_default_zip_application_that_is_gone(tmp_path):
    host, _docs = fake_linux(tmp_path, ["org.kde.ark.desktop"])
    mimeapps = tmp_path / "home/eleve/.config/mimeapps.list"
    mimeapps.parent.mkdir(parents=True, exist_ok=True)
    # the user's choice (xdg-mime default, a file manager's "Open with") is what a double-click runs
    mimeapps.write_text("[Default Applications]\napplication/zip=xarchiver.desktop;org.kde.ark.desktop;\n")
    result = archive.run(CheckContext(host=host))
    assert result.status == Status.warn and "xarchiver.desktop" in result.summary
    mimeapps.write_text("[Default Applications]\napplication/zip=org.kde.ark.desktop\n")
    assert archive.run(CheckContext(host=host)).status == Status.ok
    # the desktop's own list (GNOME: gnome-mimeapps.list) comes before the generic one
    (tmp_path / "usr/share/applications/gnome-mimeapps.list").write_text(
        "[Default Applications]\napplication/zip=xarchiver.desktop\n")
    gnome = Host.fake("linux", tmp_path, env={"PATH": "/usr/bin", "XDG_CURRENT_DESKTOP": "ubuntu:GNOME"})
    assert archive.run(CheckContext(host=gnome)).status == Status.ok, "the user's own list still wins"
    mimeapps.unlink()
    assert archive.run(CheckContext(host=gnome)).status == Status.warn
