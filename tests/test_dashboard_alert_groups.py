"""20,000 alerts in a room, as the dashboard shows them, in real Chromium (issue 15, row 4).

A real ``examroom serve`` (uvicorn) gets 20,000 ``focus_lost`` alerts through the real API
(20 machines, 1,000 each, towards three programs: 60 groups). The page shows the newest 50
groups (machine, kind label, subject, count, first and last time) and "Plus anciennes" for the
rest, from the server's pages; a new alert increments its group in place, live, without a
reload and without a new line; acknowledging a group takes its alerts off the counter.
"""
from __future__ import annotations

import uuid

import requests

from tests.test_dashboard_browser import (FakeAgent, _now, browser, login, new_page, server, shot,  # noqa: F401
                                          sync_api)

PROGRAMS = ("Discord", "ChatGPT", "WhatsApp")


def _flood(server, room: str) -> list[FakeAgent]:
    agents = [FakeAgent(server, room, f"SPAM-{i:02d}") for i in range(20)]
    for agent in agents:
        batch = [{"id": str(uuid.uuid4()), "kind": "focus_lost", "at": _now(), "title": f"{PROGRAMS[n % 3]} {n}",
                  "program": PROGRAMS[n % 3], "category": "communication", "level": "alert"} for n in range(1000)]
        reply = requests.post(f"{server.url}/api/v1/events", json={"events": batch}, headers=agent.headers, timeout=120)
        assert reply.status_code == 200 and reply.json()["stored"] == 1000, reply.text
    return agents


def test_twenty_thousand_alerts_show_as_groups_paged_and_updated_in_place(server, browser):  # noqa: F811
    room = server.create_room("Salle submergée")
    agents = _flood(server, room)
    headers = {"Authorization": f"Bearer {server.token()}"}
    groups = requests.get(f"{server.url}/api/v1/rooms/{room}/alert-groups", params={"limit": 500},
                          headers=headers, timeout=30).json()["groups"]
    assert len(groups) == 60 and sum(g["count"] for g in groups) == 20_000
    target = next(g for g in groups if g["machine_id"] == agents[0].machine.id and g["subject"] == "Discord")

    page = new_page(browser)
    login(page, server)
    page.goto(f"{server.url}/#/room/{room}")
    page.wait_for_selector("body[data-live=on]")
    rows = page.locator("#alert-list li.alert")
    sync_api.expect(rows).to_have_count(50)  # the server's first page of groups
    sync_api.expect(page.locator("#counter-alerts .counter-value")).to_have_text("20000")
    newest = rows.first
    last = groups[0]
    sync_api.expect(newest).to_have_attribute("data-gid", str(last["gid"]))
    sync_api.expect(newest.locator(".alert-kind")).to_contain_text("Sortie de l'épreuve")
    sync_api.expect(newest.locator(".alert-host")).to_have_text("SPAM-19")
    sync_api.expect(newest).to_contain_text(last["subject"])
    sync_api.expect(newest).to_have_attribute("data-count", str(last["count"]))
    sync_api.expect(newest.locator(".alert-span")).to_contain_text(f"{last['count']} fois, de ")
    assert page.locator(f'.alert[data-gid="{target["gid"]}"]').count() == 0  # SPAM-00 is on the next page
    page.evaluate("window.__same_page = 1")

    page.click("#alerts-older")
    sync_api.expect(rows).to_have_count(60)
    sync_api.expect(page.locator("#alerts-older")).to_have_count(0)
    line = page.locator(f'.alert[data-gid="{target["gid"]}"]')
    sync_api.expect(line).to_have_attribute("data-count", str(target["count"]))
    shot(page, "dashboard_alert_groups_20k")

    # A new alert from SPAM-00 towards Discord: its group's count, at the top, no new line.
    event_id = agents[0].event("focus_lost", title="Discord encore", program="Discord", category="communication",
                               level="alert")
    sync_api.expect(rows.first).to_have_attribute("data-alert-id", event_id)
    sync_api.expect(rows.first).to_have_attribute("data-count", str(target["count"] + 1))
    sync_api.expect(rows.first).to_have_attribute("data-gid", str(target["gid"]))
    sync_api.expect(rows).to_have_count(60)
    sync_api.expect(page.locator("#counter-alerts .counter-value")).to_have_text("20001")
    # Another program is another group: a new line.
    agents[0].event("focus_lost", title="Zoom", program="Zoom", category="communication", level="alert")
    sync_api.expect(rows).to_have_count(61)
    sync_api.expect(rows.first).to_contain_text("Zoom")

    # Acknowledging the Discord group takes its alerts off the counter and the open list.
    page.locator(f'.alert[data-gid="{target["gid"]}"] button.ack').click()
    sync_api.expect(page.locator(f'.alert[data-gid="{target["gid"]}"]')).to_have_count(0)
    sync_api.expect(page.locator("#counter-alerts .counter-value")).to_have_text(str(20_002 - target["count"] - 1))
    acked = requests.get(f"{server.url}/api/v1/rooms/{room}/alert-groups/{target['gid']}/alerts",
                         params={"limit": 500}, headers=headers, timeout=30).json()["alerts"]
    assert acked and all(a["acked_by"] == "admin" for a in acked)
    assert page.evaluate("window.__same_page") == 1 and page.js_errors == []
