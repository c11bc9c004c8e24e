"""The accounts panel and the machine actions of the dashboard, in a real headless Chromium
against the real ``examroom serve`` (issue 15: named accounts from the dashboard; machines
revocable and removable from the dashboard).

An admin creates a supervisor in the panel (the password rule and the refusals said in French
and in English), the supervisor logs in and sees only its room and no admin tool, the admin
removes the account and the supervisor's open page stops receiving at once (its stream closes,
its token is refused, it lands on the login). A technician revokes a machine from its tile
(after a confirmation), the agent's own client is then refused with ``machine_revoked`` and the
tile says "révoquée"; removing it hides the tile on every open dashboard while its events stay
in the journal.
"""
from __future__ import annotations

import json

import pytest
import requests

from agent.client import ApiClient, ServerRefused
from core.report import Machine
from tests.server_support import dashboard_login
from tests.test_dashboard_browser import (PASSWORD, FakeAgent, browser, new_page, server, shot,  # noqa: F401
                                          sync_api)

STRONG = "un mot de passe solide"


def _admin_headers(server) -> dict[str, str]:  # noqa: F811
    return {"Authorization": f"Bearer {server.token()}"}


def _login_as(page, server, username: str, password: str) -> None:  # noqa: F811
    dashboard_login(page, server.url, username, password)
    page.wait_for_selector("body[data-view=rooms] #rooms-list table")


def _confirm(page, *, ok: bool = True) -> str:
    """Answer the page's confirmation dialog; returns its title."""
    dialog = page.locator("#confirm-dialog")
    sync_api.expect(dialog).to_be_visible()
    shown = dialog.element_handle()
    title = page.locator("#confirm-title").inner_text()
    page.click("#confirm-ok" if ok else "#confirm-cancel")
    shown.wait_for_element_state("hidden")  # closed (another may follow: removing oneself asks twice)
    return title


def test_an_admin_creates_a_supervisor_who_sees_only_its_room_then_removes_it(server, browser):  # noqa: F811
    room, other = server.create_room("Salle B12"), server.create_room("Salle C3")
    agent = FakeAgent(server, room, "B12-PC1")
    agent.report()
    FakeAgent(server, other, "C3-PC1").report()
    admin = new_page(browser)
    _login_as(admin, server, "admin", PASSWORD)
    sync_api.expect(admin.locator("#nav-accounts")).to_be_visible()
    admin.click("#nav-accounts")
    admin.wait_for_selector("#accounts-table tr[data-user=admin]")

    # The password rule, said before sending and from the server's refusal, in French...
    admin.fill("#account-name", "marie")
    admin.select_option("#account-role", "supervisor")
    admin.select_option("#account-room", room)
    admin.fill("#account-password", "court")
    admin.click("#account-submit")
    sync_api.expect(admin.locator("#account-error")).to_have_text("Le mot de passe doit compter au moins 8 caractères.")
    admin.fill("#account-password", "azerty123")
    admin.click("#account-submit")
    sync_api.expect(admin.locator("#account-error")).to_contain_text("trop courant")
    # ...and in English, with the fields kept.
    admin.click("button.lang[data-lang=en]")
    admin.wait_for_selector("#account-create h2:text('Create an account')")
    admin.fill("#account-name", "marie")
    admin.select_option("#account-role", "supervisor")
    admin.fill("#account-password", STRONG)
    admin.click("#account-submit")
    sync_api.expect(admin.locator("#account-error")).to_have_text("A supervisor account needs its room.")
    admin.select_option("#account-room", room)
    admin.fill("#account-password", "azerty123")
    admin.click("#account-submit")
    sync_api.expect(admin.locator("#account-error")).to_have_text("This password is too common: choose another one.")
    admin.click("button.lang[data-lang=fr]")
    admin.wait_for_selector("#account-create h2:text('Créer un compte')")
    admin.fill("#account-name", "marie")
    admin.select_option("#account-role", "supervisor")
    admin.select_option("#account-room", room)
    admin.fill("#account-password", STRONG)
    admin.click("#account-submit")
    row = admin.locator("#accounts-table tr[data-user=marie]")
    sync_api.expect(row).to_contain_text("surveillant")
    sync_api.expect(row).to_contain_text("Salle B12")
    sync_api.expect(admin.locator("#account-done")).to_contain_text("Compte marie créé")
    # The same name again: refused by the server, said in French.
    admin.fill("#account-name", "marie")
    admin.select_option("#account-role", "technician")
    admin.fill("#account-password", STRONG)
    admin.click("#account-submit")
    sync_api.expect(admin.locator("#account-error")).to_have_text("Ce nom est déjà pris.")
    shot(admin, "dashboard_accounts_panel")

    # The supervisor: its room only, no admin tool.
    sup = new_page(browser)
    _login_as(sup, server, "marie", STRONG)
    assert sup.locator("#rooms-list tbody tr").evaluate_all("(rows) => rows.map((r) => r.dataset.room)") == [room]
    assert sup.locator("#nav-accounts").is_hidden() and sup.locator("#create-room").is_hidden()
    sync_api.expect(sup.locator("#whoami")).to_have_text("marie (surveillant)")
    sup.goto(f"{server.url}/#/accounts")
    sync_api.expect(sup.locator("#accounts-refused")).to_contain_text("Réservé aux administrateurs")
    sup.goto(f"{server.url}/#/room/{room}")
    sup.wait_for_selector(f'.tile[data-machine-id="{agent.machine.id}"]')
    sup.wait_for_selector("body[data-live=on]", state="attached")
    assert sup.locator(".machine-revoke").count() == 0  # machines are the technician's and admin's
    agent.event("forbidden_process", name="Discord-accounts-1", state="started")
    sync_api.expect(sup.locator("#alert-list")).to_contain_text("Discord-accounts-1")
    # What the role may do is offered (acknowledging), what it may not is not (the room's bandwidth test).
    sync_api.expect(sup.locator("#alert-list .ack").first).to_be_visible()
    assert sup.locator("#bandwidth-test").is_hidden()
    token = sup.evaluate("sessionStorage.getItem('examroom.token')")
    assert requests.get(f"{server.url}/api/v1/rooms/{other}/machines", headers={"Authorization": f"Bearer {token}"},
                        timeout=5).json()["code"] == "not_your_room"

    # The admin removes the account (after a confirmation): the open page stops at once.
    admin.goto(f"{server.url}/#/accounts")
    admin.locator("#accounts-table tr[data-user=marie] .user-remove").click()
    assert _confirm(admin, ok=False) == "Supprimer le compte marie ?"
    sync_api.expect(admin.locator("#accounts-table tr[data-user=marie]")).to_have_count(1)
    admin.locator("#accounts-table tr[data-user=marie] .user-remove").click()
    _confirm(admin)
    sync_api.expect(admin.locator("#accounts-table tr[data-user=marie]")).to_have_count(0)
    sup.wait_for_selector("body[data-view=login]")
    assert requests.get(f"{server.url}/api/v1/rooms", headers={"Authorization": f"Bearer {token}"},
                        timeout=5).status_code == 401
    # The stream itself is closed server-side: a stream opened with that token is refused.
    assert requests.get(f"{server.url}/api/v1/rooms/{room}/stream", params={"token": token},
                        timeout=5).status_code == 401
    assert sup.js_errors == [] and admin.js_errors == []


def test_the_admin_changes_a_role_and_a_password_and_removing_oneself_asks_twice(server, browser):  # noqa: F811
    room = server.create_room("Salle D4")
    headers = _admin_headers(server)
    for name, role in (("paul", "technician"), ("chef", "admin")):
        assert requests.post(f"{server.url}/api/v1/users", headers=headers, timeout=5,
                             json={"username": name, "password": STRONG, "role": role}).status_code == 200
    admin = new_page(browser)
    _login_as(admin, server, "admin", PASSWORD)
    admin.goto(f"{server.url}/#/accounts")
    admin.locator("#accounts-table tr[data-user=paul] .user-edit").click()
    admin.select_option("#edit-role", "supervisor")
    admin.click("#edit-save")
    sync_api.expect(admin.locator("#edit-error")).to_have_text("Un compte surveillant a besoin de sa salle.")
    admin.select_option("#edit-room", room)
    admin.click("#edit-save")
    row = admin.locator("#accounts-table tr[data-user=paul]")
    sync_api.expect(row.locator(".user-role")).to_have_text("surveillant")
    sync_api.expect(row.locator(".user-room")).to_contain_text("Salle D4")
    row.locator(".user-password").click()
    admin.fill("#edit-password", "motdepasse")
    admin.click("#edit-save")
    sync_api.expect(admin.locator("#edit-error")).to_contain_text("trop courant")
    admin.fill("#edit-password", STRONG + " neuf")
    admin.click("#edit-save")
    sync_api.expect(admin.locator("#edit-done")).to_contain_text("Mot de passe de paul changé")
    reply = requests.post(f"{server.url}/api/v1/login", json={"username": "paul", "password": STRONG + " neuf"}, timeout=5)
    assert reply.status_code == 200
    me = requests.get(f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {reply.json()['token']}"}, timeout=5)
    assert me.json() == {"username": "paul", "role": "supervisor", "room": room}
    # The built-in admin has no remove button; a named admin removing itself confirms twice.
    assert admin.locator("#accounts-table tr[data-user=admin] .user-remove").count() == 0
    chef = new_page(browser)
    _login_as(chef, server, "chef", STRONG)
    chef.goto(f"{server.url}/#/accounts")
    chef.locator("#accounts-table tr[data-user=chef] .user-remove").click()
    _confirm(chef)
    assert _confirm(chef, ok=False) == "C'est votre propre compte"
    sync_api.expect(chef.locator("#accounts-table tr[data-user=chef]")).to_have_count(1)
    chef.locator("#accounts-table tr[data-user=chef] .user-remove").click()
    _confirm(chef)
    _confirm(chef)
    chef.wait_for_selector("body[data-view=login]")
    users = requests.get(f"{server.url}/api/v1/users", headers=headers, timeout=5).json()
    assert "chef" not in [u["username"] for u in users]
    assert admin.js_errors == [] and chef.js_errors == []


def test_a_technician_revokes_then_removes_a_machine_from_its_tile(server, browser, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("EXAMROOM_HOME", str(tmp_path / "machine-home"))  # the real agent client's state
    room = server.create_room("Salle E5")
    headers = _admin_headers(server)
    for name, role, in_room in (("tech", "technician", None), ("surv", "supervisor", room)):
        assert requests.post(f"{server.url}/api/v1/users", headers=headers, timeout=5,
                             json={"username": name, "password": STRONG, "role": role, "room": in_room}).status_code == 200
    # The machine talks through the agent's own client, as `examroom check` and the companion do.
    client = ApiClient(server.url, lang="fr")
    machine = Machine(id="m-revoked-pc", hostname="E5-PC7", os="linux")
    client.ensure_enrolled(room, machine)
    client.post_events([{"id": "11111111-2222-4333-8444-555555555555", "kind": "focus_lost",
                         "at": "2026-11-22T09:00:00Z", "title": "Discord"}])
    bystander = FakeAgent(server, room, "E5-PC8")
    bystander.report()

    tech = new_page(browser)
    _login_as(tech, server, "tech", STRONG)
    tech.goto(f"{server.url}/#/room/{room}")
    tile = tech.locator(f'.tile[data-machine-id="{machine.id}"]')
    sync_api.expect(tile).to_be_visible()
    surv = new_page(browser)
    _login_as(surv, server, "surv", STRONG)
    surv.goto(f"{server.url}/#/room/{room}")
    surv_tile = surv.locator(f'.tile[data-machine-id="{machine.id}"]')
    sync_api.expect(surv_tile).to_be_visible()
    assert surv_tile.locator(".machine-revoke, .machine-remove").count() == 0
    # A technician is not the exam's supervisor: no acknowledging of alerts offered.
    sync_api.expect(tech.locator("#alert-list li").first).to_contain_text("Discord")
    assert tech.locator("#alert-list .ack").first.is_hidden() and tech.locator("#bandwidth-test").is_visible()
    surv.wait_for_selector("body[data-live=on]", state="attached")

    # Cancelled: nothing happens. Confirmed: revoked, the tile says so on both pages.
    tile.locator(".machine-revoke").click()
    assert _confirm(tech, ok=False) == "Révoquer E5-PC7 ?"
    client.heartbeat({})
    tile.locator(".machine-revoke").click()
    _confirm(tech)
    sync_api.expect(tile.locator(".revoked-badge")).to_have_text("⊘ révoquée par tech : elle ne peut plus rien envoyer")
    sync_api.expect(surv_tile.locator(".revoked-badge")).to_contain_text("révoquée")
    assert tile.locator(".machine-revoke").count() == 0
    shot(tech, "dashboard_machine_revoked")

    # The machine's next post, through the agent's client: refused, said in French, not re-enrolled.
    stored = json.loads(next((tmp_path / "machine-home").rglob("enrolment.json")).read_text())
    with pytest.raises(ServerRefused) as refused:
        client.post_events([{"id": "11111111-2222-4333-8444-666666666666", "kind": "focus_lost",
                             "at": "2026-11-22T09:01:00Z", "title": "Discord"}])
    assert refused.value.status == 401 and refused.value.code == "machine_revoked"
    assert "révoqué ce poste" in str(refused.value)
    assert json.loads(next((tmp_path / "machine-home").rglob("enrolment.json")).read_text()) == stored
    raw = requests.post(f"{server.url}/api/v1/heartbeat", json={}, timeout=5,
                        headers={"Authorization": f"Bearer {client.token}"})
    assert raw.status_code == 401 and raw.json()["code"] == "machine_revoked" and raw.json()["detail"]["revoked_by"] == "tech"
    with pytest.raises(ServerRefused) as again:
        client.ensure_enrolled(room, machine, force=True, failed_token=client.token)
    assert again.value.status == 403 and again.value.code == "machine_revoked"

    # Removed: the tile goes on both pages; its events stay in the journal, with who did what.
    tile.locator(".machine-remove").click()
    assert _confirm(tech) == "Retirer E5-PC7 de la salle ?"
    sync_api.expect(tile).to_have_count(0)
    sync_api.expect(surv_tile).to_have_count(0)
    sync_api.expect(surv.locator(f'.tile[data-machine-id="{bystander.machine.id}"]')).to_be_visible()
    journal = requests.get(f"{server.url}/api/v1/rooms/{room}/events", headers=headers, timeout=5).json()
    mine = sorted((e["kind"], e["details"].get("by")) for e in journal if e["machine_id"] == machine.id)
    assert mine == [("focus_lost", None), ("machine_removed", "tech"), ("machine_revoked", "tech")]
    surv.reload()
    surv.wait_for_selector("body[data-live=on]", state="attached")
    sync_api.expect(surv.locator("#journal")).to_contain_text("Machine révoquée")
    sync_api.expect(surv.locator("#journal")).to_contain_text("par tech")
    assert surv.locator(f'.tile[data-machine-id="{machine.id}"]').count() == 0
    assert tech.js_errors == [] and surv.js_errors == []
