"""Pure parsers (real strings copied from real programs) and the release tables."""
from __future__ import annotations

import json
import plistlib
from datetime import date

import pytest

from checks import releases
from checks.probes.parsing import (
    icon_path, parse_desktop, parse_dpkg_status, parse_info_plist, parse_rpm_qa, snap_version,
    upstream_version, version_from_output, version_key,
)
from checks.releases import Age


@pytest.mark.parametrize("output, expected", [
    ("Mozilla Firefox 140.0\n", "140.0"),
    ("Mozilla Firefox 128.5.0esr\n", "128.5.0"),
    ("Mozilla Firefox 115.12.0esr\n", "115.12.0"),
    ("Chromium 156.0.8078.79 built on Debian GNU/Linux 12 (bookworm)\n", "156.0.8078.79"),
    ("/usr/bin/chromium: 9: [: 25276063744: unexpected operator\n"
     "Chromium 156.0.8078.79 built on Debian GNU/Linux 12 (bookworm)\n", "156.0.8078.79"),
    ("Google Chrome 131.0.6778.204 \n", "131.0.6778.204"),
    ("Microsoft Edge 131.0.2903.112\n", "131.0.2903.112"),
    ("LibreOffice 24.8.4.2 480(Build:2)\n", "24.8.4.2"),
    ("LibreOffice 7.4.7.2 40(Build:2)\n", "7.4.7.2"),
    ("GNU Image Manipulation Program version 2.10.34\n", "2.10.34"),
    ("kdenlive 22.12.3\n", "22.12.3"),
    ("GNOME Document Viewer 43.1\n", "43.1"),
    ("okular 22.12.3\n", "22.12.3"),
    ("Gtk-Message: 10:22:33.123: Failed to load module \"canberra-gtk-module\"\n"
     "GNU Image Manipulation Program version 2.10.34\n", "2.10.34"),
    ("(gimp:4242): GLib-WARNING **: 10:22:33.123: 1.2.3 gone\n", None),
    ("", None),
    ("command not found", None),
])
def test_version_from_real_outputs(output, expected):
    assert version_from_output(output) == expected


@pytest.mark.parametrize("package, upstream", [
    ("4:24.8.4-1~bpo12+1", "24.8.4"),
    ("4:7.4.7-1+deb12u8", "7.4.7"),
    ("140.0esr-1~deb12u1", "140.0"),
    ("115.12.0esr-1~deb12u1", "115.12.0"),
    ("2.10.34-1+deb12u3", "2.10.34"),
    ("156.0.8078.73-1~deb12u1", "156.0.8078.73"),
    ("43.1-2+b1", "43.1"),
])
def test_upstream_version_of_packages(package, upstream):
    assert upstream_version(package) == upstream


def test_version_key_orders_numerically():
    assert version_key("24.8.4.2") > version_key("7.6.7.2")
    assert version_key("128.5.0esr") == (128, 5, 0)
    assert version_key(None) == ()


def test_desktop_file_application_group_only():
    text = ("[Desktop Entry]\nName=Chromium\nExec=/usr/bin/chromium %U\nType=Application\n"
            "MimeType=text/html;application/pdf;\n\n[Desktop Action new-window]\nName=New Window\n"
            "Exec=/usr/bin/chromium --new-window\n")
    entry = parse_desktop(text, "chromium")
    assert entry is not None and entry.name == "Chromium" and entry.program == "chromium"
    assert "application/pdf" in entry.mime_types
    assert parse_desktop("[Desktop Entry]\nType=Link\nName=Pix\nURL=https://pix.fr\n", "pix") is None
    snap = parse_desktop("[Desktop Entry]\nName=Firefox\nType=Application\n"
                         "Exec=env BAMF_DESKTOP_FILE_HINT=/var/lib/snapd/x.desktop /snap/bin/firefox %u\n", "f")
    assert snap.program == "firefox"


def test_dpkg_status_keeps_installed_packages_only():
    text = ("Package: gimp\nStatus: install ok installed\nVersion: 2.10.34-1+deb12u3\n\n"
            "Package: libreoffice-draw\nStatus: deinstall ok config-files\nVersion: 4:7.4.7-1+deb12u8\n\n"
            "Package: evince\nStatus: install ok installed\nVersion: 43.1-2+b1\n")
    assert parse_dpkg_status(text) == {"gimp": "2.10.34-1+deb12u3", "evince": "43.1-2+b1"}
    assert parse_dpkg_status(text, {"gimp"}) == {"gimp": "2.10.34-1+deb12u3"}


def test_rpm_snap_and_registry_bits():
    assert parse_rpm_qa("firefox\t128.5.1\ngimp\t2.10.38\n") == {"firefox": "128.5.1", "gimp": "2.10.38"}
    assert snap_version("name: firefox\nversion: 140.0.2-1\nsummary: x\n") == "140.0.2-1"
    assert icon_path('"C:\\Program Files\\GIMP 2\\bin\\gimp-2.10.exe",0') == "C:\\Program Files\\GIMP 2\\bin\\gimp-2.10.exe"
    assert icon_path("C:\\Program Files\\Mozilla Firefox\\firefox.exe,0") == "C:\\Program Files\\Mozilla Firefox\\firefox.exe"


@pytest.mark.parametrize("fmt", [plistlib.FMT_BINARY, plistlib.FMT_XML])
def test_info_plist_binary_and_xml(fmt):
    data = plistlib.dumps({"CFBundleIdentifier": "com.apple.Preview", "CFBundleName": "Preview",
                           "CFBundleShortVersionString": "11.0",
                           "CFBundleDocumentTypes": [{"LSItemContentTypes": ["com.adobe.pdf"]}]}, fmt=fmt)
    info = parse_info_plist(data)
    assert info.bundle_id == "com.apple.Preview" and info.version == "11.0"
    assert "com.adobe.pdf" in info.document_types
    assert parse_info_plist(b"not a plist") is None


def test_release_table_comes_from_the_sources_and_says_so():
    meta = releases.meta()
    assert "MDN browser-compat-data" in meta["browsers"]["source"]
    assert "endoflife" in meta["libreoffice"]["source"]
    assert "endoflife" in meta["office"]["source"]
    assert "DataForGeeks" in meta["m365_builds"]["source"] and "2026-08-14" in meta["m365_builds"]["source"]


def test_release_lookups_and_age():
    now = date(2026, 11, 22)
    assert releases.lookup("firefox", "140.0") == (date(2025, 6, 24), "exact")
    assert releases.lookup("libreoffice", "24.8.4.2") == (date(2024, 12, 15), "exact")
    assert releases.lookup("libreoffice", "24.8.4")[0] == date(2024, 12, 15)  # package version
    assert releases.lookup("chrome", "999.0")[1] == "newer"
    assert releases.judge(*releases.lookup("chrome", "999.0"), now, 730).age == Age.recent
    assert releases.judge(*releases.lookup("chrome", "90.0.4430.85"), now, 730).age == Age.old
    assert releases.judge(*releases.lookup("libreoffice", "6.0.1.1"), now, 730).age == Age.old
    # Version 2410 (build 18129) first shipped on 2024-10-28 (Current Channel).
    assert releases.m365_release("16.0.18129.20158") == (date(2024, 10, 28), "exact")
    assert releases.age_of("msoffice", "16.0.4266.1001", "2016", now, 730).age == Age.old
    assert releases.age_of("msoffice", "16.0.20228.20186", "365", now, 730).age == Age.recent
    # Office for Mac is dated by its monthly numbering: 16.66.1 = October 2022, old in 2026.
    assert releases.mac_office_release("16.66.1") == date(2022, 10, 1)
    assert releases.mac_office_release("16.90") == date(2024, 10, 1)
    assert releases.age_of("msoffice", "16.66.1", None, now, 730).age == Age.old
    assert releases.age_of("msoffice", "16.103", None, now, 730).age == Age.recent
    # The policy's limit is used, not a constant.
    assert releases.age_of("firefox", "140.0", None, now, 365).age == Age.old


def test_update_script_regenerates_from_a_source(tmp_path):
    """The script turns the sources' own formats into the bundled table."""
    from scripts import update_release_data as script

    bcd = {"__meta": {"version": "9.9.9", "timestamp": "2026-11-01T00:00:00Z"},
           "browsers": {b: {"releases": {"1": {"release_date": "2020-01-01"}, "2": {"status": "planned"}}}
                        for b in script.BROWSERS}}
    (tmp_path / "bcd.json").write_text(json.dumps(bcd))
    (tmp_path / "lo.json").write_text(json.dumps({"versions": {"25.8.1.1": {"name": "25.8.1.1", "date": "2025-08-28"}}}))
    (tmp_path / "office.md").write_text('---\nreleases:\n-   releaseCycle: "2024"\n    releaseDate: 2024-10-01\n---\n')
    (tmp_path / "m365.txt").write_text("Version 2510 (Build 19328.20000)")
    out = tmp_path / "releases.json"
    assert script.main(["--bcd", str(tmp_path / "bcd.json"), "--libreoffice", str(tmp_path / "lo.json"),
                        "--office", str(tmp_path / "office.md"), "--m365", str(tmp_path / "m365.txt"),
                        "--out", str(out)]) == 0
    table = json.loads(out.read_text())
    assert table["browsers"]["firefox"] == {"1": "2020-01-01"}
    assert table["libreoffice"] == {"25.8.1.1": "2025-08-28"}
    assert table["office"] == {"2024": "2024-10-01", **script.OFFICE_SUPPLEMENT}
    assert table["m365_builds"] == {"19328": "2025-10-01"}  # a version alone: its month
    assert "9.9.9" in table["meta"]["browsers"]["source"]


def test_update_script_keeps_a_section_whose_source_is_unreachable(tmp_path, capsys):
    from scripts import update_release_data as script

    out = tmp_path / "releases.json"
    out.write_text(json.dumps({"office": {"2021": "2021-10-05"}, "meta": {"office": {"source": "old"}}}))
    (tmp_path / "lo.json").write_text(json.dumps({"versions": {"25.8.1.1": {"date": "2025-08-28"}}}))
    script.main(["--bcd", str(tmp_path / "missing.json"), "--libreoffice", str(tmp_path / "lo.json"),
                 "--office", str(tmp_path / "missing.md"), "--m365", str(tmp_path / "missing.txt"),
                 "--out", str(out)])
    table = json.loads(out.read_text())
    assert table["office"] == {"2021": "2021-10-05", **script.OFFICE_SUPPLEMENT}
    assert table["meta"]["office"]["source"] == "old"
    assert table["libreoffice"] == {"25.8.1.1": "2025-08-28"}
    assert any(p.startswith("office:") for p in table["meta"]["last_run_problems"])
    assert "kept the previous table" in capsys.readouterr().err


def test_m365_builds_from_the_maintained_feed_and_past_it(tmp_path):
    """The DataForGeeks transcription of Microsoft's update history: each build is dated by the
    first day any channel shipped it; builds past the table are extrapolated (~100 a month)."""
    from scripts import update_release_data as script

    feed = {"DataForGeeks": {"LastUpdatedUTC": "2026-08-14T01:39:16Z"}, "Data": [
        {"ReleaseDate": "2026-08-11", "Channel": "Semi-Annual Enterprise", "Build": "20228.20186", "Version": "2607"},
        {"ReleaseDate": "2026-07-23", "Channel": "Current", "Build": "20228.20120", "Version": "2607"},
        {"ReleaseDate": "2025-01-16", "Channel": "Current", "Build": "18429.20132", "Version": "2501"}]}
    assert script.m365_from_dataforgeeks(feed) == {"18429": "2025-01-16", "20228": "2026-07-23"}
    newest_build, newest = releases._m365_rows()[-1]
    assert newest_build >= 20228 and newest >= date(2026, 7, 1)
    # Twelve versions (~1200 builds) past the table: about a year after its newest entry.
    when, how = releases.m365_release(f"16.0.{newest_build + 1200}.20000")
    assert how == "estimated" and 300 <= (when - newest).days <= 430
    # And an estimated date still ages: in 2029, a build of late 2027 is old.
    dated = releases.age_of("msoffice", f"16.0.{newest_build + 1200}.20000", "365", date(2030, 1, 1), 730)
    assert dated.age == Age.old and dated.estimated == when


def test_perpetual_office_editions_are_all_dated():
    now = date(2026, 11, 22)
    from checks.probes.software_windows import _edition_from_name, office_edition

    cases = {  # Click-to-Run ProductReleaseIds / Uninstall DisplayName -> edition -> release
        ("ProPlus2021Volume", "Microsoft Office LTSC Professionnel Plus 2021 - fr-fr"): ("2021-ltsc", date(2021, 9, 16)),
        ("Standard2021Volume", "Microsoft Office LTSC Standard 2021 - fr-fr"): ("2021-ltsc", date(2021, 9, 16)),
        ("ProPlus2024Volume", "Microsoft Office LTSC Professional Plus 2024 - en-us"): ("2024-ltsc", date(2024, 9, 18)),
        ("HomeBusiness2021Retail", "Microsoft Office Famille et Petite Entreprise 2021 - fr-fr"): ("2021", date(2021, 10, 5)),
        ("HomeStudent2024Retail", "Microsoft Office Home and Student 2024 - en-us"): ("2024", date(2024, 10, 1)),
        ("ProPlus2019Volume", "Microsoft Office Professionnel Plus 2019 - fr-fr"): ("2019", date(2018, 9, 24)),
        ("HomeBusiness2019Retail", "Microsoft Office Home and Business 2019 - en-us"): ("2019", date(2018, 9, 24)),
        ("ProPlusRetail", "Microsoft Office Professionnel Plus 2016 - fr-fr"): ("2016", date(2015, 9, 22)),
    }
    for (rid, name), (edition, released) in cases.items():
        assert office_edition([rid]) == edition, rid
        assert _edition_from_name(name) == edition, name
        assert releases.office_edition_release(edition) == released, edition
        assert releases.age_of("msoffice", "16.0.14332.20812", edition, now, 730).age == Age.old


def test_flatpak_exec_lines_name_the_app():
    from checks.probes.software_linux import _desktop_match
    from checks.probes.parsing import parse_desktop
    from checks.probes.software import entry

    line = ("Exec=/usr/bin/flatpak run --branch=stable --arch=x86_64 --command=gimp-2.10 "
            "--file-forwarding org.gimp.GIMP @@u %U @@\n")
    desktop = parse_desktop("[Desktop Entry]\nType=Application\nName=GIMP\n" + line, "renamed")
    assert _desktop_match(desktop, entry("gimp")) and not _desktop_match(desktop, entry("krita"))
