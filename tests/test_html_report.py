"""The HTML report and room summary: content and escaping (fast, from the sample reports), then
rendered for real in headless Chromium to PNG with every request recorded (nothing but the
file itself may be fetched), sorted by a header click, and printed to PDF.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from agent.render.html import render_report_html, render_room_html, write_report_html
from core.report import Report
from core.roomsummary import latest_per_machine

FIXTURES = Path(__file__).parent / "fixtures" / "reports"
OUTPUT = Path(__file__).parent / "output"
ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def load(name: str) -> Report:
    return Report.model_validate_json((FIXTURES / name).read_text(encoding="utf-8"))


def room_rows():
    return latest_per_machine([Report.model_validate_json(p.read_text(encoding="utf-8"))
                               for p in sorted((FIXTURES / "room").glob("*.json"))])


class _Collector(HTMLParser):
    """Every tag and attribute, to assert there is no external asset."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    return collector


# --- content --------------------------------------------------------------------------------

def test_not_ready_report_says_so_first_in_french_with_figures_and_remediations():
    html = render_report_html(load("not_ready.json"))
    assert html.startswith("<!DOCTYPE html>") and '<html lang="fr">' in html
    verdict = html.index("Poste NON PRÊT pour la certification")
    assert verdict < html.index("Le poste") < html.index("Toutes les vérifications")
    assert 'class="verdict verdict-not-ready"' in html
    # Figures formatted for French, threshold beside the measure, unit translated.
    assert "1,2 Mbit/s" in html and "2 Mbit/s" in html and "Seuil exigé" in html
    assert "212,4 Go" in html
    assert "1\u202f920 px" in html
    assert "14 avril 2021" in html  # Chrome's release date
    assert "Installez LibreOffice (gratuit)" in html
    # Every check has its own section.
    for check_id in ("browser", "office_suite", "bandwidth", "whitelist", "video_editor", "mouse"):
        assert f'id="check-{check_id}"' in html
    assert html.count('<section class="check ') == 11


def test_everything_from_the_report_is_escaped():
    html = render_report_html(load("not_ready.json"))
    assert "&lt;publié il y a plus de 2 ans&gt;" in html
    assert "(&lt; avril 2021)" in html
    assert "<publié" not in html and "<HKLM" not in html
    report = load("ready.json")
    report.machine.hostname = '<script>alert("x")</script>'
    report.checks[0].summary = "</td></table><img src=http://evil.example/x.png>"
    html = render_report_html(report)
    assert "<script>alert" not in html and "<img" not in html
    assert not any(tag == "img" for tag, _ in parse(html).tags)


def test_no_external_asset_in_any_page():
    pages = [render_report_html(load(n)) for n in ("ready.json", "not_ready.json", "ready_with_warnings_en.json")]
    pages.append(render_room_html(room_rows(), "fr", room="B12"))
    for html in pages:
        for tag, attrs in parse(html).tags:
            assert tag not in ("link", "img", "iframe", "object", "embed"), tag
            assert "src" not in attrs, (tag, attrs)
            href = attrs.get("href")
            assert href is None or href.startswith("#"), href
        assert "@import" not in html and "url(" not in html


def test_whitelist_table_is_grouped_by_reason_problems_first():
    html = render_report_html(load("not_ready.json"))
    table = html[html.index('<table class="grid sortable urls">'):]
    table = table[:table.index("</table>")]
    reasons = re.findall(r'<td data-sort="(\d\d)">([^<]+)</td>', table)
    orders = [int(o) for o, _ in reasons]
    assert len(reasons) == 40
    assert orders == sorted(orders), "rows are ordered by reason"
    labels = [label for _, label in reasons]
    assert labels[0] == "Bloqué par le filtrage" and labels[-1] == "Accessible"
    assert "Le proxy demande une authentification (407)" in labels
    assert "Trafic chiffré intercepté (inspection TLS)" in labels
    # The count per reason above the table.
    assert "<b>14</b> × Accessible" in html


def test_english_report_with_warnings():
    html = render_report_html(load("ready_with_warnings_en.json"))
    assert '<html lang="en">' in html
    assert "Machine ready, with points to watch" in html and 'verdict-warn' in html
    assert "4 July 2023" in html  # Firefox 115's release date, English format
    assert "1,920 px" in html


def test_ready_machine_has_no_todo_list():
    html = render_report_html(load("ready.json"))
    assert "Poste PRÊT pour la certification" in html and 'verdict-ready' in html
    assert 'class="todo' not in html


def test_room_summary_keeps_the_newest_report_and_lists_what_to_do():
    rows = room_rows()
    html = render_room_html(rows, "fr", room="B12")
    assert '<html lang="fr">' in html and "Salle B12 : synthèse des postes" in html
    assert "Salle NON PRÊTE pour la certification" in html
    assert "3 poste(s) prêt(s) sur 5" in html
    assert html.count('<tr><th scope="row">') == 5
    assert "aucune souris détectée" not in html, "P04's earlier report must be superseded"
    assert "Réglez la résolution à 1024 × 768 ou plus" in html
    assert "Rien à faire sur : SALLE-B12-P01, SALLE-B12-P03, SALLE-B12-P05." in html
    english = render_room_html(rows, "en")
    assert "Room NOT READY for the certification" in english and "3 of 5 machine(s) ready" in english


def test_write_report_html_writes_utf8(tmp_path):
    target = tmp_path / "r.html"
    write_report_html(load("not_ready.json"), target)
    assert "Poste NON PRÊT" in target.read_text(encoding="utf-8")


def test_check_command_writes_html(tmp_path):
    """``examroom check --html``, end to end with the real storage check on a temporary folder."""
    target = tmp_path / "poste.html"
    proc = subprocess.run([sys.executable, "-m", "agent", "check", "--only", "storage", "--storage", str(tmp_path),
                           "--html", str(target), "--lang", "fr"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env={**_env(tmp_path)})
    assert proc.returncode in (0, 1), proc.stderr
    html = target.read_text(encoding="utf-8")
    assert '<html lang="fr">' in html and "Espace de stockage" in html and 'id="check-storage"' in html
    # the technician is told where the file is (an absolute path, whatever the current folder)
    assert proc.stderr.rstrip().splitlines()[-1].startswith(f"Rapport HTML écrit dans {target.resolve()} ")


def test_check_says_where_it_wrote_and_keeps_stdout_json_only(tmp_path):
    target, report = tmp_path / "poste.html", tmp_path / "poste.json"
    proc = subprocess.run([sys.executable, "-m", "agent", "check", "--only", "storage", "--storage", str(tmp_path),
                           "--html", "poste.html", "--json", "-", "--lang", "en"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, env={**_env(tmp_path), "PYTHONPATH": str(ROOT)})
    assert proc.returncode in (0, 1), proc.stderr
    assert json.loads(proc.stdout)["schema"] == "examroom.report/1"   # nothing else on stdout
    assert f"HTML report written to {target.resolve()} (open it in a browser; works offline)" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "agent", "check", "--only", "storage", "--storage", str(tmp_path),
                           "--json", str(report), "--lang", "fr"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env=_env(tmp_path))
    assert f"Rapport JSON écrit dans {report.resolve()}" in proc.stderr.splitlines()
    assert "Poste" in proc.stdout.rstrip().splitlines()[-1]   # stdout still ends with the verdict


def test_check_html_language_follows_the_locale_and_bad_paths_are_one_line(tmp_path):
    env = {k: v for k, v in _env(tmp_path).items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    target = tmp_path / "poste.html"
    for locale, lang in (("fr_FR.UTF-8", "fr"), ("en_GB.UTF-8", "en")):
        proc = subprocess.run([sys.executable, "-m", "agent", "check", "--only", "storage", "--storage",
                               str(tmp_path), "--html", str(target)], cwd=ROOT, capture_output=True, text=True,
                              timeout=60, env=dict(env, LANG=locale))
        assert proc.returncode in (0, 1), proc.stderr
        assert f'<html lang="{lang}">' in target.read_text(encoding="utf-8")
    bad = tmp_path / "missing" / "poste.html"
    proc = subprocess.run([sys.executable, "-m", "agent", "check", "--only", "storage", "--storage", str(tmp_path),
                           "--html", str(bad), "--lang", "fr"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env=env)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"examroom: {bad}: impossible d'écrire le fichier : le dossier {bad.parent} n'existe pas "
        "(choisissez un autre emplacement)"]
    assert proc.stdout == ""  # refused before the crash test ran, not after a full run


def test_output_paths_are_checked_before_the_crash_test_runs(tmp_path):
    """A bad --html must not cost the --json file (nor a full run): nothing is written, exit 2."""
    report = tmp_path / "poste.json"
    for bad in (tmp_path, tmp_path / "missing" / "poste.html"):
        proc = subprocess.run([sys.executable, "-m", "agent", "check", "--only", "storage", "--storage",
                               str(tmp_path), "--json", str(report), "--html", str(bad), "--lang", "en"],
                              cwd=ROOT, capture_output=True, text=True, timeout=60, env=_env(tmp_path))
        assert proc.returncode == 2, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith(f"examroom: {bad}: ")
        assert "Traceback" not in proc.stderr and proc.stdout == ""
        assert not report.exists()


def _env(tmp_path: Path) -> dict[str, str]:
    import os

    return dict(os.environ, EXAMROOM_HOME=str(tmp_path / "home"), EXAMROOM_MACHINE_ID="html-test")


# --- real Chromium --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    if not Path("/usr/bin/chromium").exists() and shutil.which("chromium") is None:
        pytest.skip("needs chromium (CI installs it: see .ci/run)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                     args=CHROMIUM_ARGS, timeout=60_000)
        yield chromium
        chromium.close()


def _open(browser, html: str, name: str, *, javascript: bool = True):
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / f"{name}.html"
    path.write_text(html, encoding="utf-8")
    context = browser.new_context(viewport={"width": 1200, "height": 900}, java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(20_000)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri(), wait_until="load")
    return context, page, requests


@pytest.mark.parametrize("name, fixture", [("ready", "ready.json"), ("not_ready", "not_ready.json"),
                                           ("ready_with_warnings_en", "ready_with_warnings_en.json")])
def test_machine_report_renders_in_chromium_offline(browser, name, fixture):
    context, page, requests = _open(browser, render_report_html(load(fixture)), f"report_{name}")
    try:
        page.screenshot(path=str(OUTPUT / f"report_{name}.png"), full_page=True)
        verdict = page.locator("#verdict").inner_text()
        colour = page.locator(".verdict").evaluate("e => getComputedStyle(e).borderTopColor")
    finally:
        context.close()
    assert all(u.startswith(("file://", "data:")) for u in requests), requests
    expected = {"ready": ("Poste PRÊT pour la certification", "rgb(27, 122, 51)"),
                "not_ready": ("Poste NON PRÊT pour la certification", "rgb(179, 38, 30)"),
                "ready_with_warnings_en": ("Machine ready, with points to watch", "rgb(154, 100, 0)")}[name]
    assert (verdict, colour) == expected
    assert (OUTPUT / f"report_{name}.png").stat().st_size > 20_000


def test_room_of_five_renders_in_chromium_offline(browser):
    context, page, requests = _open(browser, render_room_html(room_rows(), "fr", room="B12"), "room_b12")
    try:
        page.screenshot(path=str(OUTPUT / "room_b12.png"), full_page=True)
        hosts = page.locator(".matrix tbody th a").all_inner_texts()
        p04 = page.locator(".matrix tbody tr").nth(3).inner_text()
        fits = page.evaluate("document.querySelector('.matrix').getBoundingClientRect().right <= innerWidth")
    finally:
        context.close()
    assert all(u.startswith(("file://", "data:")) for u in requests), requests
    assert hosts == [f"SALLE-B12-P0{n}" for n in range(1, 6)]
    assert "ÉCHEC" in p04 and "non" in p04
    assert fits, "the machine x check table must fit the page width"


def test_whitelist_sorts_on_header_click_and_reads_without_script(browser):
    html = render_report_html(load("not_ready.json"))
    context, page, _ = _open(browser, html, "sort")
    try:
        def column(index: int) -> list[str]:
            return page.locator("table.urls tbody tr").evaluate_all(
                f"rows => rows.map(r => r.cells[{index}].textContent.trim())")

        assert column(0)[0] == "Bloqué par le filtrage"
        latency = page.locator("table.urls thead th", has_text="Latence")
        latency.click()
        assert latency.get_attribute("aria-sort") == "ascending"
        values = [int(v.split()[0]) for v in column(4) if v]
        assert values == sorted(values)
        latency.click()
        values = [int(v.split()[0]) for v in column(4) if v]
        assert values == sorted(values, reverse=True)
        page.locator("table.urls thead th", has_text="Motif").click()
        assert column(0)[0] == "Bloqué par le filtrage" and column(0)[-1] == "Accessible"
    finally:
        context.close()
    # With scripts off the rows are still there, grouped by reason.
    context, page, _ = _open(browser, html, "sort_nojs", javascript=False)
    try:
        first = page.locator("table.urls tbody tr").first.inner_text()
        count = page.locator("table.urls tbody tr").count()
    finally:
        context.close()
    assert "Bloqué par le filtrage" in first and count == 40


def test_report_prints_to_pdf(browser):
    context, page, _ = _open(browser, render_report_html(load("not_ready.json")), "print")
    try:
        page.emulate_media(media="print")
        pdf = page.pdf(format="A4", print_background=True)
        hidden = page.evaluate("getComputedStyle(document.querySelector('.todo')).display")
    finally:
        context.close()
    (OUTPUT / "report_not_ready.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages >= 3, "verdict, the checks and the whitelist start on their own pages"
    assert hidden != "none"


def test_extra_item_fields_get_a_translated_column_or_stay_in_the_json():
    report = load("ready.json")
    mouse = next(c for c in report.checks if c.id == "mouse")
    mouse.items[0] = mouse.items[0].model_copy(update={"kind": "mouse", "buttons": 3, "how": "evdev"})
    html = render_report_html(report)
    section = html[html.index('id="check-mouse"'):]
    section = section[:section.index("</section>")]
    assert "<th scope=\"col\">Boutons</th>" in section and ">3</td>" in section
    assert "kind" not in section and "evdev" not in section and ">how<" not in section


def test_room_prints_on_landscape_pages_with_nothing_cut(browser):
    context, page, _ = _open(browser, render_room_html(room_rows(), "fr", room="B12"), "room_print")
    try:
        page.emulate_media(media="print")
        # Printed width of a landscape A4 page at 96 px per inch, less the 10 mm margins.
        page.set_viewport_size({"width": 1047, "height": 720})
        fits = page.evaluate("document.querySelector('.matrix').getBoundingClientRect().right <= innerWidth")
        pdf = page.pdf(print_background=True, prefer_css_page_size=True)
    finally:
        context.close()
    (OUTPUT / "room_b12.pdf").write_bytes(pdf)
    boxes = [tuple(float(v) for v in m) for m in re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)]
    assert boxes and all(w > h for w, h in boxes), boxes
    assert len(boxes) == 2, "the table on one page, what to do on the next"
    assert fits
