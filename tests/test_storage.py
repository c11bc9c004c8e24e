"""storage: real folders (tmp, a tiny tmpfs, a read-only mount) and the Documents folder
as Linux, Windows and macOS name it."""
from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

import pytest

from checks import storage
from checks.base import CheckContext, CheckOptions
from checks.policy import Policy
from core.host import Host
from checks.probes.folders import documents_dir, save_location
from checks.probes.folders_linux import parse_user_dirs
from core.result import Status


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every entry under ``folder`` (and the folder itself) with its mtime and size."""
    found = {".": (folder.stat().st_mtime_ns, 0)}
    for path in folder.rglob("*"):
        st = path.lstat()
        found[str(path.relative_to(folder))] = (st.st_mtime_ns, st.st_size)
    return found


@pytest.fixture(autouse=True)
def as_a_candidate(request, monkeypatch):
    """These tests judge folders; who runs them (root in CI) is judged by its own test."""
    if "as_root" not in request.node.name:
        monkeypatch.setattr(storage, "running_as_root", lambda host: False)


def real_ctx(path: Path, lang: str = "en", **policy) -> CheckContext:
    return CheckContext(host=Host.current(), lang=lang, policy=Policy(**policy),
                        options=CheckOptions(storage=path))


@contextlib.contextmanager
def mounted_tmpfs(where: Path, options: str):
    where.mkdir(exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
                          capture_output=True, text=True, timeout=20)
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here ({done.stderr.strip() or done.returncode}); "
                    "run the tests as root on a machine that allows mount")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], capture_output=True, timeout=20)


def test_writable_folder_is_ok_and_left_exactly_as_found(tmp_path):
    (tmp_path / "copie élève.odt").write_bytes(b"x" * 100)
    (tmp_path / "sous-dossier").mkdir()
    (tmp_path / "sous-dossier" / "notes.txt").write_text("bonjour")
    os.utime(tmp_path, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    before = snapshot(tmp_path)

    result = storage.run(real_ctx(tmp_path))

    assert result.status == Status.ok, result.summary
    assert result.unit == "GB" and result.threshold == 1.0
    assert result.measured is not None and result.measured >= 1.0
    assert result.items[0].name == str(tmp_path)
    assert snapshot(tmp_path) == before


def test_a_file_or_a_missing_path_fails_with_a_remediation(tmp_path):
    a_file = tmp_path / "rapport.pdf"
    a_file.write_bytes(b"%PDF")
    for path, words in ((a_file, "not a folder"), (tmp_path / "absent", "does not exist")):
        result = storage.run(real_ctx(path))
        assert result.status == Status.fail
        assert words in result.summary and str(path) in result.summary
        assert result.remediation and "--storage" in result.remediation


def test_free_space_below_the_policy_fails(tmp_path):
    result = storage.run(real_ctx(tmp_path, lang="fr", min_free_space_gb=10_000_000))
    assert result.status == Status.fail
    assert result.measured is not None and result.measured < 10_000_000
    assert "Go libres" in result.summary and "Libérez de la place" in result.remediation


def test_a_tiny_filesystem_is_not_ok(tmp_path):
    with mounted_tmpfs(tmp_path / "small", "size=512k") as small:
        before = snapshot(small)
        result = storage.run(real_ctx(small))
        assert result.status == Status.fail, result.summary
        assert result.measured == 0.0
        assert "GB free" in result.summary and result.remediation
        assert snapshot(small) == before


def test_a_full_filesystem_reports_that_the_write_failed(tmp_path):
    with mounted_tmpfs(tmp_path / "full", "size=64k") as full:
        (full / "gros fichier").write_bytes(b"\0" * (64 * 1024 - 4096))
        result = storage.run(real_ctx(full, min_free_space_gb=0))
        assert result.status == Status.fail
        assert "full" in result.summary
        assert sorted(p.name for p in full.iterdir()) == ["gros fichier"]


def test_a_read_only_filesystem_is_not_writable(tmp_path):
    with mounted_tmpfs(tmp_path / "ro", "size=1m,ro") as read_only:
        result = storage.run(real_ctx(read_only, min_free_space_gb=0))
        assert result.status == Status.fail
        assert "read-only" in result.summary
        assert "remount" in result.remediation


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs to run as root")
def test_running_as_root_is_a_warning_since_root_writes_anywhere(tmp_path):
    given = storage.run(real_ctx(tmp_path, min_free_space_gb=0))
    assert given.status == Status.warn
    assert given.summary.endswith("but the test ran as root")
    assert "candidate account" in given.remediation
    default = storage.run(CheckContext(host=Host.current(), policy=Policy(min_free_space_gb=0)))
    assert default.status == Status.warn and "--storage" in default.remediation
    # A simulated host is never "root": its facts are not this process's.
    assert storage.running_as_root(Host.fake("linux", tmp_path)) is False


def test_french_summary_is_french(tmp_path):
    result = storage.run(real_ctx(tmp_path, lang="fr", min_free_space_gb=0))
    assert result.title == "Espace de stockage"
    assert "écriture, relecture et suppression réussies" in result.summary


# -- where the Documents folder is ---------------------------------------------------------
def test_linux_documents_from_xdg_user_dirs(tmp_path):
    home = tmp_path / "home/eleve"
    (home / ".config").mkdir(parents=True)
    (home / ".config/user-dirs.dirs").write_text(
        '# written by xdg-user-dirs-update\nXDG_DESKTOP_DIR="$HOME/Bureau"\n'
        'XDG_DOCUMENTS_DIR="$HOME/Mes documents"\n', encoding="utf-8")
    host = Host.fake("linux", tmp_path)
    assert documents_dir(host) is None  # configured but never created: not a Documents folder
    (home / "Mes documents").mkdir()
    assert documents_dir(host) == "/home/eleve/Mes documents"
    loc = save_location(host)
    assert (loc.path, loc.source) == ("/home/eleve/Mes documents", "documents")
    assert save_location(host, "/srv/partage").source == "option"


def test_linux_without_documents_falls_back_to_home(tmp_path):
    (tmp_path / "home/eleve").mkdir(parents=True)
    host = Host.fake("linux", tmp_path)
    loc = save_location(host)
    assert (loc.path, loc.source) == ("/home/eleve", "home")
    result = storage.run(CheckContext(host=host, policy=Policy(min_free_space_gb=0)))
    assert result.status == Status.ok and "home folder" in result.items[0].detail


def test_user_dirs_parser_follows_the_spec():
    text = ('XDG_DOCUMENTS_DIR="$HOME/Documents"\nXDG_MUSIC_DIR="/data/musique"\n'
            'XDG_VIDEOS_DIR="relative/not/allowed"\n# XDG_PICTURES_DIR="$HOME/Images"\n')
    assert parse_user_dirs(text, "/home/x") == {"DOCUMENTS": "/home/x/Documents", "MUSIC": "/data/musique"}


def test_windows_documents_expands_userprofile_and_is_really_written(tmp_path):
    shell = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Explorer\User Shell Folders"
    host = Host.fake("windows", tmp_path, env={"USERPROFILE": r"C:\Users\dupont"},
                     registry={shell: {"Personal": r"%USERPROFILE%\Documents"}})
    assert documents_dir(host) == r"C:\Users\dupont\Documents"
    folder = host.path(r"C:\Users\dupont\Documents")
    folder.mkdir(parents=True)
    result = storage.run(CheckContext(host=host, policy=Policy(min_free_space_gb=0)))
    assert result.status == Status.ok, result.summary
    assert result.items[0].name == r"C:\Users\dupont\Documents"
    assert list(folder.iterdir()) == []


def test_windows_documents_redirected_to_a_network_share(tmp_path):
    shell = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Explorer\User Shell Folders"
    unc = r"\\srv-peda\eleves$\dupont\Documents"
    host = Host.fake("windows", tmp_path, env={"USERPROFILE": r"C:\Users\dupont"},
                     registry={shell: {"Personal": unc}})
    loc = save_location(host)
    assert loc.path == unc and loc.is_network
    # The share is unreachable: that is a failure to fix, not a silent fallback to C:.
    missing = storage.run(CheckContext(host=host))
    assert missing.status == Status.fail and unc in missing.summary
    assert "file server" in missing.remediation
    host.path(unc).mkdir(parents=True)
    reached = storage.run(CheckContext(host=host, policy=Policy(min_free_space_gb=0)))
    assert reached.status == Status.ok and reached.items[0].network is True


def test_windows_shell_folders_fallback_and_macos(tmp_path):
    shell = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Explorer\Shell Folders"
    win = Host.fake("windows", tmp_path, registry={shell: {"Personal": r"D:\Profils\eleve\Documents"}})
    assert documents_dir(win) == r"D:\Profils\eleve\Documents"
    guid_only = Host.fake("windows", tmp_path, env={"HOMESHARE": r"\\nas\homes\eleve"}, registry={
        shell.replace("Shell Folders", "User Shell Folders"): {
            "{f42ee2d3-909f-4907-8871-4c22fc0bf756}": r"%HOMESHARE%\Documents"}})
    assert documents_dir(guid_only) == r"\\nas\homes\eleve\Documents"
    mac = Host.fake("macos", tmp_path)
    assert documents_dir(mac) is None
    (tmp_path / "Users/eleve/Documents").mkdir(parents=True)
    assert documents_dir(mac) == "/Users/eleve/Documents"


def test_a_folder_that_cannot_even_be_looked_at_fails_cleanly(tmp_path, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    from core.i18n import table

    table()   # the translation tables are read before every stat() is refused below
    monkeypatch.setattr(Path, "stat", refuse)
    result = storage.run(real_ctx(tmp_path / "partage"))
    assert result.status == Status.fail
    # the OS's error in the report's language (core/oserror.py)
    assert "permission denied" in result.summary and "write permission" in result.remediation
