"""Software detection on macOS: app bundles whose Info.plist files are written with plistlib,
alternately binary and XML as real bundles ship them (tests/fixtures/software/macos_bundles.json)."""
from __future__ import annotations

import json
import plistlib
from pathlib import Path

from checks import browser, image_editor, office_suite, pdf_reader, video_editor
from checks.base import CheckContext
from core.host import Host
from checks.probes.software import inventory
from core.result import Status

BUNDLES = json.loads((Path(__file__).parent / "fixtures/software/macos_bundles.json").read_text(encoding="utf-8"))


def mac(tmp_path: Path, skip: tuple[str, ...] = ()) -> Host:
    bundles = {k: v for k, v in BUNDLES.items() if not k.startswith("_") and k not in skip}
    for index, (app, info) in enumerate(sorted(bundles.items())):
        plist = tmp_path / app.lstrip("/") / "Contents" / "Info.plist"
        plist.parent.mkdir(parents=True)
        fmt = plistlib.FMT_BINARY if index % 2 else plistlib.FMT_XML
        plist.write_bytes(plistlib.dumps(info, fmt=fmt))
    (tmp_path / "Applications" / "Broken.app" / "Contents").mkdir(parents=True)
    (tmp_path / "Applications" / "Broken.app" / "Contents" / "Info.plist").write_bytes(b"\x00garbage")
    return Host.fake("macos", tmp_path)


def test_bundles_give_names_versions_and_pdf_types(tmp_path):
    inv = inventory(mac(tmp_path))
    found = {p.key: p for p in inv.programs}
    assert found["firefox"].version == "140.0" and found["firefox"].path == "/Applications/Firefox.app"
    assert found["safari"].version == "18.1"
    assert found["preview"].opens_pdf and found["preview"].version == "11.0"
    assert found["libreoffice"].components == {"spreadsheet", "word_processor", "presentation", "drawing"}
    assert found["msoffice"].components == {"spreadsheet", "word_processor"}
    assert found["kdenlive"].path == "/Users/eleve/Applications/Kdenlive.app"  # ~/Applications
    assert inv.stats["app_bundles"] == 10  # 9 bundles + the broken one, which is skipped


def test_checks_on_a_mac(tmp_path):
    h = mac(tmp_path)
    c = CheckContext(host=h, lang="en")
    b = browser.run(c)
    assert b.status == Status.warn and "Safari 18.1" in b.summary and "Firefox 140.0" in b.summary
    pdf = pdf_reader.run(c)
    assert pdf.status == Status.ok and "Preview" in pdf.summary
    office = office_suite.run(c)
    assert office.status == Status.ok and "LibreOffice 24.8.4" in office.summary
    ms = next(i for i in office.items if i.name == "Microsoft Office")
    assert ms.missing == ["presentation", "drawing"] and ms.status == Status.fail
    assert image_editor.run(c).status == Status.ok
    assert video_editor.run(c).status == Status.ok


def test_mac_without_libreoffice_and_kdenlive(tmp_path):
    h = mac(tmp_path, skip=("/Applications/LibreOffice.app", "/Users/eleve/Applications/Kdenlive.app"))
    c = CheckContext(host=h, lang="fr")
    office = office_suite.run(c)
    assert office.status == Status.fail and "il manque présentation et dessin" in office.summary
    video = video_editor.run(c)
    assert video.status == Status.fail and "shotcut.org" in video.remediation
