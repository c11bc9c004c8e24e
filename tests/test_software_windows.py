"""Software detection on Windows, from registry data shaped exactly as the installers write
it (tests/fixtures/software/windows_*.json), read through the dict-backed registry."""
from __future__ import annotations

import json
from pathlib import Path

from checks import browser, image_editor, office_suite, pdf_reader, video_editor
from checks.base import CheckContext
from core.host import Host
from checks.probes.software import inventory
from checks.probes.software_windows import office_edition
from core.result import Status

FIXTURES = Path(__file__).parent / "fixtures" / "software"


def registry(name: str) -> dict:
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    data.pop("_comment", None)
    return data


def host(tmp_path: Path, name: str = "windows_school.json", **changes) -> Host:
    data = registry(name)
    for key, values in changes.items():
        if values is None:
            data = {k: v for k, v in data.items() if not k.startswith(key)}
        else:
            data[key] = values
    return Host.fake("windows", tmp_path, registry=data, env={"PATH": "C:\\Windows\\system32"})


def ctx(h: Host, lang: str = "en") -> CheckContext:
    return CheckContext(host=h, lang=lang)


def test_inventory_reads_uninstall_keys_app_paths_and_click_to_run(tmp_path):
    found = {p.name: p for p in inventory(host(tmp_path)).programs}
    assert found["Firefox"].version == "140.0"
    assert found["Firefox"].path == "C:\\Program Files\\Mozilla Firefox"
    assert found["Firefox"].display_name == "Mozilla Firefox (x64 fr)"
    assert found["Chrome"].version == "90.0.4430.85"
    assert found["Edge"].version == "142.0.3595.94"
    assert found["LibreOffice"].version == "24.8.4.2"
    assert found["LibreOffice"].components == {"spreadsheet", "word_processor", "presentation", "drawing"}
    office = found["Microsoft Office"]
    assert office.version == "16.0.18129.20158" and office.edition == "365" and office.channel == "Current"
    assert office.components == {"spreadsheet", "word_processor", "presentation"}
    assert found["SumatraPDF"].version == "3.5.2"          # HKCU, per-user install
    assert found["Adobe Acrobat Reader"].version == "24.005.20320"
    assert found["GIMP"].version == "2.10.38" and found["PhotoFiltre"].version == "7.2.1"
    assert found["Shotcut"].version == "24.11.17" and found["Kdenlive"].version == "24.12.0"
    assert not any("7-Zip" in n for n in found)             # not one of ours
    assert inventory(host(tmp_path)).pdf_default.name == "SumatraPDF"


def test_browsers_warn_about_the_old_chrome(tmp_path):
    result = browser.run(ctx(host(tmp_path)))
    assert result.status == Status.warn
    assert "Chrome 90.0.4430.85" in result.summary and "Firefox 140.0" in result.summary
    items = {i.name: i for i in result.items}
    assert items["Chrome"].status == Status.fail and items["Chrome"].released == "2021-04-13"
    assert items["Firefox"].released == "2025-06-24" and items["Edge"].status == Status.ok
    assert "Chrome" in result.remediation


def test_office_recent_libreoffice_wins_and_m365_is_dated_by_build(tmp_path):
    result = office_suite.run(ctx(host(tmp_path)))
    assert result.status == Status.ok and "LibreOffice 24.8.4.2" in result.summary
    items = {i.name: i for i in result.items}
    m365 = items["Microsoft Office"]
    assert m365.released == "2024-10-28"                  # Version 2410's first release
    assert m365.missing == ["drawing"] and m365.status == Status.fail
    assert m365.edition == "365" and m365.channel == "Current"


def test_microsoft_office_alone_says_drawing_is_missing(tmp_path):
    data = {k: v for k, v in registry("windows_school.json").items() if "LibreOffice" not in json.dumps(v)}
    h = Host.fake("windows", tmp_path, registry=data)
    ctr = "HKLM\\SOFTWARE\\Microsoft\\Office\\ClickToRun\\Configuration"
    result = office_suite.run(ctx(h, "fr"))
    assert result.status == Status.fail
    assert "il manque dessin" in result.summary and "Microsoft 365" in result.summary
    assert "LibreOffice" in result.remediation and "Visio" in result.remediation
    # With Visio in the Click-to-Run products, the suite is complete; then only its age counts.
    data[ctr] = {**data[ctr], "ProductReleaseIds": "O365ProPlusRetail,VisioProRetail",
                 "VersionToReport": "16.0.99999.20000"}
    visio = office_suite.run(ctx(Host.fake("windows", tmp_path, registry=data)))
    assert visio.status == Status.ok, visio.summary


def test_old_perpetual_office_fails(tmp_path):
    result = office_suite.run(ctx(host(tmp_path, "windows_bare.json")))
    assert result.status == Status.fail
    item = result.items[0]
    assert item.name == "Microsoft Office" and item.edition == "2016" and item.released == "2015-09-22"
    assert item.age == "old"


def test_bare_machine_edge_only(tmp_path):
    h = host(tmp_path, "windows_bare.json")
    b = browser.run(ctx(h))
    assert b.status == Status.fail and "Edge 109.0.1518.140" in b.summary
    pdf = pdf_reader.run(ctx(h))
    assert pdf.status == Status.ok and "Edge" in pdf.summary   # Edge's viewer, and the .pdf default
    assert "MSEdgePDF" not in pdf.summary
    image = image_editor.run(ctx(h))
    assert image.status == Status.fail and "winget install GIMP.GIMP.3" in image.remediation
    video = video_editor.run(ctx(h, "fr"))
    assert video.status == Status.fail and "Meltytech.Shotcut" in video.remediation


def test_pdf_association_falls_back_to_hkcr(tmp_path):
    userchoice = "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\FileExts\\.pdf\\UserChoice"
    h = host(tmp_path, **{userchoice: None})
    assert inventory(h).pdf_default.name == "Adobe Acrobat Reader"
    result = pdf_reader.run(ctx(h))
    assert "default app for .pdf: Adobe Acrobat Reader" in result.summary


def test_libreoffice_components_from_its_program_folder(tmp_path):
    """Without App Paths (a copy deployed by a script), the files in program\\ tell."""
    data = {k: v for k, v in registry("windows_school.json").items() if "App Paths" not in k}
    for exe in ("scalc.exe", "swriter.exe", "simpress.exe"):
        f = tmp_path / "C/Program Files/LibreOffice/program" / exe
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(b"MZ")
    h = Host.fake("windows", tmp_path, registry=data)
    lo = next(p for p in inventory(h).programs if p.key == "libreoffice")
    assert lo.components == {"spreadsheet", "word_processor", "presentation"}


def test_office_edition_from_release_ids():
    assert office_edition(["O365ProPlusRetail"]) == "365"
    assert office_edition(["ProPlus2021Volume"]) == "2021-ltsc"
    assert office_edition(["ProPlus2024Retail", "VisioPro2024Retail"]) == "2024"
    assert office_edition(["HomeStudent2019Retail"]) == "2019"
    assert office_edition([]) is None


def test_pdf_program_unknown_to_the_catalog_counts_through_the_association(tmp_path):
    data = {
        "HKCR\\.pdf": {"": "Wondershare.PDFelement.pdf"},
        "HKCR\\Wondershare.PDFelement.pdf\\shell\\open\\command": {
            "": "\"C:\\Program Files\\Wondershare\\PDFelement\\PDFelement.exe\" \"%1\""},
    }
    result = pdf_reader.run(ctx(Host.fake("windows", tmp_path, registry=data)))
    assert result.status == Status.ok and "Wondershare.PDFelement.pdf" in result.summary
    nothing = pdf_reader.run(ctx(Host.fake("windows", tmp_path, registry={})))
    assert nothing.status == Status.fail and "SumatraPDF.SumatraPDF" in nothing.remediation


def test_older_office_365_display_name(tmp_path):
    data = {"HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\O365ProPlusRetail - fr-fr": {
        "DisplayName": "Microsoft Office 365 ProPlus - fr-fr", "DisplayVersion": "16.0.11328.20438",
        "Publisher": "Microsoft Corporation", "InstallLocation": "C:\\Program Files\\Microsoft Office"}}
    office = next(p for p in inventory(Host.fake("windows", tmp_path, registry=data)).programs)
    assert office.key == "msoffice" and office.edition == "365"
    result = office_suite.run(ctx(Host.fake("windows", tmp_path, registry=data)))
    assert result.status == Status.fail and result.items[0].age == "old"


def test_pupils_per_user_old_chrome_beside_the_machine_one(tmp_path):
    """Chrome installed by a pupil in their own profile (loaded hive under HKU) is a second,
    separate Chrome; App Paths alone never make a versionless duplicate."""
    data = registry("windows_school.json")
    chrome = "HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\Google Chrome"
    data[chrome] = {**data[chrome], "DisplayVersion": "142.0.7444.60", "Version": "142.0.7444.60"}
    sid = "S-1-5-21-3623811015-3361044348-30300820-1013"
    data[f"HKU\\{sid}\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\Google Chrome"] = {
        "DisplayIcon": "C:\\Users\\eleve\\AppData\\Local\\Google\\Chrome\\Application\\chrome.exe,0",
        "DisplayName": "Google Chrome", "DisplayVersion": "109.0.5414.120", "Publisher": "Google LLC",
        "InstallLocation": "C:\\Users\\eleve\\AppData\\Local\\Google\\Chrome\\Application"}
    data[f"HKU\\{sid}_Classes\\.pdf"] = {"": "ChromeHTML"}
    h = Host.fake("windows", tmp_path, registry=data)
    chromes = [p for p in inventory(h).programs if p.key == "chrome"]
    assert sorted(c.version for c in chromes) == ["109.0.5414.120", "142.0.7444.60"]
    assert "app_paths" in next(c for c in chromes if c.version.startswith("142")).sources
    result = browser.run(ctx(h))
    assert result.status == Status.warn and "Chrome 109.0.5414.120" in result.summary
