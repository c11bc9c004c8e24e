"""The dashboard in a real headless Chromium, against the real supervisor server.

The server runs as ``python -m agent serve`` (uvicorn) on a free loopback port with a temp
SQLite file; machines enrol, report, heart-beat and send events through the real HTTP API
(requests), as agents do; Chromium (Debian's, driven by playwright) logs in through the UI.
Screenshots land in tests/output/ (the ones worth keeping are copied to bench/screenshots/).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest
import requests

from core.report import Machine, Report
from core.result import CHECK_IDS
from core.result import CheckResult, Item, Status
from tests.server_support import PASSWORD, dashboard_login
from tests.support import free_port, need

sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip install -e '.[test]')")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
OUTPUT = Path(__file__).parent / "output"
WAIT_MS = 10000  # DOM waits: live updates arrive in well under a second; this only bounds a hang

GREEN, ORANGE, RED, GREY = "rgb(27, 110, 52)", "rgb(217, 121, 0)", "rgb(179, 38, 30)", "rgb(85, 85, 85)"


# ---------- the real server and the agents ----------

def _start_server(port: int, db: Path, log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "agent", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--db", str(db), "--admin-password", PASSWORD],
            stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ, EXAMROOM_HOME=str(db.parent / "home")))


def _wait_up(url: str, proc: subprocess.Popen, log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if requests.get(f"{url}/api/v1/i18n/fr", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    pytest.fail(f"server did not answer within {timeout} s:\n{log.read_text(errors='replace')[-3000:]}")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


class Server:
    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = tmp / "examroom.db"
        self.log = tmp / "server.log"
        self.proc = _start_server(self.port, self.db, self.log)
        _wait_up(self.url, self.proc, self.log)

    def restart(self, down_s: float = 0.0) -> None:
        _stop(self.proc)
        time.sleep(down_s)
        self.proc = _start_server(self.port, self.db, self.log)
        _wait_up(self.url, self.proc, self.log)

    def token(self) -> str:
        res = requests.post(f"{self.url}/api/v1/login", json={"username": "admin", "password": PASSWORD}, timeout=5)
        res.raise_for_status()
        return res.json()["token"]

    def create_room(self, name: str, settings: dict | None = None) -> str:
        res = requests.post(f"{self.url}/api/v1/rooms", json={"name": name, **({"settings": settings} if settings else {})},
                            timeout=5, headers={"Authorization": f"Bearer {self.token()}"})
        res.raise_for_status()
        return res.json()["code"]


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def make_report(machine: Machine, bad: dict[str, tuple[Status, str, str]] | None = None,
                items: dict[str, list[Item]] | None = None) -> dict:
    """A report where every check passes except those in ``bad`` (id -> status, summary, remediation)."""
    bad, items = bad or {}, items or {}
    checks = []
    for check_id in CHECK_IDS:
        status, summary, remediation = bad.get(check_id, (Status.ok, "OK", None))
        checks.append(CheckResult(id=check_id, title=check_id.replace("_", " ").capitalize(), status=status,
                                  summary=summary, remediation=remediation, items=items.get(check_id, [])))
    now = _now()
    return Report.build(agent_version="0.1.0", machine=machine, started_at=now, finished_at=now,
                        checks=checks, lang="fr").to_dict()


class FakeAgent:
    """One lab machine talking to the server exactly as ``examroom check``/``companion`` do."""

    def __init__(self, server: Server, room: str, hostname: str, **facts: object) -> None:
        self.server = server
        self.machine = Machine(id=f"m-{uuid.uuid4().hex[:12]}", hostname=hostname, os="windows",
                               os_version="11 23H2", arch="x86_64", **facts)
        res = requests.post(f"{server.url}/api/v1/enroll", timeout=5,
                            json={"room_code": room, "machine": self.machine.model_dump(mode="json")})
        res.raise_for_status()
        self.headers = {"Authorization": f"Bearer {res.json()['token']}"}

    def post(self, path: str, body: dict) -> dict:
        res = requests.post(f"{self.server.url}/api/v1/{path}", json=body, headers=self.headers, timeout=5)
        assert res.status_code < 300, res.text
        return res.json()

    def report(self, bad: dict[str, tuple[Status, str, str]] | None = None,
               items: dict[str, list[Item]] | None = None) -> dict:
        return self.post("reports", make_report(self.machine, bad, items))

    def heartbeat(self, *, exam: bool = True, title: str = "Pix - Certification", up: bool = True,
                  forbidden: list[str] | None = None) -> dict:
        return self.post("heartbeat", {"at": _now(), "interval_s": 2, "net": {"up": up},
                                       "focus": {"exam": exam, "title": title, "process": "firefox"},
                                       "forbidden": forbidden or [], "companion_version": "0.1.0"})

    def event(self, kind: str, **details: object) -> str:
        event_id = str(uuid.uuid4())
        self.post("events", {"events": [{"id": event_id, "kind": kind, "at": _now(), **details}]})
        return event_id


# ---------- browser fixtures ----------

@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("dashboard"))
    try:
        yield srv
    finally:
        _stop(srv.proc)


@pytest.fixture(scope="module")
def browser():
    need("chromium")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def new_page(browser, locale: str = "fr-FR"):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale=locale, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors  # type: ignore[attr-defined]
    return page


def login(page, server: Server) -> None:
    dashboard_login(page, server.url)


def shot(page, name: str, **kwargs) -> Path:
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path), **kwargs)
    return path


def tile(page, agent: FakeAgent):
    return page.locator(f'.tile[data-machine-id="{agent.machine.id}"]')


def top_colour(locator) -> str:
    return locator.evaluate("e => getComputedStyle(e).borderTopColor")


# ---------- the tests ----------

def test_login_room_tiles_and_a_tile_turning_green_without_reload(server, browser):
    page = new_page(browser)
    page.goto(server.url + "/")
    # French browser -> French page; a wrong password is said, not crashed on.
    page.wait_for_selector("#login-form")
    assert page.evaluate("document.documentElement.lang") == "fr"
    page.fill("#login-password", "wrong")
    page.click("#login-submit")
    sync_api.expect(page.locator("#login-error")).to_contain_text("incorrect")
    login(page, server)

    page.fill("#room-name", "Salle B12 – matin")
    page.click("#create-room-submit")
    code = page.locator("#created-code").inner_text().strip()
    assert code and page.locator("#room-created .cmd").first.inner_text() == \
        f"examroom check --server {server.url} --room {code}"
    shot(page, "dashboard_room_created")

    room = code
    pc1 = FakeAgent(server, room, "PC-01", cpu_count=4, ram_gb=8.0)
    pc2 = FakeAgent(server, room, "PC-02", cpu_count=2, ram_gb=4.0, virtual_machine="VDI (Citrix)",
                    remote_session="RDP")
    pc3 = FakeAgent(server, room, "PC-03", cpu_count=4, ram_gb=8.0)
    pc4 = FakeAgent(server, room, "PC-04")
    pc1.report()
    pc2.report({"browser": (Status.warn, "Chrome 90 a plus de 2 ans", "Mettez Chrome à jour ou désinstallez-le")})
    pc3.report({"screen": (Status.fail, "Écran de 640 px", "Brancher un écran d'au moins 800 px de large"),
                "whitelist": (Status.fail, "app.pix.fr bloqué par le proxy", "Ouvrir app.pix.fr dans le filtre du proxy")},
               items={"whitelist": [Item(name="app.pix.fr", status=Status.fail, url="https://app.pix.fr/", host="app.pix.fr",
                                         reason="blocked", ip="10.0.0.1", latency_ms=12.0, http_status=403)]})

    page.click("#room-created a.btn-primary")
    page.wait_for_selector(".tile >> nth=3")
    expected = {pc1: ("ready", "Prêt", GREEN), pc2: ("warn", "Prêt, avec réserves", ORANGE),
                pc3: ("not_ready", "Non prêt", RED), pc4: ("none", "Aucun rapport", GREY)}
    for agent, (verdict, words, colour) in expected.items():
        t = tile(page, agent)
        sync_api.expect(t).to_have_attribute("data-verdict", verdict)
        assert t.locator(".verdict").inner_text().endswith(words)  # words, not colour alone
        assert top_colour(t) == colour, agent.machine.hostname
    # Tiles sorted by host name, with facts and the failing checks' remediations.
    assert page.locator(".tile .hostname").all_inner_texts() == ["PC-01", "PC-02", "PC-03", "PC-04"]
    assert "4 cœurs" in tile(page, pc1).inner_text() and "8 Go de RAM" in tile(page, pc1).inner_text()
    # A VDI desktop tested over RDP says so on its tile (machine facts of the report).
    assert "VM VDI (Citrix)" in tile(page, pc2).inner_text() and "testé à distance (RDP)" in tile(page, pc2).inner_text()
    red = tile(page, pc3)
    assert red.locator(".problems").get_attribute("open") is not None  # a red tile opens its list
    assert "Ouvrir app.pix.fr dans le filtre du proxy" in red.inner_text()
    assert "il y a" in red.locator("time").inner_text() or "instant" in red.locator("time").inner_text()
    sync_api.expect(page.locator("#counter-ready .counter-value")).to_have_text("2/4")
    # The full report of a machine, in a dialog: failing checks first, with what to do.
    red.locator("button.open-report").click()
    dialog = page.locator("#report-dialog")
    sync_api.expect(dialog).to_be_visible()
    assert dialog.locator("tbody tr").count() == len(CHECK_IDS)
    assert dialog.locator("tbody tr").first.get_attribute("data-check") in ("screen", "whitelist")
    assert "Brancher un écran d'au moins 800 px de large" in dialog.inner_text()
    dialog.locator('tr[data-check="whitelist"] details summary').click()
    sync_api.expect(dialog.locator('tr[data-check="whitelist"] .items')).to_contain_text(
        "https://app.pix.fr/ (bloqué par le filtrage, HTTP 403, 12 ms)")
    shot(page, "dashboard_full_report")
    page.click("#report-close")
    sync_api.expect(dialog).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    shot(page, "dashboard_room_before")

    # "Only the machines to deal with" hides the ready tiles.
    page.click("#only-problems")
    assert not tile(page, pc1).is_visible() and tile(page, pc3).is_visible() and tile(page, pc2).is_visible()
    page.click("#only-problems")
    assert tile(page, pc1).is_visible()

    # A new passing report for the red machine: its tile turns green, WITHOUT a reload.
    page.evaluate("window.__same_page = 42")
    pc3.report()
    sync_api.expect(red).to_have_attribute("data-verdict", "ready", timeout=WAIT_MS)
    assert top_colour(red) == GREEN
    assert red.locator(".problems").count() == 0
    sync_api.expect(page.locator("#counter-ready .counter-value")).to_have_text("3/4")
    assert page.evaluate("window.__same_page") == 42
    shot(page, "dashboard_room_after")

    # The printable readiness sheet: one row per machine with its verdict and what to do.
    page.click("#tab-link-sheet")
    rows = page.locator(".sheet-table tbody tr")
    sync_api.expect(rows).to_have_count(4)
    assert "Mettez Chrome à jour" in rows.nth(1).inner_text()
    assert "Lancer le test" in rows.nth(3).inner_text()
    page.emulate_media(media="print")
    assert page.locator(".sheet-table").is_visible() and not page.locator(".topbar").is_visible()
    shot(page, "dashboard_sheet_print", full_page=True)
    page.emulate_media(media="screen")
    assert page.js_errors == []


def test_live_state_alert_feed_and_acknowledgement(server, browser):
    room = server.create_room("Salle 204")
    pc1 = FakeAgent(server, room, "POSTE-1", cpu_count=4, ram_gb=8.0)
    pc2 = FakeAgent(server, room, "POSTE-2")
    # Host names come from the machines: markup stays text, a long name does not overflow.
    evil = FakeAgent(server, room, '<img src=x onerror="window.__xss=1">-SALLE-INFORMATIQUE-BATIMENT-C-POSTE-ENSEIGNANT')
    for agent in (pc1, pc2, evil):
        agent.report()
    page = new_page(browser)
    login(page, server)
    page.goto(f"{server.url}/#/room/{room}")
    page.wait_for_selector(".tile >> nth=2")
    assert evil.machine.hostname in tile(page, evil).locator(".hostname").inner_text()
    t1 = tile(page, pc1)
    sync_api.expect(t1.locator("[data-live]")).to_have_attribute("data-live", "never")

    pc1.heartbeat(exam=True)
    sync_api.expect(t1.locator("[data-live]")).to_have_attribute("data-live", "online")
    sync_api.expect(t1.locator("[data-focus]")).to_have_attribute("data-focus", "exam")

    # The candidate leaves the exam for Discord: the feed and the tile say so, live.
    page.evaluate("window.__same_page = 7")
    away_title = "<b>Discord</b> – #général"  # markup in a title must stay text
    pc1.heartbeat(exam=False, title=away_title)
    event_id = pc1.event("focus_lost", title=away_title, process="Discord.exe")
    alert = page.locator(f'.alert[data-alert-id="{event_id}"]')
    sync_api.expect(alert).to_be_visible()
    assert "POSTE-1" in alert.inner_text() and away_title in alert.inner_text()
    assert "Sortie de l'épreuve" in alert.inner_text()
    sync_api.expect(t1.locator("[data-focus]")).to_have_attribute("data-focus", "away")
    sync_api.expect(t1.locator(".alarm-strip")).to_contain_text("hors de l'épreuve")
    assert away_title in t1.inner_text()
    sync_api.expect(t1.locator(".away-since time")).to_have_text(re.compile("instant|seconde"))
    assert page.locator("b", has_text="Discord").count() == 0
    sync_api.expect(page.locator("#counter-alerts .counter-value")).to_have_text("1")
    assert page.title().startswith("(1) Salle 204")
    shot(page, "dashboard_alert_feed")

    # A second supervisor's page sees the same alert; an acknowledgement reaches it by SSE.
    other = new_page(browser)
    login(other, server)
    other.goto(f"{server.url}/#/room/{room}")
    other_alert = other.locator(f'.alert[data-alert-id="{event_id}"]')
    sync_api.expect(other_alert).to_be_visible()
    other.wait_for_selector("body[data-live=on]")

    # Acknowledge it: it leaves the open list, the counter drops, the server knows.
    alert.locator("button.ack").focus()  # with the keyboard, as a supervisor may do
    page.keyboard.press("Enter")
    sync_api.expect(page.locator("#counter-alerts .counter-value")).to_have_text("0")
    sync_api.expect(page.locator("#feed-title")).to_be_focused()  # focus not lost to <body>
    sync_api.expect(alert).to_have_count(0)
    sync_api.expect(other_alert).to_have_count(0)
    sync_api.expect(other.locator("#counter-alerts .counter-value")).to_have_text("0")
    other.context.close()
    page.check("#show-acked")
    sync_api.expect(alert).to_contain_text("admin")
    headers = {"Authorization": f"Bearer {server.token()}"}
    open_alerts = requests.get(f"{server.url}/api/v1/rooms/{room}/alerts?open=true", headers=headers, timeout=5).json()
    assert event_id not in [a["id"] for a in open_alerts]

    # Back on the exam; the tile's alarm goes away.
    pc1.heartbeat(exam=True)
    pc1.event("focus_regained", title="Pix - Certification", process="firefox", away_s=12.5)
    sync_api.expect(t1.locator("[data-focus]")).to_have_attribute("data-focus", "exam")
    sync_api.expect(t1.locator(".alarm-strip")).to_have_count(0)
    assert page.evaluate("window.__same_page") == 7  # all of the above without a reload

    # A remote-control program starts then stops: an alert, the tile's alarm, then the journal.
    pc2.heartbeat(forbidden=["AnyDesk"])
    started = pc2.event("forbidden_process", name="AnyDesk.exe", program="AnyDesk", category="remote_control",
                        state="started", pid=4242)
    t2 = tile(page, pc2)
    sync_api.expect(page.locator(f'.alert[data-alert-id="{started}"]')).to_contain_text("AnyDesk (AnyDesk.exe)")
    sync_api.expect(t2.locator(".alarm-strip")).to_contain_text("AnyDesk")
    pc2.heartbeat(forbidden=[])
    pc2.event("forbidden_process", name="AnyDesk.exe", program="AnyDesk", state="stopped", duration_s=75.0)
    sync_api.expect(t2.locator(".alarm-strip")).to_have_count(0)
    page.click(".journal summary")
    sync_api.expect(page.locator("#journal li").first).to_contain_text("ouvert pendant 1 min 15 s")
    # The companion's own troubles are named in the journal, not shown as a raw kind.
    pc2.event("companion_error", loop="network", error="OSError: disk full")
    first = page.locator("#journal li").first
    sync_api.expect(first).to_contain_text("Incident interne du compagnon")
    sync_api.expect(first).to_contain_text("network – OSError: disk full")

    # Compact view (the whole room on one screen): live state on one line, kept across reloads.
    page.click("#compact")
    sync_api.expect(t1.locator(".live-line")).to_be_visible()
    assert not t1.locator(".tile-foot").is_visible()
    page.reload()
    sync_api.expect(tile(page, pc1).locator(".live-line")).to_be_visible()
    shot(page, "dashboard_compact")
    page.click("#compact")
    sync_api.expect(tile(page, pc1).locator(".tile-foot")).to_be_visible()

    # The PV d'incident draft lists the focus loss with a code from the official list.
    page.click("#tab-link-incidents")
    row = page.locator("#pv-table tbody tr").first
    sync_api.expect(row).to_contain_text("POSTE-1")
    assert row.locator(".pv-code").inner_text().strip()[:1] in ("C", "E", "A")
    # The supervisor completes the draft: an edited cell and an added line survive a reload.
    details = row.locator('[data-field="details_text"]')
    details.click()
    page.keyboard.press("End")
    page.keyboard.type(" – candidat averti")
    page.click("#pv-add")
    added = page.locator("#pv-table tbody tr.manual")
    added.locator('[data-field="hostname"]').click()
    page.keyboard.type("POSTE-2")
    added.locator('[data-field="code"]').click()
    page.keyboard.type("C4")
    page.reload()
    page.click("#tab-link-incidents")
    sync_api.expect(page.locator("#pv-table tbody tr").first).to_contain_text("candidat averti")
    sync_api.expect(page.locator("#pv-table tbody tr.manual")).to_contain_text("C4")
    with page.expect_download() as info:
        page.click("#pv-csv")
    pv_csv = Path(info.value.path()).read_text(encoding="utf-8-sig")
    assert "candidat averti" in pv_csv and '"POSTE-2";"C4"' in pv_csv
    shot(page, "dashboard_incidents")
    # Printed from this tab: the PV table alone, without buttons or the readiness sheet.
    page.emulate_media(media="print")
    assert page.locator("#pv-table").is_visible() and not page.locator(".sheet-table").is_visible()
    assert not page.locator("#print-pv").is_visible() and not page.locator(".tile").first.is_visible()
    shot(page, "dashboard_incidents_print", full_page=True)
    page.emulate_media(media="screen")

    # A projector's 1024x768: no horizontal scrolling, nothing injected.
    page.set_viewport_size({"width": 1024, "height": 768})
    page.click("#tab-link-live")
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    shot(page, "dashboard_1024x768")
    assert page.evaluate("window.__xss") is None and page.locator(".tile img").count() == 0
    assert page.js_errors == []


def test_csv_export_english_and_expired_token(server, browser):
    room = server.create_room("Lab 3")
    agent = FakeAgent(server, room, "LAB3-PC07")
    agent.report({"mouse": (Status.fail, "No pointing device", "Plug a mouse in")})
    page = new_page(browser, locale="en-GB")
    page.clock.install()  # the real time until fast_forward below
    login(page, server)
    assert page.evaluate("document.documentElement.lang") == "en"
    page.goto(f"{server.url}/#/room/{room}")
    sync_api.expect(tile(page, agent)).to_have_attribute("data-verdict", "not_ready")
    assert tile(page, agent).locator(".verdict").inner_text().endswith("Not ready")

    # The report's age keeps counting (the page's clock is pushed 3 minutes forward).
    report_age = tile(page, agent).locator(".tile-foot time")
    sync_api.expect(report_age).to_have_text(re.compile("now|seconds ago"))
    page.clock.fast_forward("03:00")
    sync_api.expect(report_age).to_have_text("3 minutes ago")

    # CSV export needs the Authorization header: fetched then saved as a download.
    with page.expect_download() as info:
        page.click("#export-csv")
    content = Path(info.value.path()).read_text(encoding="utf-8-sig")
    assert "LAB3-PC07" in content and "Plug a mouse in" in content

    # FR/EN switch in the header re-renders the page in French.
    page.click("button.lang[data-lang=fr]")
    sync_api.expect(tile(page, agent).locator(".verdict")).to_contain_text("Non prêt")
    assert page.evaluate("document.documentElement.lang") == "fr"

    # Several alerts at once (a network blip): "acknowledge all", after a confirmation.
    agent.heartbeat(up=False)
    agent.event("net_down", url="https://app.pix.fr/", error="timeout")
    agent.event("companion_stopped")
    sync_api.expect(page.locator("#counter-alerts .counter-value")).to_have_text("2")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#ack-all")
    sync_api.expect(page.locator("#counter-alerts .counter-value")).to_have_text("0")
    sync_api.expect(page.locator("#ack-all")).to_be_hidden()

    # A room code that does not exist (a typo in the address): said once, no retry loop.
    page.goto(f"{server.url}/#/room/NOPE42")
    sync_api.expect(page.locator("#banner")).to_contain_text("NOPE42")
    sync_api.expect(page.locator("#tiles .empty")).to_be_visible()
    page.goto(f"{server.url}/#/room/{room}")
    sync_api.expect(tile(page, agent)).to_be_visible()

    # A token the server no longer knows -> back to the login page, with a message.
    page.evaluate("sessionStorage.setItem('examroom.token', 'forged-token')")
    page.reload()
    page.wait_for_selector("#login-form")
    sync_api.expect(page.locator("#login-error")).to_contain_text("expiré")
    assert not page.locator(".topnav").is_visible()
    # Logging in again leads back to the room that was open.
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    sync_api.expect(tile(page, agent)).to_have_attribute("data-verdict", "not_ready")
    assert page.js_errors == []


def test_reconnects_after_a_server_restart(tmp_path, browser):
    server = Server(tmp_path)
    try:
        room = server.create_room("Salle redémarrage")
        agent = FakeAgent(server, room, "PC-R1")
        agent.report({"storage": (Status.fail, "Disque plein", "Libérer de l'espace")})
        page = new_page(browser)
        login(page, server)
        page.goto(f"{server.url}/#/room/{room}")
        sync_api.expect(tile(page, agent)).to_have_attribute("data-verdict", "not_ready")
        page.wait_for_selector("body[data-live=on]")
        page.evaluate("window.__same_page = 1")

        server.proc.kill()
        server.proc.wait(5)
        sync_api.expect(page.locator("#banner")).to_contain_text("reconnexion")
        server.restart()
        # The stream comes back by itself; a report sent after the restart reaches the tile.
        page.wait_for_selector("body[data-live=on]", timeout=15000)
        sync_api.expect(page.locator("#banner")).to_be_hidden()
        agent.report()
        sync_api.expect(tile(page, agent)).to_have_attribute("data-verdict", "ready")
        assert page.evaluate("window.__same_page") == 1
    finally:
        _stop(server.proc)


def test_one_table_of_views_drives_routes_and_tabs_and_the_modules_share_no_globals(server, browser):
    """The dashboard is ES modules: nothing of it lands on window, and the room's tabs, their
    links and the routes all come from app.js's VIEWS (an unknown address shows the rooms)."""
    room = server.create_room("Salle des modules")
    FakeAgent(server, room, "POSTE-M1").report()
    page = new_page(browser)
    login(page, server)
    assert page.evaluate("() => [...document.scripts].map((s) => s.type)") == ["module"]
    leaked = page.evaluate("""() => ['state', 't', 'el', 'api', 'route', 'VIEWS', 'renderFeed', 'renderTiles',
        'selectTab', 'startLive', 'loadIncidents', 'renderSheet', 'showRoom'].filter((n) => n in window)""")
    assert leaked == []

    page.goto(f"{server.url}/#/room/{room}/sheet")
    page.wait_for_selector("#tab-sheet .sheet-table")
    tabs = page.locator(".tabs [role=tab]")
    assert tabs.evaluate_all("(links) => links.map((a) => [a.dataset.tab, a.getAttribute('href'), a.getAttribute('aria-selected')])") == [
        ["live", f"#/room/{room}/live", "false"], ["sheet", f"#/room/{room}/sheet", "true"],
        ["incidents", f"#/room/{room}/incidents", "false"]]
    assert page.locator("#tab-live").is_hidden() and page.locator("#tab-incidents").is_hidden()
    assert page.evaluate("document.body.dataset.tab") == "sheet"

    page.click("#tab-link-incidents")
    page.wait_for_selector("#pv-save-state")
    assert page.evaluate("location.hash") == f"#/room/{room}/incidents"
    assert page.locator("#tab-sheet").is_hidden()

    page.goto(f"{server.url}/#/room/{room}")  # the room alone: its first tab
    page.wait_for_selector(".tile[data-hostname='POSTE-M1']")
    assert page.locator("#tab-link-live").get_attribute("aria-selected") == "true"
    shot(page, "dashboard_modules_live_tab")

    page.goto(f"{server.url}/#/nowhere/at/all")
    page.wait_for_selector("body[data-view=rooms] #rooms-list table")
    page.goto(f"{server.url}/#/login")  # logged in: the login is not shown again
    page.wait_for_function("location.hash === '#/rooms'")
    assert page.js_errors == []


def test_every_dashboard_text_exists_in_both_languages():
    """Keys in the page's scripts and index.html (literal, or a `dash.x.${...}` family) are in dashboard.toml."""
    from core.i18n import table

    web = Path(__file__).resolve().parent.parent / "supervisor" / "web"
    source = "".join(p.read_text(encoding="utf-8") for p in sorted(web.glob("*.js")) + [web / "index.html"])
    entries = table()
    literal = set(re.findall(r"""["'](dash\.[a-z0-9_.]+[a-z0-9_])["']""", source))
    families = set(re.findall(r"`(dash\.[a-z0-9_.]+\.)\$\{", source))
    assert {"dash.login.title", "dash.alerts.ack"} <= literal and "dash.verdict." in families
    missing = sorted(k for k in literal if k not in entries)
    assert missing == [], f"keys used by the dashboard but missing from core/i18n/dashboard.toml: {missing}"
    for family, members in {"dash.verdict.": ("ready", "warn", "not_ready", "none"),
                            "dash.status.": ("ok", "warn", "fail", "error", "skip"),
                            "dash.live.": ("online", "lost", "never"),
                            "dash.kind.": ("focus_lost", "forbidden_process", "net_down", "companion_lost",
                                           "companion_stopped")}.items():
        assert family in families
        for member in members:
            assert family + member in entries, family + member
    for key, texts in entries.items():
        if key.startswith("dash."):
            assert texts.get("fr") and texts.get("en"), key


def test_real_check_and_companion_processes_reach_the_dashboard(tmp_path, browser):
    """No fake agent: ``examroom check --server`` and ``examroom companion`` (on a real X
    server with openbox) feed the dashboard; the candidate switches windows, then the
    companion is killed -9 and the tile says it is lost."""
    need("Xvfb", "openbox", "xdotool")
    from tests.companion_support import activate, x_window
    from tests.support import xvfb

    server = Server(tmp_path)
    companion = None
    try:
        room = server.create_room("Salle E2E")
        env = dict(os.environ, EXAMROOM_HOME=str(tmp_path / "agent-home"), EXAMROOM_MACHINE_ID="e2e-pc-01")
        check = subprocess.run([sys.executable, "-m", "agent", "check", "--server", server.url, "--room", room,
                                "--only", "storage,archive", "--storage", str(tmp_path), "--lang", "fr"],
                               env=env, capture_output=True, text=True, timeout=120)
        assert check.returncode in (0, 1), check.stdout + check.stderr
        page = new_page(browser)
        login(page, server)
        page.goto(f"{server.url}/#/room/{room}")
        t = page.locator('.tile[data-machine-id="e2e-pc-01"]')
        # Exit 0 is "ready" (with or without warnings), 1 "not ready": the tile says the same.
        sync_api.expect(t).to_have_attribute("data-verdict", re.compile("^(ready|warn)$") if check.returncode == 0
                                              else "not_ready")
        assert "cœurs" in t.inner_text() and "Go de RAM" in t.inner_text()  # facts from the real machine block
        sync_api.expect(t.locator("[data-live]")).to_have_attribute("data-live", "never")

        with xvfb(1024, 768, window_manager=True) as display, \
                x_window(display, "Pix - Certification - Mozilla Firefox", "firefox") as exam, \
                x_window(display, "Discord - #général", "Discord") as chat:
            activate(display, exam)
            companion = subprocess.Popen(
                [sys.executable, "-m", "agent", "companion", "--server", server.url, "--room", room, "--no-window",
                 "--heartbeat", "0.5", "--platform-url", server.url + "/", "--net-interval", "0.5",
                 "--local-port", "0", "--lang", "fr"],
                env=dict(env, DISPLAY=display), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            sync_api.expect(t.locator("[data-live]")).to_have_attribute("data-live", "online", timeout=20000)
            sync_api.expect(t.locator("[data-focus]")).to_have_attribute("data-focus", "exam", timeout=10000)

            activate(display, chat)
            # One act, one alert: the window (focus_lost) or the process watcher (forbidden_process),
            # whichever saw Discord first; the other signal is a notice naming it (act_of).
            alert = page.locator(".alert").filter(has_text="Discord")
            sync_api.expect(alert).to_have_count(1, timeout=10000)
            sync_api.expect(alert).to_have_attribute("data-kind", re.compile("^(focus_lost|forbidden_process)$"))
            sync_api.expect(t.locator(".alarm-strip")).to_contain_text("Discord")
            shot(page, "dashboard_e2e_focus_lost")
            activate(display, exam)
            sync_api.expect(t.locator("[data-focus]")).to_have_attribute("data-focus", "exam", timeout=10000)
            assert alert.count() == 1  # back on the exam, both signals in: still one alert for the act

            companion.kill()  # -9: no companion_stopped; the server must notice the silence
            companion.wait(10)
            sync_api.expect(t.locator("[data-live]")).to_have_attribute("data-live", "lost", timeout=20000)
            sync_api.expect(page.locator('.alert[data-kind="companion_lost"]')).to_be_visible(timeout=5000)
            sync_api.expect(t.locator(".alarm-strip")).to_have_text("ALERTE compagnon perdu")  # only that: the rest is stale
            sync_api.expect(t.locator(".stale-note")).to_be_visible()
            shot(page, "dashboard_e2e_companion_lost")
        assert page.js_errors == []
    finally:
        if companion is not None and companion.poll() is None:
            companion.kill()
            companion.wait(10)
        _stop(server.proc)


def test_pv_edits_are_kept_on_the_server_shared_live_and_pushed_after_an_outage(tmp_path, browser):
    """Two supervisors in two browsers (separate storage): what one types in the PV draft is
    saved on the server and appears in the other's open page; a server restart keeps it; a
    change typed while the server is down is kept locally, said "not saved", and sent when
    the server is back."""
    server = Server(tmp_path)
    try:
        room = server.create_room("Salle PV partagé")
        agent = FakeAgent(server, room, "PC-PV1")
        agent.heartbeat()
        agent.event("focus_lost", title="Discord", process="discord")
        a, b = new_page(browser), new_page(browser)
        for page in (a, b):
            login(page, server)
            page.goto(f"{server.url}/#/room/{room}/incidents")
            page.wait_for_selector("body[data-live=on]")
            sync_api.expect(page.locator("#pv-table tbody tr").first).to_contain_text("PC-PV1")
        sync_api.expect(a.locator("#pv-save-state")).to_have_attribute("data-state", "idle")

        # Supervisor A completes a line, adds one and writes a comment.
        a.locator('#pv-table tbody tr').first.locator('[data-field="details_text"]').click()
        a.keyboard.press("End")
        a.keyboard.type(" – candidat averti oralement")
        a.click("#pv-add")
        a.locator("#pv-table tbody tr.manual").locator('[data-field="code"]').click()
        a.keyboard.type("A2")
        a.fill("#pv-comment", "Séance calme, une coupure réseau signalée au centre.")
        sync_api.expect(a.locator("#pv-save-state")).to_have_attribute("data-state", "saved")
        sync_api.expect(a.locator("#pv-save-state")).to_contain_text("Enregistré")

        # Supervisor B's open page follows without a reload.
        sync_api.expect(b.locator("#pv-table tbody tr").first).to_contain_text("candidat averti oralement")
        sync_api.expect(b.locator("#pv-table tbody tr.manual .pv-code")).to_have_text("A2")
        sync_api.expect(b.locator("#pv-comment")).to_have_value("Séance calme, une coupure réseau signalée au centre.")

        # The server restarts; a third browser (nothing in its storage) finds everything.
        server.restart()
        c = new_page(browser)
        login(c, server)
        c.goto(f"{server.url}/#/room/{room}/incidents")
        sync_api.expect(c.locator("#pv-table tbody tr").first).to_contain_text("candidat averti oralement")
        sync_api.expect(c.locator("#pv-table tbody tr.manual .pv-code")).to_have_text("A2")
        sync_api.expect(c.locator("#pv-comment")).to_have_value("Séance calme, une coupure réseau signalée au centre.")
        with c.expect_download() as info:
            c.click("#pv-csv")
        pv_csv = Path(info.value.path()).read_text(encoding="utf-8-sig")
        assert "candidat averti oralement" in pv_csv and '"A2"' in pv_csv and "Séance calme" in pv_csv

        # Server down: C's change is kept and said to be unsaved; back up: it is sent by itself.
        c.wait_for_selector("body[data-live=on]")
        server.proc.kill()
        server.proc.wait(5)
        c.fill("#pv-comment", "Ajout pendant la panne du serveur.")
        sync_api.expect(c.locator("#pv-save-state")).to_have_attribute("data-state", "offline")
        sync_api.expect(c.locator("#pv-save-state")).to_contain_text("Non enregistré")
        server.restart()
        sync_api.expect(c.locator("#pv-save-state")).to_have_attribute("data-state", "saved", timeout=20000)
        headers = {"Authorization": f"Bearer {server.token()}"}
        saved = requests.get(f"{server.url}/api/v1/rooms/{room}/incidents/edits", headers=headers, timeout=5).json()
        assert saved["comment"] == "Ajout pendant la panne du serveur." and saved["extra"][0]["code"] == "A2"
        shot(c, "dashboard_pv_saved")
        for page in (a, b, c):
            assert page.js_errors == []
    finally:
        _stop(server.proc)


def test_check_titles_in_the_dashboards_language_and_exam_start_and_end(tmp_path, browser):
    """An agent that ran in English: a French dashboard names its failing checks in French
    (an unknown check keeps the report's title), in English after switching. The exam page's
    start and end reach the tile, the journal and the PV's timeline - not the incidents."""
    server = Server(tmp_path)
    try:
        # One heartbeat only: the room's lost timeout is long, so a slow run never adds a
        # companion_lost alert (and PV line) to a page that must have none.
        room = server.create_room("Salle épreuve", settings={"lost_after_s": 600})
        agent = FakeAgent(server, room, "PC-EX1")
        body = make_report(agent.machine, {"screen": (Status.fail, "Screen is 640 px wide", "Plug in a wider screen"),
                                           "storage": (Status.warn, "2 GB free", "Free some space")})
        body["lang"] = "en"
        for check in body["checks"]:
            check["title"] = {"screen": "Screen width", "storage": "Storage space"}.get(check["id"], check["title"])
        body["checks"].append({"id": "usb_keys", "title": "USB keys blocked", "status": "fail",
                               "summary": "2 USB keys mounted", "remediation": "Remove the USB keys"})
        agent.post("reports", body)
        agent.heartbeat()

        page = new_page(browser)
        login(page, server)
        page.goto(f"{server.url}/#/room/{room}")
        problems = tile(page, agent).locator(".problem")
        sync_api.expect(problems.locator(".check-title")).to_have_count(3)
        screen = tile(page, agent).locator('.problem[data-check="screen"] .check-title')
        sync_api.expect(screen).to_have_text("Largeur d'écran")
        sync_api.expect(tile(page, agent).locator('.problem[data-check="storage"] .check-title')).to_have_text("Espace de stockage")
        sync_api.expect(tile(page, agent).locator('.problem[data-check="usb_keys"] .check-title')).to_have_text("USB keys blocked")
        # The agent's own words (decided on the machine) stay as they were written.
        sync_api.expect(tile(page, agent).locator('.problem[data-check="screen"] .summary')).to_have_text("Screen is 640 px wide")
        page.click("#tab-link-sheet")
        sync_api.expect(page.locator(".sheet-table")).to_contain_text("Largeur d'écran :")
        page.click("#tab-link-live")
        tile(page, agent).locator(".open-report").click()
        sync_api.expect(page.locator('#report-dialog tr[data-check="screen"] .check-title')).to_have_text("Largeur d'écran")
        sync_api.expect(page.locator('#report-dialog tr[data-check="mouse"] .check-title')).to_have_text("Souris")
        page.click("#report-close")

        # The exam page tells the companion it started: tile, journal.
        agent.event("exam_started", session="123456")
        exam = tile(page, agent).locator("li[data-exam]")
        sync_api.expect(exam).to_have_attribute("data-exam", "started")
        sync_api.expect(exam).to_contain_text("commencée à")
        page.click(".journal summary")
        sync_api.expect(page.locator("#journal li").first).to_contain_text("Épreuve commencée")
        sync_api.expect(page.locator("#alert-list .alert")).to_have_count(0)  # information, not an alert
        page.click("#tab-link-incidents")
        sync_api.expect(page.locator("#pv-timeline")).to_contain_text("Épreuve commencée à")
        sync_api.expect(page.locator("#pv-timeline")).to_contain_text("Postes ayant commencé : 1 ; ayant terminé : 0.")
        assert page.locator("#pv-table").count() == 0  # not an incident
        agent.event("exam_ended")
        sync_api.expect(page.locator("#pv-timeline .pv-timeline-summary")).to_contain_text("et terminée à")
        page.click("#pv-timeline summary")
        sync_api.expect(page.locator("#pv-timeline li")).to_contain_text("PC-EX1 :")
        shot(page, "dashboard_pv_timeline")
        page.click("#tab-link-live")
        sync_api.expect(exam).to_have_attribute("data-exam", "ended")
        sync_api.expect(exam).to_contain_text("terminée à")
        shot(page, "dashboard_exam_and_titles_fr")

        # In English, the same tile names the checks in English.
        page.click("button.lang[data-lang=en]")
        sync_api.expect(tile(page, agent).locator('.problem[data-check="screen"] .check-title')).to_have_text("Screen width")
        sync_api.expect(tile(page, agent).locator("li[data-exam]")).to_contain_text("ended at")
        assert page.js_errors == []
    finally:
        _stop(server.proc)


def test_machines_sharing_a_host_name_are_told_apart_on_tiles_alerts_and_journal(server, browser):
    """Cloned lab images: three machines named "vm". Each tile, alert and journal line names its
    machine by the same rule as the room summary (core/machines.py), live as a twin arrives."""
    from core.machines import display_names

    room = server.create_room("Salle clones")
    first = FakeAgent(server, room, "vm")
    first.report()
    page = new_page(browser)
    login(page, server)
    page.goto(f"{server.url}/#/room/{room}")
    sync_api.expect(tile(page, first).locator(".hostname")).to_have_text("vm")   # alone: the plain name
    twins = [first, FakeAgent(server, room, "vm"), FakeAgent(server, room, "VM")]
    for agent in twins[1:]:
        agent.report({"mouse": (Status.fail, "Aucune souris", "Branchez une souris USB")})
    names = display_names((a.machine.id, a.machine.hostname) for a in twins)
    assert len(set(names.values())) == 3 and all(" · " in n for n in names.values())
    for agent in twins:   # the first tile was renamed too, without a reload
        sync_api.expect(tile(page, agent).locator(".hostname")).to_have_text(names[agent.machine.id])

    event_id = twins[1].event("forbidden_process", name="AnyDesk.exe", program="AnyDesk",
                              category="remote_control", state="started", pid=77)
    alert = page.locator(f'.alert[data-alert-id="{event_id}"]')
    sync_api.expect(alert.locator(".alert-host")).to_have_text(names[twins[1].machine.id])
    twins[2].event("companion_error", loop="network", error="OSError: disk full")
    page.click(".journal summary")
    sync_api.expect(page.locator("#journal li").first).to_contain_text(names[twins[2].machine.id])
    assert page.js_errors == []


def test_a_cleanly_stopped_companion_reads_stopped_and_journal_labels_stay_apart(server, browser):
    """The tile says what the journal says ("arrêté"), not "perdu"; a journal line puts a colon
    between an event's label and its details."""
    room = server.create_room("Salle arrêt")
    pc = FakeAgent(server, room, "POSTE-STOP")
    pc.report()
    page = new_page(browser)
    login(page, server)
    page.goto(f"{server.url}/#/room/{room}")
    live = tile(page, pc).locator("[data-live]")
    pc.heartbeat(exam=True)
    sync_api.expect(live).to_have_attribute("data-live", "online")
    pc.event("focus_regained", title="Pix - Certification", process="firefox", away_s=1.0)
    page.click(".journal summary")
    sync_api.expect(page.locator("#journal li").first).to_contain_text("Retour sur l'épreuve : absence de 1 s")
    pc.event("companion_stopped", reason="terminate")
    sync_api.expect(live).to_have_attribute("data-live", "stopped")
    sync_api.expect(live).to_contain_text("arrêté")
    sync_api.expect(tile(page, pc).locator(".alarm-strip")).to_contain_text("compagnon arrêté")
    assert "perdu" not in tile(page, pc).inner_text()
    rows = requests.get(f"{server.url}/api/v1/rooms/{room}/machines", timeout=5,
                        headers={"Authorization": f"Bearer {server.token()}"}).json()
    assert rows[0]["live"] == "lost" and rows[0]["stopped"] is True   # the contract's live, plus why
    page.reload()                                                        # the same after a reload
    sync_api.expect(tile(page, pc).locator("[data-live]")).to_have_attribute("data-live", "stopped")
    assert page.js_errors == []
