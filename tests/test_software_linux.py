"""Software detection on Linux: a fake tree shaped like a Debian lab machine (real .desktop
files, dpkg status, flatpak and snap exports, --version outputs copied from the real
programs), then the real detection on this machine."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from agent.crashtest import run_crash_test
from checks import browser, image_editor, office_suite, pdf_reader, video_editor
from checks.base import CheckContext
from checks.policy import Policy
from core.host import CommandResult, Host
from checks.probes.software import inventory
from core.result import Status
from tests.support import need

FIXTURE = Path(__file__).parent / "fixtures" / "software" / "linux_root"
SOFTWARE = ["browser", "pdf_reader", "office_suite", "image_editor", "video_editor"]

# What the real programs print for --version (Debian 12 packages, Firefox snap).
OUTPUTS = {
    "firefox-esr": "Mozilla Firefox 115.12.0esr\n",
    "chromium": CommandResult(0, "Chromium 156.0.8078.73 built on Debian GNU/Linux 12 (bookworm)\n",
                              "/usr/bin/chromium: 9: [: 25276063744: unexpected operator\n"),
    "libreoffice": "LibreOffice 7.4.7.2 40(Build:2)\n",
    "gimp-2.10": "GNU Image Manipulation Program version 2.10.34\n",
    "evince": "GNOME Document Viewer 43.1\n",
    "firefox": "Mozilla Firefox 140.0.2\n",
}


def _exe(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def lab_machine(tmp_path: Path, *, drop: tuple[str, ...] = (), extra_desktop: dict[str, str] | None = None,
                outputs: dict | None = None) -> Host:
    root = tmp_path / "root"
    shutil.copytree(FIXTURE, root)
    for name in ("firefox-esr", "chromium", "libreoffice", "gimp-2.10", "evince"):
        _exe(root / "usr/bin" / name)
    _exe(root / "snap/bin/firefox")
    for rel in drop:
        target = root / rel
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    for name, text in (extra_desktop or {}).items():
        (root / "usr/share/applications" / name).write_text(text)
    return Host.fake("linux", root, env={"PATH": "/usr/local/bin:/usr/bin:/bin:/snap/bin"},
                     commands=outputs if outputs is not None else OUTPUTS)


def ctx_for(host: Host, lang: str = "en", **policy) -> CheckContext:
    return CheckContext(host=host, lang=lang, policy=Policy(**policy))


def test_inventory_finds_programs_from_every_source(tmp_path):
    inv = inventory(lab_machine(tmp_path))
    found = {p.name: p for p in inv.programs}
    assert found["Chromium"].version == "156.0.8078.73"
    assert found["Chromium"].path == "/usr/bin/chromium"
    assert set(found["Chromium"].sources) >= {"version_output", "dpkg", "desktop"}
    assert found["Firefox ESR"].version == "115.12.0"
    assert found["Firefox (snap)"].version == "140.0.2"          # the snap's own meta/snap.yaml
    assert found["LibreOffice"].version == "7.4.7.2"
    # libreoffice-draw is "deinstall ok config-files" and has no .desktop file: not there.
    assert found["LibreOffice"].components == {"spreadsheet", "word_processor", "presentation"}
    assert found["GIMP"].version == "2.10.34"
    assert found["Evince"].version == "43.1"
    assert found["Shotcut (flatpak)"].version == "24.11.17"      # AppStream metainfo
    assert "Python (v3.11)" not in found
    assert inv.stats["desktop_files"] == 10 and inv.stats["version_commands"] >= 5


def test_outdated_browser_beside_a_recent_one_is_a_warning(tmp_path):
    result = browser.run(ctx_for(lab_machine(tmp_path)))
    assert result.status == Status.warn
    assert "Firefox ESR 115.12.0" in result.summary and "Chromium 156.0.8078.73" in result.summary
    assert "Firefox ESR" in result.remediation
    items = {i.name: i for i in result.items}
    assert items["Firefox ESR"].status == Status.fail and items["Firefox ESR"].released == "2023-07-04"
    assert items["Chromium"].status == Status.ok and items["Chromium"].released
    assert "/usr/bin/chromium" in items["Chromium"].detail and "Debian package" in items["Chromium"].detail
    assert "version_output" not in items["Chromium"].detail  # words for people, not our source names


def test_only_outdated_browsers_fail_and_none_fails(tmp_path):
    host = lab_machine(tmp_path, outputs={**OUTPUTS, "firefox": "Mozilla Firefox 100.0\n",
                                          "chromium": "Chromium 100.0.4896.60 built on Debian GNU/Linux 11\n"},
                       drop=("var/lib/dpkg/status", "var/lib/snapd"))
    snap_yaml = host.path("/snap/firefox/current/meta/snap.yaml")
    snap_yaml.write_text(snap_yaml.read_text().replace("140.0.2-1", "100.0-1"))
    result = browser.run(ctx_for(host))
    assert result.status == Status.fail and result.remediation
    bare = Host.fake("linux", tmp_path / "empty", env={"PATH": "/usr/bin"})
    none = browser.run(ctx_for(bare, "fr"))
    assert none.status == Status.fail and "Aucun navigateur" in none.summary
    assert "firefox" in none.remediation


def test_office_suite_missing_drawing_then_complete_but_old(tmp_path):
    incomplete = office_suite.run(ctx_for(lab_machine(tmp_path / "a")))
    assert incomplete.status == Status.fail
    assert "drawing" in incomplete.summary and "LibreOffice 7.4.7.2" in incomplete.summary
    assert incomplete.items[0].missing == ["drawing"]
    assert "older than 2 years" in incomplete.summary               # both problems are said
    # Old and incomplete: installing Draw from the same old release would not pass; the one
    # fix advised brings a recent, complete suite.
    assert "org.libreoffice.LibreOffice" in incomplete.remediation and "libreoffice.org" in incomplete.remediation
    assert "libreoffice-draw" not in incomplete.remediation
    draw = (FIXTURE / "usr/share/applications/libreoffice-calc.desktop").read_text().replace("calc", "draw")
    old = office_suite.run(ctx_for(lab_machine(tmp_path / "b", extra_desktop={"libreoffice-draw.desktop": draw})))
    assert old.status == Status.fail
    assert "older than 2 years" in old.summary and "23 May 2023" in old.summary
    assert old.items[0].released == "2023-05-23" and old.items[0].missing == []
    assert "libreoffice.org" in old.remediation


def test_suite_older_than_the_table(tmp_path):
    draw = (FIXTURE / "usr/share/applications/libreoffice-calc.desktop").read_text().replace("calc", "draw")
    host = lab_machine(tmp_path, extra_desktop={"libreoffice-draw.desktop": draw},
                       outputs={**OUTPUTS, "libreoffice": "LibreOffice 6.0.7.3 00(Build:3)\n"})
    result = office_suite.run(ctx_for(host, "fr"))
    assert result.status == Status.fail
    assert "sortie avant le 10 juillet 2020" in result.summary and result.items[0].released is None


def test_recent_complete_libreoffice_passes(tmp_path):
    draw = (FIXTURE / "usr/share/applications/libreoffice-calc.desktop").read_text().replace("calc", "draw")
    host = lab_machine(tmp_path, extra_desktop={"libreoffice-draw.desktop": draw},
                       outputs={**OUTPUTS, "libreoffice": "LibreOffice 25.8.3.2 580(Build:2)\n"})
    result = office_suite.run(ctx_for(host, "fr"))
    assert result.status == Status.ok, result.summary
    assert "7 novembre 2025" in result.summary and result.remediation is None


def test_missing_video_editor_fails_naming_what_to_install(tmp_path):
    host = lab_machine(tmp_path, drop=("var/lib/flatpak",))
    result = video_editor.run(ctx_for(host))
    assert result.status == Status.fail
    assert "Shotcut" in result.remediation and "apt install shotcut" in result.remediation
    fr = video_editor.run(ctx_for(host, "fr"))
    assert fr.remediation.startswith("Installez Shotcut")


def test_image_editor_and_pdf_reader(tmp_path):
    host = lab_machine(tmp_path)
    image = image_editor.run(ctx_for(host))
    assert image.status == Status.ok and "GIMP 2.10.34" in image.summary
    pdf = pdf_reader.run(ctx_for(host))
    assert pdf.status == Status.ok and pdf.summary.startswith("PDF files open with Evince 43.1")
    assert "(default app for .pdf: Evince)" in pdf.summary          # usr/share/applications/mimeapps.list
    only_browser = lab_machine(tmp_path / "b", drop=("usr/share/applications/org.gnome.Evince.desktop",
                                                      "usr/share/applications/gimp.desktop",
                                                      "var/lib/dpkg/status", "usr/bin/evince"))
    viewer = pdf_reader.run(ctx_for(only_browser))
    assert viewer.status == Status.ok and "built-in PDF viewer" in viewer.summary
    assert "Chromium" in viewer.summary


def test_any_application_declaring_pdf_counts(tmp_path):
    inkscape = ("[Desktop Entry]\nName=Inkscape\nExec=inkscape %F\nType=Application\n"
                "Categories=Graphics;VectorGraphics;GTK;\nMimeType=image/svg+xml;application/pdf;\n")
    xpdf = ("[Desktop Entry]\nName=Xpdf\nExec=xpdf %f\nType=Application\nCategories=Office;Viewer;\n"
            "MimeType=application/pdf;\n")
    host = Host.fake("linux", tmp_path, env={"PATH": "/usr/bin"})
    (tmp_path / "usr/share/applications").mkdir(parents=True)
    (tmp_path / "usr/share/applications/org.inkscape.Inkscape.desktop").write_text(inkscape)
    only_inkscape = pdf_reader.run(ctx_for(host))
    assert only_inkscape.status == Status.ok and "Inkscape" in only_inkscape.summary
    (tmp_path / "usr/share/applications/xpdf.desktop").write_text(xpdf)
    host = Host.fake("linux", tmp_path, env={"PATH": "/usr/bin"})
    result = pdf_reader.run(ctx_for(host))
    assert result.status == Status.ok and result.summary == "PDF files open with Xpdf"
    assert {i.name: i.how for i in result.items} == {"Xpdf": "reader", "Inkscape": "opens_pdf"}


def test_five_checks_share_one_inventory(tmp_path):
    calls: list[tuple[str, ...]] = []
    host = lab_machine(tmp_path)
    fake_runner = host.runner

    def counting(argv, timeout):
        calls.append(tuple(argv))
        return fake_runner(argv, timeout)

    host.runner = counting
    report = run_crash_test(SOFTWARE, ctx_for(host))
    assert [c.id for c in report.ran()] == SOFTWARE
    version_calls = [c for c in calls if c[-1] == "--version"]
    assert len(version_calls) == len(set(version_calls)) >= 5, "each program asked once per run"


def test_user_default_pdf_app_and_leftover_desktop_files(tmp_path):
    host = lab_machine(tmp_path)
    config = host.home / ".config"
    config.mkdir(parents=True)
    (config / "mimeapps.list").write_text("[Added Associations]\napplication/pdf=gimp.desktop;\n\n"
                                          "[Default Applications]\napplication/pdf=chromium.desktop\n")
    assert inventory(host).pdf_default.name == "Chromium"
    # Evince uninstalled but its .desktop file left behind: TryExec=evince is gone.
    again = lab_machine(tmp_path / "b", drop=("usr/bin/evince", "var/lib/dpkg/status"))
    assert "Evince" not in {p.name for p in inventory(again).programs}


def test_xdg_dirs_from_the_environment(tmp_path):
    root = tmp_path / "root"
    (root / "opt/share/applications").mkdir(parents=True)
    (root / "home/eleve/.local/share/applications").mkdir(parents=True)
    (root / "opt/share/applications/org.kde.kdenlive.desktop").write_text(
        "[Desktop Entry]\nType=Application\nName=Kdenlive\nExec=kdenlive %F\n")
    (root / "home/eleve/.local/share/applications/krita.desktop").write_text(
        "[Desktop Entry]\nType=Application\nName=Krita\nExec=/opt/krita/krita.appimage %F\n")
    host = Host.fake("linux", root, env={"PATH": "/usr/bin", "XDG_DATA_DIRS": "/opt/share"})
    names = {p.name for p in inventory(host).programs}
    assert names == {"Kdenlive", "Krita"}


# -- the real machine -------------------------------------------------------------------------

def test_real_detection_finds_chromium_with_its_real_version():
    need("chromium")
    real = subprocess.run(["chromium", "--version"], capture_output=True, text=True, timeout=30).stdout
    expected = real.split()[1]
    inv = inventory(Host.current())
    chromium = next(p for p in inv.programs if p.key == "chromium")
    assert chromium.version == expected
    result = browser.run(CheckContext(host=Host.current(), lang="en"))
    assert any(i.name == "Chromium" and i.version == expected for i in result.items)


def test_a_program_that_hangs_on_version_does_not_hold_the_scan(tmp_path):
    """Real processes: a browser that never answers --version is capped and still listed."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "opera").write_text("#!/bin/sh\nexec sleep 60\n")
    (bin_dir / "gimp").write_text("#!/bin/sh\necho 'GNU Image Manipulation Program version 2.10.34'\n")
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    host = Host.current()
    host.env = {"PATH": str(bin_dir), "XDG_DATA_HOME": str(tmp_path / "none"),
                "XDG_DATA_DIRS": str(tmp_path / "none")}
    host.home = tmp_path
    found = {p.key: p for p in inventory(host).programs}
    assert found["opera"].version is None and found["opera"].sources == ["path"]
    assert found["gimp"].version == "2.10.34"


def test_examroom_check_software_on_this_machine(tmp_path):
    env = {**os.environ, "EXAMROOM_HOME": str(tmp_path), "NO_COLOR": "1"}
    done = subprocess.run([sys.executable, "-m", "agent", "check", "--only", ",".join(SOFTWARE), "--lang", "en",
                           "--json", str(tmp_path / "r.json")],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stderr
    import json

    report = json.loads((tmp_path / "r.json").read_text())
    ran = [c for c in report["checks"] if c["id"] not in report["not_run"]]
    assert [c["id"] for c in ran] == SOFTWARE
    assert all(c["status"] == "skip" for c in report["checks"] if c["id"] in report["not_run"])
    assert all(c["status"] in ("ok", "warn", "fail") for c in ran)
    assert done.returncode == (0 if report["ready"] else 1)  # the exit code is the report's verdict
    assert report["ready"] == all(c["status"] in ("ok", "warn") for c in ran)
    assert all(c["remediation"] for c in ran if c["status"] != "ok")


def test_rpm_database_where_rpm_exists(tmp_path):
    """A Fedora/openSUSE lab machine: versions from ``rpm -qa`` (output as rpm prints it)."""
    root = tmp_path / "root"
    _exe(root / "usr/bin/rpm")
    rpm_out = ("kernel-core\t6.11.4\nfirefox\t131.0.3\nlibreoffice-core\t25.8.2.2\nlibreoffice-calc\t25.8.2.2\n"
               "libreoffice-writer\t25.8.2.2\nlibreoffice-impress\t25.8.2.2\nlibreoffice-draw\t25.8.2.2\n"
               "kdenlive\t24.08.2\n")
    host = Host.fake("linux", root, env={"PATH": "/usr/bin"},
                     commands={("rpm", "-qa", "--qf", "%{NAME}\t%{VERSION}\n"): rpm_out})
    found = {p.key: p for p in inventory(host).programs}
    assert found["firefox"].version == "131.0.3" and found["firefox"].sources == ["rpm"]
    assert found["libreoffice"].components == {"spreadsheet", "word_processor", "presentation", "drawing"}
    assert found["kdenlive"].version == "24.08.2"
    office = office_suite.run(ctx_for(host))
    assert office.status == Status.ok and office.items[0].released == "2025-10-03"


def test_libreoffice_official_build_beside_the_distribution(tmp_path):
    """LibreOffice's own .deb (installed in /opt, names carry the version: libobasis24.8-calc,
    libreoffice24.8-calc.desktop) counts like the distribution's packages."""
    root = tmp_path / "root"
    apps = root / "usr/share/applications"
    apps.mkdir(parents=True)
    for module, name in (("calc", "Calc"), ("writer", "Writer"), ("impress", "Impress"), ("draw", "Draw")):
        (apps / f"libreoffice24.8-{module}.desktop").write_text(
            f"[Desktop Entry]\nVersion=1.0\nTerminal=false\nIcon=libreoffice24.8-{module}\nType=Application\n"
            f"Exec=libreoffice24.8 --{module} %U\nName=LibreOffice 24.8 {name}\n")
    (root / "var/lib/dpkg").mkdir(parents=True)
    (root / "var/lib/dpkg/status").write_text(
        "Package: libreoffice24.8\nStatus: install ok installed\nVersion: 24.8.4.2-2\n\n"
        "Package: libobasis24.8-calc\nStatus: install ok installed\nVersion: 24.8.4.2-2\n\n"
        "Package: libreoffice24.8-ure\nStatus: install ok installed\nVersion: 24.8.4.2-2\n")
    host = Host.fake("linux", root, env={"PATH": "/usr/bin"})
    lo = [p for p in inventory(host).programs if p.key == "libreoffice"]
    assert len(lo) == 1 and lo[0].version == "24.8.4.2"
    assert lo[0].components == {"spreadsheet", "word_processor", "presentation", "drawing"}
    result = office_suite.run(ctx_for(host))
    assert result.status == Status.ok and "15 December 2024" in result.summary


def test_flatpak_libreoffice_is_one_complete_suite_with_its_appstream_version(tmp_path):
    root = tmp_path / "root"
    exports = root / "var/lib/flatpak/exports/share/applications"
    exports.mkdir(parents=True)
    for module in ("startcenter", "calc", "writer", "impress", "draw", "base", "math"):
        desktop_id = "org.libreoffice.LibreOffice" + ("" if module == "startcenter" else f".{module}")
        (exports / f"{desktop_id}.desktop").write_text(
            f"[Desktop Entry]\nType=Application\nName=LibreOffice {module}\n"
            f"Exec=/usr/bin/flatpak run --branch=stable --arch=x86_64 --command=libreoffice "
            f"--file-forwarding org.libreoffice.LibreOffice --{module} @@ %U @@\n"
            f"X-Flatpak=org.libreoffice.LibreOffice\n")
    meta = root / "var/lib/flatpak/app/org.libreoffice.LibreOffice/current/active/files/share/metainfo"
    meta.mkdir(parents=True)
    (meta / "org.libreoffice.LibreOffice.appdata.xml").write_text(
        '<?xml version="1.0"?>\n<component type="desktop-application"><id>org.libreoffice.LibreOffice</id>'
        '<releases><release version="25.8.3.2" date="2025-11-07"/><release version="25.8.2.2"/></releases>'
        "</component>\n")
    host = Host.fake("linux", root, env={"PATH": "/usr/bin"})
    suites = [p for p in inventory(host).programs if p.kind == "office"]
    assert [(s.name, s.version) for s in suites] == [("LibreOffice (flatpak)", "25.8.3.2")]
    assert suites[0].components == {"spreadsheet", "word_processor", "presentation", "drawing"}
    assert office_suite.run(ctx_for(host)).status == Status.ok
