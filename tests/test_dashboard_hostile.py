"""What a hostile machine sends, as the dashboard shows it, in real Chromium (issue 15, rows 11, 13).

A host name carrying bidi controls shows them escaped ("PC-07 \\u202e..." never reads "PC-07
READY"); an OS named ``toString`` is shown as that text (no lookup on the object prototype);
the longest host name the server accepts wraps instead of widening the page; the page runs
under its Content-Security-Policy without a single violation.
"""
from __future__ import annotations


from tests.test_dashboard_browser import FakeAgent, browser, login, new_page, server, shot, sync_api  # noqa: F401

BIDI = "PC-07 \u202eYDAER\u202c"


def test_spoofing_host_names_and_prototype_keys_are_shown_as_text(server, browser):  # noqa: F811
    room = server.create_room("Salle hostile")
    spoof = FakeAgent(server, room, BIDI)
    wide = FakeAgent(server, room, "H" * 255)
    oddity = FakeAgent(server, room, "PC-09")
    oddity.machine.os = "toString"  # its report names the OS (a key of every JS object's prototype)
    for agent in (spoof, wide, oddity):
        agent.report()
    page = new_page(browser)
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    home = page.goto(server.url + "/")
    assert "script-src 'self'" in home.headers["content-security-policy"]
    login(page, server)
    page.goto(f"{server.url}/#/room/{room}")
    tile = page.locator(f'.tile[data-machine-id="{spoof.machine.id}"]')
    sync_api.expect(tile).to_be_visible()
    text = tile.inner_text()
    assert "\\u202e" in text and "\\u202c" in text and "READY" not in text and "\u202e" not in text
    odd = page.locator(f'.tile[data-machine-id="{oddity.machine.id}"]').inner_text()
    assert "toString" in odd and "function" not in odd and "native code" not in odd
    sync_api.expect(page.locator(f'.tile[data-machine-id="{wide.machine.id}"]')).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    page.click("#tab-link-sheet")
    page.wait_for_selector(".sheet-table")
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 2")
    shot(page, "dashboard_hostile_names")
    assert violations == [] and page.js_errors == []


def test_a_flood_of_alerts_is_one_group_paged_on_demand_and_new_ones_still_arrive(server, browser):  # noqa: F811
    import uuid

    from tests.test_dashboard_browser import _now

    room = server.create_room("Salle inondée")
    spam = FakeAgent(server, room, "SPAM")
    batch = [{"id": str(uuid.uuid4()), "kind": "focus_lost", "at": _now(), "title": f"Discord {n}"} for n in range(1000)]
    spam.post("events", {"events": batch})
    page = new_page(browser)
    login(page, server)
    page.goto(f"{server.url}/#/room/{room}")
    page.wait_for_selector("body[data-live=on]")
    # 1,000 repeats of one machine and kind are one line with their count, not 1,000 lines.
    group = page.locator("#alert-list li.alert")
    sync_api.expect(group).to_have_count(1)
    sync_api.expect(group).to_have_attribute("data-count", "1000")
    sync_api.expect(group.locator(".alert-span")).to_contain_text("fois")
    sync_api.expect(page.locator("#counter-alerts .counter-value")).to_have_text("1000")
    # Its alerts on demand, a page at a time.
    group.locator("button.expand").click()
    sync_api.expect(group.locator(".group-alert")).to_have_count(20)
    group.locator("button.group-older").click()
    sync_api.expect(group.locator(".group-alert")).to_have_count(40)
    sync_api.expect(group.locator(".group-alert").last).to_contain_text("Discord 960")
    newest = spam.event("focus_lost", title="WhatsApp")
    sync_api.expect(group).to_have_attribute("data-alert-id", newest)
    sync_api.expect(group).to_have_attribute("data-count", "1001")
    sync_api.expect(group.locator(".group-alert").first).to_have_attribute("data-event-id", newest)
    sync_api.expect(group.locator(".group-alert")).to_have_count(40)  # as long as before, from the newest
    sync_api.expect(page.locator("#alert-list li.alert")).to_have_count(1)
    assert page.js_errors == []
