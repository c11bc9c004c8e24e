"""Windows software detection from regedit exports (``.reg``, UTF-16 LE with a BOM and CRLF,
as regedit writes them) parsed into the dict-backed registry: two installs of one program,
older installer names, Office LTSC 2021 with Visio, Adobe Reader X / XI."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from checks import browser, office_suite, pdf_reader
from checks.base import CheckContext
from core.host import DictRegistry, Host
from checks.probes.parsing import parse_reg_export, reg_text
from checks.probes.software import inventory
from core.result import Status

REG = Path(__file__).parent / "fixtures" / "software" / "reg"
UNINSTALL = "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall"
WOW = "HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall"


def exported(name: str) -> dict[str, dict[str, object]]:
    data = (REG / name).read_bytes()
    assert data.startswith(b"\xff\xfe")  # as regedit writes it
    return parse_reg_export(reg_text(data))


def windows(tmp_path: Path, keys: dict) -> Host:
    return Host.fake("windows", tmp_path, registry=keys)


def test_reg_export_values_are_typed_like_winreg():
    keys = exported("firefox_esr_reader_x.reg")
    reader = keys[f"{WOW}\\{{AC76BA86-7AD7-1036-7B44-AA0000000001}}"]
    assert reader["DisplayName"] == "Adobe Reader X (10.1.2) - Français"
    assert reader["Language"] == 0x40C and reader["VersionMajor"] == 10
    # hex(2) (REG_EXPAND_SZ) continued over several lines
    assert reader["ModifyPath"] == "MsiExec.exe /I{AC76BA86-7AD7-1036-7B44-AA0000000001}"
    firefox = keys[f"{UNINSTALL}\\Mozilla Firefox 160.0 (x64 fr)"]
    assert firefox["UninstallString"] == '"C:\\Program Files\\Mozilla Firefox\\uninstall\\helper.exe"'
    assert keys["HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\App Paths\\firefox.exe"][""].endswith("firefox.exe")
    text = 'REGEDIT4\n\n[HKEY_CURRENT_USER\\Software\\X]\n"multi"=hex(7):61,00,00,00,62,00,00,00,00,00\n' \
           '"q"=hex(b):01,00,00,00,00,00,00,00\n"gone"=-\n[-HKEY_CURRENT_USER\\Software\\Y]\n"z"="no"\n'
    assert parse_reg_export(text) == {"HKCU\\Software\\X": {"multi": ["a", "b"], "q": 1}}


def test_two_firefox_installs_are_two_items_each_judged(tmp_path):
    """Firefox 160 (x64) with a leftover Firefox 115 (x86): a warning naming the old one."""
    keys = exported("firefox_esr_reader_x.reg")
    result = browser.run(CheckContext(host=windows(tmp_path, keys), lang="en"))
    firefoxes = sorted((i.version, i.status, i.detail) for i in result.items if i.name == "Firefox")
    assert [(v, s) for v, s, _ in firefoxes] == [("115.0", Status.fail), ("160.0", Status.ok)]
    assert "Program Files (x86)" in firefoxes[0][2] and "(x86)" not in firefoxes[1][2]
    assert result.status == Status.warn
    assert "Firefox 160.0 (OK)" in result.summary and "Firefox 115.0" in result.summary
    assert "Firefox 115.0" in result.remediation
    # The App Paths entry belongs to the 64-bit install (its folder), not to the first key read.
    new = next(p for p in inventory(windows(tmp_path, keys)).programs if p.version == "160.0")
    assert "app_paths" in new.sources


@pytest.mark.parametrize("order", ["as_exported", "reversed"])
def test_the_verdict_does_not_depend_on_key_order(tmp_path, order):
    keys = exported("firefox_esr_reader_x.reg")
    items = list(keys.items())
    registry = DictRegistry(dict(items if order == "as_exported" else reversed(items)))
    result = browser.run(CheckContext(host=Host.fake("windows", tmp_path, registry=registry)))
    assert result.status == Status.warn
    assert sorted(i.version for i in result.items) == ["115.0", "160.0", "31.8.0"]


def test_old_esr_installer_name_is_firefox_esr(tmp_path):
    keys = exported("firefox_esr_reader_x.reg")
    found = {(p.name, p.version) for p in inventory(windows(tmp_path, keys)).programs if p.kind == "browser"}
    assert found == {("Firefox", "160.0"), ("Firefox", "115.0"), ("Firefox ESR", "31.8.0")}
    result = browser.run(CheckContext(host=windows(tmp_path, keys), lang="fr"))
    esr = next(i for i in result.items if i.name == "Firefox ESR")
    assert esr.status == Status.fail and esr.released == "2014-07-22"


@pytest.mark.parametrize("display_name, version", [
    ("Adobe Reader X (10.1.2) - Français", "10.1.2"),
    ("Adobe Reader XI (11.0.23) - Français", "11.0.23"),
    ("Adobe Reader 9.5.0 - Français", "9.5.0"),
])
def test_adobe_reader_x_and_xi_are_pdf_readers(tmp_path, display_name, version):
    keys = exported("firefox_esr_reader_x.reg")
    reader = keys[f"{WOW}\\{{AC76BA86-7AD7-1036-7B44-AA0000000001}}"]
    reader.update(DisplayName=display_name, DisplayVersion=version)
    result = pdf_reader.run(CheckContext(host=windows(tmp_path, keys), lang="en"))
    assert result.status == Status.ok
    assert result.summary.startswith("PDF files open with Adobe Acrobat Reader")
    assert any(i.name == "Adobe Acrobat Reader" and i.version == version for i in result.items)


def test_office_ltsc_2021_with_visio_is_complete_and_dated_old(tmp_path):
    keys = exported("office_ltsc2021_visio.reg")
    # Some Click-to-Run entries carry no InstallLocation: still the same Office.
    keys[f"{UNINSTALL}\\VisioPro2021Volume - fr-fr"].pop("InstallLocation")
    programs = [p for p in inventory(windows(tmp_path, keys)).programs if p.kind == "office"]
    assert len(programs) == 1  # Click-to-Run, two Uninstall entries and App Paths: one install
    office = programs[0]
    assert office.edition == "2021-ltsc" and office.channel == "PerpetualVL2021"
    assert office.components == {"spreadsheet", "word_processor", "presentation", "drawing"}
    result = office_suite.run(CheckContext(host=windows(tmp_path, keys), lang="fr"))
    assert result.status == Status.fail
    item = result.items[0]
    assert item.released == "2021-09-16" and item.age == "old" and item.missing == []
    assert "2021 LTSC" in result.summary and "date de plus de 2 ans" in result.summary


def test_reg_samples_through_the_crash_test_and_its_reports(tmp_path):
    """The same .reg samples through what ``examroom check`` runs (the crash test's runner, the
    JSON report and the HTML renderer); only reading the live registry is Windows-only."""
    from agent.crashtest import run_crash_test
    from agent.render.html import render_report_html
    from core.report import Report

    keys = {**exported("firefox_esr_reader_x.reg"), **exported("office_ltsc2021_visio.reg")}
    host = Host.fake("windows", tmp_path, registry=keys)
    ids = ["browser", "pix_companion", "pdf_reader", "office_suite"]
    report = run_crash_test(ids, CheckContext(host=host, lang="en"))
    data = json.loads(report.model_dump_json(by_alias=True))
    checks = {c["id"]: c for c in data["checks"]}
    assert checks["browser"]["status"] == "warn"
    assert sorted((i["name"], i["version"]) for i in checks["browser"]["items"]) == [
        ("Firefox", "115.0"), ("Firefox", "160.0"), ("Firefox ESR", "31.8.0")]
    assert checks["office_suite"]["status"] == "fail" and checks["office_suite"]["items"][0]["released"] == "2021-09-16"
    assert any(i["name"] == "Adobe Acrobat Reader" and i["version"] == "10.1.2" for i in checks["pdf_reader"]["items"])
    assert checks["pix_companion"]["status"] == "fail" and "Firefox" in checks["pix_companion"]["summary"]
    assert data["ready"] is False
    html = render_report_html(Report.model_validate(data))
    assert "Firefox 115.0" in html and "2021 LTSC" in html
