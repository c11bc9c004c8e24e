"""Two supervisors on the PV in real Chromium, one of them offline (issue 15, row 15).

B goes offline and changes two lines; meanwhile A changes one of them. Back online, B's
edits are replayed as line edits: the line only B changed is saved beside A's work, the
line both changed keeps A's text and B's page says so (who, and what B had written).
"""
from __future__ import annotations

import requests

from tests.test_dashboard_browser import FakeAgent, Server, browser, login, new_page, shot, sync_api  # noqa: F401


def test_an_offline_supervisors_edits_merge_per_line_and_a_conflict_is_shown(tmp_path, browser):  # noqa: F811
    server = Server(tmp_path)
    try:
        room = server.create_room("Salle PV à deux")
        agent = FakeAgent(server, room, "PC-A")
        agent.event("focus_lost", title="Discord", process="discord")
        agent.event("net_down")
        a, b = new_page(browser), new_page(browser)
        for page in (a, b):
            login(page, server)
            page.goto(f"{server.url}/#/room/{room}/incidents")
            page.wait_for_selector("body[data-live=on]")
            sync_api.expect(page.locator("#pv-table tbody tr")).to_have_count(2)
        b.context.set_offline(True)
        rows_b = b.locator("#pv-table tbody tr")
        for n, text in ((0, " – vu par B"), (1, " – coupure notée par B")):
            rows_b.nth(n).locator('[data-field="details_text"]').click()
            b.keyboard.press("End")
            b.keyboard.type(text)
        sync_api.expect(b.locator("#pv-save-state")).to_have_attribute("data-state", "offline", timeout=15000)
        rows_a = a.locator("#pv-table tbody tr")
        rows_a.nth(0).locator('[data-field="details_text"]').click()
        a.keyboard.press("End")
        a.keyboard.type(" – candidat averti par A")
        sync_api.expect(a.locator("#pv-save-state")).to_have_attribute("data-state", "saved")
        b.context.set_offline(False)
        sync_api.expect(b.locator("#pv-save-state")).to_have_attribute("data-state", "conflict", timeout=20000)
        sync_api.expect(b.locator("#pv-save-state")).to_contain_text("admin")
        sync_api.expect(b.locator("#pv-save-state")).to_contain_text("vu par B")
        headers = {"Authorization": f"Bearer {server.token()}"}
        saved = requests.get(f"{server.url}/api/v1/rooms/{room}/incidents/edits", headers=headers, timeout=5).json()
        texts = [edit.get("details_text") or "" for edit in saved["edits"].values()]
        assert any("candidat averti par A" in text and "vu par B" not in text for text in texts), texts
        assert any("coupure notée par B" in text for text in texts), texts
        sync_api.expect(b.locator("#pv-table tbody tr").nth(0)).to_contain_text("candidat averti par A")
        shot(b, "dashboard_pv_conflict")
        assert a.js_errors == [] and b.js_errors == []
    finally:
        from tests.test_dashboard_browser import _stop

        _stop(server.proc)
