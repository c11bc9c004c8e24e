"""The server acts on the companion's judgement (issue 11, item 3), with a real server
subprocess, SQLite, and the dashboard in a real Chromium.

Only events at level ``alert`` are alerts and PV lines; the rest (an allowed tool, a web
search, an unknown program) is in the journal with its category and its duration, and on the
tile without an alarm. "Extension absente" is a notice on the tile; the extension going
silent during the exam is an alert and a PV line.
"""
from __future__ import annotations

import re

import pytest
import requests

from tests.server_support import LiveServer, dashboard_login, event


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = LiveServer(tmp_path_factory.mktemp("judgement")).start()
    try:
        yield srv
    finally:
        srv.stop()


def _session(server, room: str, machine_id: str) -> dict[str, str]:
    """A candidate's honest steps, one notice, then two acts the rules forbid."""
    pc = server.enroll(room, machine_id, "PC-07")
    batch = [
        event("extension_absent", "2026-11-22T09:00:00Z", browser="firefox-esr"),
        event("focus_lost", "2026-11-22T09:01:00Z", title="notes.ods - LibreOffice Calc", process="soffice.bin",
              program="LibreOffice", category="tool", level="journal", source="window"),
        event("focus_regained", "2026-11-22T09:01:40Z", title="Pix", process="chromium", away_s=40, level="journal"),
        event("focus_lost", "2026-11-22T09:02:00Z", title="pix - Recherche Google", host="www.google.fr",
              program="www.google.fr", category="search", level="journal", source="extension"),
        event("focus_regained", "2026-11-22T09:02:30Z", away_s=30),
        event("focus_lost", "2026-11-22T09:03:00Z", title="bash", process="xterm", program="xterm",
              category="unknown", level="notice", source="window"),
        event("focus_regained", "2026-11-22T09:03:05Z", away_s=5),
        event("focus_lost", "2026-11-22T09:04:00Z", title="Boîte de réception", host="mail.google.com",
              program="mail.google.com", category="communication", level="alert", source="extension"),
        event("focus_regained", "2026-11-22T09:04:12Z", away_s=12),
        event("extension_silent", "2026-11-22T09:05:00Z", browser="chromium", silent_s=6),
    ]
    assert server.post("/events", pc, {"events": batch}).json() == {"stored": len(batch), "duplicates": 0}
    return pc


def test_only_alert_level_events_are_alerts_and_pv_lines(server):
    sup = server.login()
    room = server.create_room(sup, "Salle J1")
    _session(server, room, "m-j1")
    journal = server.get(f"/rooms/{room}/events", sup).json()
    assert len(journal) == 10
    alerts = server.get(f"/rooms/{room}/alerts", sup, open="true").json()
    assert [(a["kind"], a["details"].get("category")) for a in alerts] == [
        ("focus_lost", "communication"), ("extension_silent", None)]
    draft = server.get(f"/rooms/{room}/incidents", sup, lang="fr").json()
    assert [(d["kind"], d["code"]) for d in draft] == [("focus_lost", "C6"), ("extension_silent", "C6")]
    assert draft[0]["details_text"] == "fenêtre d'examen quittée 12 s : « Boîte de réception » — mail.google.com"
    assert draft[1]["details_text"].startswith("extension du navigateur muette pendant l'épreuve")
    row = server.get(f"/rooms/{room}/machines", sup).json()[0]
    assert row["alerts"] == 2 and row["focus"] == "exam" and row["focus_level"] is None
    assert row["flags"] == {"extension": "alert"}  # silent (alert) replaced absent (notice)


def test_the_tile_and_the_journal_show_the_rest_with_categories_and_durations(server, tmp_path):
    from tests.test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS, WAIT_MS, sync_api
    from tests.support import need

    need("chromium")
    sup = server.login()
    room = server.create_room(sup, "Salle J2")
    pc = server.enroll(room, "m-j2", "PC-08")
    server.post("/events", pc, {"events": [event("extension_absent", "2026-11-22T09:00:00Z", browser="firefox-esr")]})
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = chromium.new_context(locale="fr-FR").new_page()
            page.set_default_timeout(WAIT_MS)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            dashboard_login(page, server.url)
            page.goto(f"{server.url}/#/room/{room}")
            page.wait_for_selector("body[data-live=on]")
            tile = page.locator('.tile[data-machine-id="m-j2"]')
            flag = tile.locator('[data-flag="extension"]')
            sync_api.expect(flag).to_have_attribute("data-level", "notice")
            sync_api.expect(flag).to_contain_text("extension absente")
            sync_api.expect(page.locator("#alert-list .alert")).to_have_count(0)   # a notice is no alert

            # live, without a reload: the candidate opens LibreOffice (journal), then a webmail (alert)
            server.post("/events", pc, {"events": [event(
                "focus_lost", title="notes.ods - LibreOffice Calc", process="soffice.bin", program="LibreOffice",
                category="tool", level="journal", source="window")]})
            sync_api.expect(tile.locator(".focus-category")).to_have_attribute("data-category", "tool")
            sync_api.expect(tile.locator(".focus-label")).to_have_text(" LibreOffice")
            away = tile.locator('[data-focus="away"]')
            sync_api.expect(away).to_have_class(re.compile(r"\blevel-journal\b"))
            assert away.locator(".v").evaluate("e => getComputedStyle(e).color") != "rgb(179, 38, 30)"  # not red
            assert tile.locator(".alarm").count() == 0 or "LibreOffice" not in tile.locator(".alarm").inner_text()
            journal = page.locator("#journal")
            sync_api.expect(journal).to_contain_text(re.compile(r"Sortie de l'épreuve( :)? \[Outil autorisé\] LibreOffice « notes\.ods"))
            server.post("/events", pc, {"events": [event("focus_regained", away_s=40)]})
            # label and details apart (issue 10: they used to run together)
            sync_api.expect(journal).to_contain_text("Retour sur l'épreuve : absence de 40 s")
            server.post("/events", pc, {"events": [event(
                "focus_lost", title="Boîte de réception", host="mail.google.com", program="mail.google.com",
                category="communication", level="alert", source="extension")]})
            alert = page.locator('#alert-list .alert[data-kind="focus_lost"]')
            sync_api.expect(alert).to_have_count(1)
            sync_api.expect(alert).to_contain_text("[Communication] mail.google.com")
            sync_api.expect(tile.locator(".focus-category")).to_have_attribute("data-category", "communication")
            sync_api.expect(away).to_have_class(re.compile(r"\blevel-alert\b"))
            assert away.locator(".v").evaluate("e => getComputedStyle(e).color") == "rgb(179, 38, 30)"
            assert not errors, errors
        finally:
            chromium.close()
    assert requests.get(f"{server.url}/api/v1/health", timeout=5).ok


def test_a_departure_during_a_focused_question_says_so_on_tile_journal_and_pv(server):
    """The platform's page showed a question that requires focus (the extension read its
    marker): the companion judged the search tab an alert, and every view says why, in French
    and in English; the same search on a regular question says nothing of the kind."""
    from tests.test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS, WAIT_MS, sync_api
    from tests.support import need

    sup = server.login()
    room = server.create_room(sup, "Salle J3")
    pc = server.enroll(room, "m-j3", "PC-09")
    search = dict(title="", process="chromium", host="fr.wikipedia.org", program="fr.wikipedia.org", category="search", source="extension")
    server.post("/events", pc, {"events": [
        event("focus_lost", "2026-11-22T10:00:00Z", level="journal", focus_required=False, **search),
        event("focus_regained", "2026-11-22T10:00:20Z", away_s=20),
        event("focus_lost", "2026-11-22T10:01:00Z", level="alert", focus_required=True, **search)]})
    alerts = server.get(f"/rooms/{room}/alerts", sup, open="true").json()
    assert [(a["kind"], a["details"]["focus_required"]) for a in alerts] == [("focus_lost", True)]
    draft = server.get(f"/rooms/{room}/incidents", sup, lang="fr").json()
    assert [d["details_text"] for d in draft] == [
        "fenêtre d'examen quittée pour « chromium » — fr.wikipedia.org — pendant une épreuve focus "
        "(retour non enregistré)"]
    assert server.get(f"/rooms/{room}/incidents", sup, lang="en").json()[0]["details_text"].endswith(
        "— during a focused question (no return recorded)")
    row = server.get(f"/rooms/{room}/machines", sup).json()[0]
    assert (row["focus"], row["focus_level"], row["focus_required"]) == ("away", "alert", True)

    need("chromium")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for locale, words in (("fr-FR", "pendant une épreuve focus"), ("en-US", "during a focused question")):
                page = chromium.new_context(locale=locale).new_page()
                page.set_default_timeout(WAIT_MS)
                dashboard_login(page, server.url)
                page.goto(f"{server.url}/#/room/{room}")
                page.wait_for_selector("body[data-live=on]")
                tile = page.locator('.tile[data-machine-id="m-j3"]')
                sync_api.expect(tile.locator(".focus-required")).to_have_text(
                    " épreuve focus" if locale == "fr-FR" else " focused question")
                alert = page.locator('#alert-list .alert[data-kind="focus_lost"]')
                sync_api.expect(alert).to_have_count(1)
                sync_api.expect(alert).to_contain_text(words)
                lines = page.locator("#journal li", has_text="fr.wikipedia.org")
                sync_api.expect(lines).to_have_count(2)
                assert sum(words in text for text in lines.all_text_contents()) == 1   # not the regular question
                page.context.close()
        finally:
            chromium.close()


def test_one_alert_per_act_whatever_level_the_second_signal_claims(server):
    """Discord's window first (the alert), then its process (naming that alert), then a new start
    after it stopped (a new act): the alert list and the PV hold one line per act, the journal
    all the signals; a signal naming its act's alert is no alert even if it claims one."""
    sup = server.login()
    room = server.create_room(sup, "Salle J4")
    pc = server.enroll(room, "m-j4", "PC-11")
    lost = event("focus_lost", "2026-11-22T11:00:00Z", title="Discord", process="Discord", program="Discord",
                 category="communication", level="alert", source="process")
    batch = [
        lost,
        event("forbidden_process", "2026-11-22T11:00:01Z", name="Discord", program="Discord", pid=4242,
              category="communication", state="started", level="notice", act_of=lost["id"]),
        event("focus_regained", "2026-11-22T11:00:10Z", away_s=10),
        event("focus_lost", "2026-11-22T11:00:20Z", title="Discord", process="Discord", program="Discord",
              category="communication", level="alert", source="process", act_of=lost["id"]),   # claims alert
        event("focus_regained", "2026-11-22T11:00:25Z", away_s=5),
        event("forbidden_process", "2026-11-22T11:01:00Z", name="Discord", program="Discord", pid=4242,
              category="communication", state="stopped", duration_s=59),
        event("forbidden_process", "2026-11-22T11:02:00Z", name="Discord", program="Discord", pid=4343,
              category="communication", state="started", level="alert"),                       # started again
    ]
    assert server.post("/events", pc, {"events": batch}).json()["stored"] == len(batch)
    alerts = server.get(f"/rooms/{room}/alerts", sup, open="true").json()
    assert sorted((a["kind"], a["details"].get("state")) for a in alerts) == [
        ("focus_lost", None), ("forbidden_process", "started")]
    assert {a["id"] for a in alerts} == {lost["id"], batch[-1]["id"]}
    journal = server.get(f"/rooms/{room}/events", sup).json()
    assert len(journal) == len(batch)
    same_act = [e for e in journal if e["details"].get("act_of") == lost["id"]]
    assert len(same_act) == 2 and not any(e["alert"] for e in same_act)
    draft = server.get(f"/rooms/{room}/incidents", sup, lang="fr").json()
    assert sorted(d["kind"] for d in draft) == ["focus_lost", "forbidden_process"]
    row = server.get(f"/rooms/{room}/machines", sup).json()[0]
    assert row["alerts"] == 2
