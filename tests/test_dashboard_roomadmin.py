"""The room administration panel (supervisor/web/roomadmin.js) in a real headless Chromium,
against a real ``examroom serve`` subprocess: the enrolment window (state, closing time,
machines against the cap, open for a duration / close), the room's companion settings (checked,
the field named, followed live), and deleting the room with its confirmation dialog."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import requests

from tests.server_support import LiveServer, machine, report
from tests.support import need

sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip install -e '.[test]')")
STRONG = "un mot de passe solide"


@pytest.fixture()
def server(tmp_path):
    live = LiveServer(tmp_path).start()
    try:
        yield live
    finally:
        live.stop()


def _browser(pw):
    from tests.test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS

    need("chromium")
    return pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def _login(page, server, username="admin", password=None):
    from tests.server_support import PASSWORD, dashboard_login
    from tests.test_dashboard_browser import WAIT_MS

    page.set_default_timeout(WAIT_MS)
    dashboard_login(page, server.url, username, password or PASSWORD)


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_enrolment_settings_and_deletion_from_the_room_view(server):
    expect = sync_api.expect
    admin = server.login()
    room = server.create_room(admin, "Salle B12")
    pc = server.enroll(room, "m1", "B12-PC1")
    assert server.post("/reports", pc, report("m1", ready=True, hostname="B12-PC1")).status_code == 200
    with sync_api.sync_playwright() as pw:
        chromium = _browser(pw)
        try:
            page = chromium.new_context(locale="fr-FR", timezone_id="UTC").new_page()
            _login(page, server)
            page.goto(f"{server.url}/#/room/{room}")
            page.wait_for_selector(".tile[data-machine-id='m1']")
            page.click("#room-admin-open")
            state = page.locator("#enrolment-state")
            # a new room is open for 24 h: the closing time is shown, and the machines against the cap
            expect(state).to_have_attribute("data-open", "true")
            expect(state).to_contain_text("Inscriptions ouvertes jusqu'au")
            expect(page.locator("#enrolment-count")).to_have_text("1 poste(s) inscrit(s) sur 200 au plus")

            page.click("#enrolment-close")
            expect(state).to_have_attribute("data-open", "false")
            expect(state).to_contain_text("Inscriptions fermées")
            assert server.get(f"/rooms/{room}/enrolment", admin).json()["open"] is False
            refused = requests.post(f"{server.url}/api/v1/enroll", timeout=10,
                                    json={"room_code": room, "machine": machine("m2")})
            assert refused.status_code == 403 and refused.json()["code"] == "enrolment_closed"

            page.select_option("#enrolment-hours", "4")
            page.click("#enrolment-open")
            expect(state).to_have_attribute("data-open", "true")
            until = _parse(server.get(f"/rooms/{room}/enrolment", admin).json()["open_until"])
            assert timedelta(hours=3, minutes=55) < until - datetime.now(timezone.utc) <= timedelta(hours=4)
            expect(state).to_contain_text(until.strftime("%H:%M"))
            server.enroll(room, "m2", "B12-PC2")   # open again: a new machine enrols, the count follows live
            expect(page.locator("#enrolment-count")).to_have_text("2 poste(s) inscrit(s) sur 200 au plus")
            # the cap: a wrong number is said in the page; a right one reaches the server, and a
            # machine past it is refused
            expect(page.locator("#enrolment-cap")).to_have_value("200")
            page.fill("#enrolment-cap", "0")
            page.click("#enrolment-cap-save")
            expect(page.locator("#enrolment-error")).to_have_text("le nombre de postes va de 1 à 5000")
            page.fill("#enrolment-cap", "2")
            page.click("#enrolment-cap-save")
            expect(page.locator("#enrolment-count")).to_have_text("2 poste(s) inscrit(s) sur 2 au plus")
            assert server.get(f"/rooms/{room}/enrolment", admin).json()["max_machines"] == 2
            full = requests.post(f"{server.url}/api/v1/enroll", timeout=10, json={"room_code": room, "machine": machine("m3")})
            assert full.status_code == 429 and full.json()["code"] == "room_full"

            # settings: a wrong value names its field, nothing is stored
            expect(page.locator("#setting-heartbeat_s-note")).to_have_text("valeur du serveur : 2")
            page.fill("#setting-heartbeat_s", "0")
            page.click("#settings-save")
            expect(page.locator("#settings-error")).to_have_text(
                "Battement (secondes) : valeur hors des bornes (battement : 0,2 à 600 s ; délai de perte : 1 à 3600 s)")
            expect(page.locator("#setting-heartbeat_s")).to_have_attribute("aria-invalid", "true")
            assert server.get(f"/rooms/{room}/settings", admin).json()["own"] == {}
            page.fill("#setting-heartbeat_s", "5")
            page.fill("#setting-exam_title", ".")
            page.click("#settings-save")
            expect(page.locator("#settings-error")).to_contain_text("n'importe quelle fenêtre")
            page.fill("#setting-exam_title", r"\bPix\b|Certification")
            page.click("#settings-save")
            expect(page.locator("#settings-status")).to_have_text("Réglages enregistrés.")
            assert server.get(f"/rooms/{room}/settings", admin).json()["own"] == {
                "heartbeat_s": 5.0, "exam_title": r"\bPix\b|Certification"}
            expect(page.locator("#setting-heartbeat_s")).to_have_value("5")
            expect(page.locator("#setting-heartbeat_s-note")).to_have_text("propre à la salle")
            expect(page.locator("#setting-lost_after_s")).to_have_attribute("placeholder", "15")
            # the machines get them in their next heartbeat answer
            assert server.post("/heartbeat", pc, {"interval_s": 2}).json()["settings"]["heartbeat_s"] == 5.0
            # changed elsewhere (another technician, the command line...): the open panel follows
            server.put_json(f"/rooms/{room}/settings", admin, {"heartbeat_s": 3, "lost_after_s": 20})
            expect(page.locator("#setting-lost_after_s")).to_have_value("20")
            expect(page.locator("#setting-exam_title-note")).to_have_text(r"valeur du serveur : \bPix\b")

            # deletion: a dialog, the code typed again, refused while in use, then forced
            page.click("#room-delete")
            dialog = page.locator("#delete-dialog")
            expect(dialog).to_be_visible()
            expect(dialog).to_contain_text("Les jetons de ses 2 poste(s) sont révoqués")
            expect(page.locator("#delete-confirm")).to_be_disabled()
            with page.expect_download() as download:
                page.click("#delete-archive")
            assert download.value.suggested_filename == f"examroom-{room}-archive.json"
            page.fill("#delete-code", room.lower())
            expect(page.locator("#delete-confirm")).to_be_enabled()
            page.click("#delete-confirm")
            expect(page.locator("#delete-error")).to_contain_text("a reçu 1 rapport(s)")
            assert server.get(f"/rooms/{room}/machines", admin).status_code == 200   # nothing deleted
            page.check("#delete-force")
            page.click("#delete-confirm")
            page.wait_for_selector("body[data-view=rooms]")
            expect(page.locator("#banner")).to_contain_text(f"Salle {room} supprimée. Ses 1 rapport(s)")
            expect(page.locator(f"tr[data-room='{room}']")).to_have_count(0)
            assert server.post("/heartbeat", pc, {}).status_code == 401
            assert len(server.get(f"/rooms/{room}/archive", admin).json()["reports"]) == 1
        finally:
            chromium.close()


def test_a_technician_administers_a_room_but_does_not_delete_it_and_a_supervisor_only_reads(server):
    expect = sync_api.expect
    admin = server.login()
    room = server.create_room(admin, "Salle C3")
    for name, role, extra in (("paul", "technician", {}), ("marie", "supervisor", {"room": room})):
        assert server.post("/users", admin, {"username": name, "password": STRONG, "role": role, **extra}).status_code == 200
    with sync_api.sync_playwright() as pw:
        chromium = _browser(pw)
        try:
            page = chromium.new_context(locale="en-GB", timezone_id="UTC").new_page()
            _login(page, server, "paul", STRONG)
            page.goto(f"{server.url}/#/room/{room}")
            page.click("#room-admin-open")
            expect(page.locator("#enrolment-state")).to_contain_text("Enrolment open until")
            expect(page.locator("#delete-admin")).to_be_hidden()
            page.fill("#setting-lost_after_s", "3")
            page.click("#settings-save")
            expect(page.locator("#settings-error")).to_have_text(
                "Lost after (seconds of silence): shorter than two heartbeats: companions online would be declared lost")
            page.fill("#setting-lost_after_s", "12")
            page.click("#settings-save")
            expect(page.locator("#settings-status")).to_have_text("Settings saved.")
            assert server.get(f"/rooms/{room}/settings", admin).json()["own"] == {"lost_after_s": 12.0}

            page = chromium.new_context(locale="en-GB", timezone_id="UTC").new_page()
            _login(page, server, "marie", STRONG)
            page.goto(f"{server.url}/#/room/{room}")
            page.click("#room-admin-open")
            expect(page.locator("#setting-lost_after_s")).to_have_value("12")
            expect(page.locator("#setting-lost_after_s")).to_have_attribute("readonly", "")
            expect(page.locator("#settings-save")).to_be_hidden()
            expect(page.locator("#enrolment-actions")).to_be_hidden()
            expect(page.locator("#delete-admin")).to_be_hidden()
            # an admin deletes the room meanwhile: the open page says so and leaves it
            done = requests.delete(f"{server.url}/api/v1/rooms/{room}", headers=admin, timeout=10)
            assert done.status_code == 200, done.text
            page.wait_for_selector("body[data-view=rooms]")
            expect(page.locator("#banner")).to_have_text(f"Room {room} was deleted by admin.")
        finally:
            chromium.close()
