"""Remediations per OS and distribution that never advise what would still fail, in both
languages; plural agreement of the browser summaries."""
from __future__ import annotations

import stat
from pathlib import Path

import pytest

from checks import browser, office_suite
from checks.base import CheckContext
from core.host import Host
from core.result import Status
from tests.test_software_windows_reg import exported

APT_POLICY = """libreoffice-core:
  Installed: 4:7.4.7-1+deb12u14
  Candidate: {candidate}
  Version table:
 *** 4:7.4.7-1+deb12u14 500
        500 http://deb.debian.org/debian bookworm/main amd64 Packages
        100 /var/lib/dpkg/status
"""
OS_RELEASE = {
    "debian12": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
                'VERSION_CODENAME=bookworm\nID=debian\n',
    "debian13": 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nVERSION_ID="13"\nVERSION_CODENAME=trixie\nID=debian\n',
    "mint": 'NAME="Linux Mint"\nPRETTY_NAME="Linux Mint 21.3"\nID=linuxmint\nID_LIKE="ubuntu debian"\n'
            'VERSION_ID="21.3"\nVERSION_CODENAME=virginia\nUBUNTU_CODENAME=jammy\n',
}
STATUS = "Package: libreoffice-core\nStatus: install ok installed\nVersion: 4:7.4.7-1+deb12u14\n\n" + "".join(
    f"Package: libreoffice-{c}\nStatus: install ok installed\nVersion: 4:7.4.7-1+deb12u14\n\n"
    for c in ("calc", "writer", "impress", "draw"))


def linux(tmp_path: Path, release: str, candidate: str) -> Host:
    root = tmp_path / release
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text(OS_RELEASE[release])
    (root / "var/lib/dpkg").mkdir(parents=True)
    (root / "var/lib/dpkg/status").write_text(STATUS)
    apt = root / "usr/bin/apt-cache"
    apt.parent.mkdir(parents=True)
    apt.write_text("#!/bin/sh\n")
    apt.chmod(apt.stat().st_mode | stat.S_IXUSR)
    return Host.fake("linux", root, env={"PATH": "/usr/bin"},
                     commands={("apt-cache", "policy", "libreoffice-core"): APT_POLICY.format(candidate=candidate)})


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_debian12_old_libreoffice_is_never_told_to_apt_install_it_again(tmp_path, lang):
    result = office_suite.run(CheckContext(host=linux(tmp_path, "debian12", "4:7.4.7-1+deb12u14"), lang=lang))
    assert result.status == Status.fail and result.items[0].age == "old"
    fix = result.remediation
    assert "7.4.7" in fix and "Debian GNU/Linux 12" in fix
    assert "flathub org.libreoffice.LibreOffice" in fix and "bookworm-backports" in fix
    assert ("will not do" if lang == "en" else "ne suffira pas") in fix
    assert "Microsoft 365" not in fix and "Fichier > Compte" not in fix and "File > Account" not in fix


def test_debian13_recent_candidate_is_installed_with_apt(tmp_path):
    result = office_suite.run(CheckContext(host=linux(tmp_path, "debian13", "4:25.2.3-2"), lang="en"))
    assert result.status == Status.fail
    assert "sudo apt update && sudo apt install libreoffice" in result.remediation
    assert "25.2.3" in result.remediation and "Flathub" not in result.remediation


def test_ubuntu_family_gets_the_libreoffice_ppa(tmp_path):
    result = office_suite.run(CheckContext(host=linux(tmp_path, "mint", "4:7.3.7-0ubuntu0.22.04.10"), lang="fr"))
    assert "ppa:libreoffice/ppa" in result.remediation and "Linux Mint 21.3" in result.remediation


def test_windows_ltsc_2021_fix_advises_nothing_that_would_still_fail(tmp_path):
    host = Host.fake("windows", tmp_path, registry=exported("office_ltsc2021_visio.reg"))
    result = office_suite.run(CheckContext(host=host, lang="en"))
    fix = result.remediation
    # Office LTSC 2024 (2024-09-18) is itself older than 2 years on 2026-11-22: not advised.
    assert "LTSC 2024" not in fix and "Office 2024" not in fix
    assert "only receives security fixes" in fix and "winget install TheDocumentFoundation.LibreOffice" in fix
    # Earlier, when Office LTSC 2024 was recent, it was the upgrade path.
    from datetime import datetime, timezone

    early = Host.fake("windows", tmp_path, registry=exported("office_ltsc2021_visio.reg"),
                      now=datetime(2025, 3, 1, tzinfo=timezone.utc))
    assert "Office 2024 LTSC" in office_suite.run(CheckContext(host=early, lang="en")).remediation


def test_old_microsoft_365_is_updated_through_click_to_run(tmp_path):
    data = {"HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\O365ProPlusRetail - fr-fr": {
        "DisplayName": "Microsoft 365 Apps for enterprise - fr-fr", "DisplayVersion": "16.0.16731.20234",
        "InstallLocation": "C:\\Program Files\\Microsoft Office"}}
    result = office_suite.run(CheckContext(host=Host.fake("windows", tmp_path, registry=data), lang="fr"))
    assert result.status == Status.fail and "Fichier > Compte > Options de mise à jour" in result.remediation


def test_mac_office_16_66_1_is_dated_and_updated_with_autoupdate(tmp_path):
    import plistlib

    for app, bundle, version in (("Microsoft Excel", "com.microsoft.Excel", "16.66.1"),
                                 ("Microsoft Word", "com.microsoft.Word", "16.66.1"),
                                 ("Microsoft PowerPoint", "com.microsoft.Powerpoint", "16.66.1")):
        plist = tmp_path / "Applications" / f"{app}.app" / "Contents" / "Info.plist"
        plist.parent.mkdir(parents=True)
        plist.write_bytes(plistlib.dumps({"CFBundleIdentifier": bundle, "CFBundleShortVersionString": version,
                                          "CFBundleName": app}))
    result = office_suite.run(CheckContext(host=Host.fake("macos", tmp_path), lang="en"))
    item = result.items[0]
    assert item.name == "Microsoft Office" and item.version == "16.66.1"
    assert item.released == "2022-10-01" and item.age == "old"
    assert "Microsoft AutoUpdate" in result.remediation


def _mac_browsers(tmp_path: Path, versions: dict[str, tuple[str, str]]) -> Host:
    import plistlib

    for app, (bundle, version) in versions.items():
        plist = tmp_path / "Applications" / f"{app}.app" / "Contents" / "Info.plist"
        plist.parent.mkdir(parents=True)
        plist.write_bytes(plistlib.dumps({"CFBundleIdentifier": bundle, "CFBundleShortVersionString": version}))
    return Host.fake("macos", tmp_path)


def test_plural_agreement_after_a_list(tmp_path):
    three_old = _mac_browsers(tmp_path / "a", {"Safari": ("com.apple.Safari", "15.6.1"),
                                               "Firefox": ("org.mozilla.firefox", "102.0"),
                                               "Google Chrome": ("com.google.Chrome", "100.0.4896.60")})
    result = browser.run(CheckContext(host=three_old, lang="en"))
    assert result.status == Status.fail
    assert result.summary.endswith("are older than 2 years") and "Safari 15.6.1" in result.summary
    fr = browser.run(CheckContext(host=three_old, lang="fr"))
    assert fr.summary.endswith("ont plus de 2 ans")
    one_old = _mac_browsers(tmp_path / "b", {"Safari": ("com.apple.Safari", "15.6.1")})
    assert browser.run(CheckContext(host=one_old, lang="en")).summary.endswith("Safari 15.6.1 is older than 2 years")
    assert "Software Update" in browser.run(CheckContext(host=one_old, lang="en")).remediation
    mixed = _mac_browsers(tmp_path / "c", {"Safari": ("com.apple.Safari", "15.6.1"),
                                           "Firefox": ("org.mozilla.firefox", "102.0"),
                                           "Google Chrome": ("com.google.Chrome", "156.0.7000.1")})
    assert "Firefox 102.0 and Safari 15.6.1 are older than 2 years" in browser.run(CheckContext(host=mixed, lang="en")).summary
