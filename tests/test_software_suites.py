"""ONLYOFFICE, WPS Office and Apache OpenOffice found, judged complete or not, and dated;
portable programs (PortableApps.com layouts, a Firefox folder on D:)."""
from __future__ import annotations

from pathlib import Path

from checks import browser, office_suite
from checks.base import CheckContext
from core.host import Host
from checks.probes.software import inventory
from core.result import Status

UNINSTALL = "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall"
WOW = "HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall"


def _touch(path: Path, text: str = "MZ") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_windows_onlyoffice_wps_openoffice(tmp_path):
    # Uninstall entries as the three installers write them (Inno Setup "_is1" keys, NSIS, MSI).
    registry = {
        f"{UNINSTALL}\\ONLYOFFICE Desktop Editors_is1": {
            "DisplayName": "ONLYOFFICE 8.2.2 (x64)", "DisplayVersion": "8.2.2.22",
            "InstallLocation": "C:\\Program Files\\ONLYOFFICE\\DesktopEditors\\",
            "DisplayIcon": "C:\\Program Files\\ONLYOFFICE\\DesktopEditors\\DesktopEditors.exe",
            "Publisher": "Ascensio System SIA"},
        f"{WOW}\\Kingsoft Office": {
            "DisplayName": "WPS Office (12.2.0.18911)", "DisplayVersion": "12.2.0.18911",
            "DisplayIcon": "C:\\Users\\eleve\\AppData\\Local\\Kingsoft\\WPS Office\\ksolaunch.exe",
            "Publisher": "Kingsoft Corp."},
        f"{WOW}\\{{D9F2B1A5-3B8F-4E5C-9B1B-4F5F3C2D1A00}}": {
            "DisplayName": "OpenOffice 4.1.15", "DisplayVersion": "4.115.9813",
            "InstallLocation": "C:\\Program Files (x86)\\OpenOffice 4\\",
            "Publisher": "Apache Software Foundation", "WindowsInstaller": 1},
    }
    for exe in ("scalc.exe", "swriter.exe", "simpress.exe", "sdraw.exe"):
        _touch(tmp_path / "C/Program Files (x86)/OpenOffice 4/program" / exe)
    host = Host.fake("windows", tmp_path, registry=registry)
    found = {p.key: p for p in inventory(host).programs}
    assert found["onlyoffice"].version == "8.2.2.22"
    assert found["onlyoffice"].components == {"spreadsheet", "word_processor", "presentation"}
    assert found["wps"].version == "12.2.0.18911"
    assert found["openoffice"].version == "4.1.15"  # from the name, not "4.115.9813"
    assert found["openoffice"].components == {"spreadsheet", "word_processor", "presentation", "drawing"}
    assert "libreoffice" not in found  # scalc.exe of OpenOffice is not LibreOffice's
    result = office_suite.run(CheckContext(host=host, lang="en"))
    items = {i.name: i for i in result.items}
    assert items["ONLYOFFICE"].missing == ["drawing"] and items["ONLYOFFICE"].released == "2024-10-17"
    assert items["WPS Office"].missing == ["drawing"] and items["WPS Office"].age == "unknown"
    assert items["Apache OpenOffice"].missing == [] and items["Apache OpenOffice"].released == "2023-12-22"
    assert items["Apache OpenOffice"].age == "old" and result.status == Status.fail
    # The best suite decides: all three fail, each for what it lacks.
    assert "LibreOffice" in result.remediation


def test_onlyoffice_alone_is_told_to_add_a_drawing_program(tmp_path):
    registry = {f"{UNINSTALL}\\ONLYOFFICE Desktop Editors_is1": {
        "DisplayName": "ONLYOFFICE 9.1.0 (x64)", "DisplayVersion": "9.1.0.168",
        "InstallLocation": "C:\\Program Files\\ONLYOFFICE\\DesktopEditors\\"}}
    result = office_suite.run(CheckContext(host=Host.fake("windows", tmp_path, registry=registry), lang="fr"))
    assert result.status == Status.fail
    assert "ONLYOFFICE 9.1.0.168 est incomplète : il manque dessin" in result.summary
    assert "ONLYOFFICE n'a pas de logiciel de dessin" in result.remediation


def test_linux_onlyoffice_deb_and_wps(tmp_path):
    root = tmp_path / "root"
    _touch(root / "var/lib/dpkg/status",
           "Package: onlyoffice-desktopeditors\nStatus: install ok installed\nVersion: 8.2.2-22\n\n"
           "Package: wps-office\nStatus: install ok installed\nVersion: 11.1.0.11723.XA\n\n")
    _touch(root / "usr/share/applications/onlyoffice-desktopeditors.desktop",
           "[Desktop Entry]\nType=Application\nName=ONLYOFFICE\nExec=/usr/bin/onlyoffice-desktopeditors %U\n"
           "MimeType=application/vnd.oasis.opendocument.text;application/pdf;\n")
    inv = inventory(Host.fake("linux", root, env={"PATH": "/usr/bin"}))
    found = {p.key: p for p in inv.programs}
    assert found["onlyoffice"].version == "8.2.2" and "desktop" in found["onlyoffice"].sources
    assert found["wps"].version == "11.1.0.11723"


def test_portable_apps_and_a_firefox_folder_on_d(tmp_path):
    pa = tmp_path / "E/PortableApps"
    _touch(pa / "FirefoxPortable/App/AppInfo/appinfo.ini",
           "\ufeff[Format]\nType=PortableApps.comFormat\nVersion=3.8\n\n[Details]\nName=Mozilla Firefox, Portable Edition\n"
           "AppID=FirefoxPortable\nPublisher=Mozilla Foundation & PortableApps.com\n\n[Version]\n"
           "PackageVersion=115.0.0.0\nDisplayVersion=115.0\n")
    _touch(pa / "LibreOfficePortable/App/AppInfo/appinfo.ini",
           "[Details]\nName=LibreOffice Portable\nAppID=LibreOfficePortable\n\n[Version]\nPackageVersion=25.8.3.2\n"
           "DisplayVersion=25.8.3 Still\n")
    for exe in ("scalc.exe", "swriter.exe", "simpress.exe", "sdraw.exe"):
        _touch(pa / "LibreOfficePortable/App/libreoffice/program" / exe)
    _touch(tmp_path / "D/Firefox/firefox.exe")
    _touch(tmp_path / "D/Firefox/application.ini", "[App]\nVendor=Mozilla\nName=Firefox\nVersion=160.0\nBuildID=20261110\n")
    _touch(tmp_path / "D/Outils/Chrome/chrome.exe")
    (tmp_path / "D/Outils/Chrome/131.0.6778.204").mkdir()
    (tmp_path / "C/Program Files/Mozilla Firefox").mkdir(parents=True)  # installed programs: the registry's
    _touch(tmp_path / "C/Program Files/Mozilla Firefox/firefox.exe")
    host = Host.fake("windows", tmp_path, registry={})
    found = sorted((p.key, p.version, p.path) for p in inventory(host).programs)
    assert ("firefox", "115.0", "E:\\PortableApps\\FirefoxPortable") in found
    assert ("firefox", "160.0", "D:\\Firefox") in found
    assert ("chrome", "131.0.6778.204", "D:\\Outils\\Chrome") in found
    lo = next(p for p in inventory(host).programs if p.key == "libreoffice")
    assert lo.version == "25.8.3 Still" and lo.components == {"spreadsheet", "word_processor", "presentation", "drawing"}
    assert not any("Program Files" in (p.path or "") for p in inventory(host).programs)
    result = browser.run(CheckContext(host=host, lang="en"))
    assert result.status == Status.warn  # Firefox 160 on D: is recent; the portable 115 and Chrome 131 are old
    assert "Firefox 115.0" in result.summary and "Chrome 131.0.6778.204" in result.summary
    office = office_suite.run(CheckContext(host=host, lang="en"))
    assert office.status == Status.ok and "LibreOffice 25.8.3 Still" in office.summary
