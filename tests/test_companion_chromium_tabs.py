"""A real tab switch in a real browser window: Chromium (not headless) on Xvfb + openbox,
two tabs; bringing the second tab to the front changes the window's title, which the X11
watcher sees as leaving the exam, with the browser's process name."""
from __future__ import annotations

import shutil
import threading

import pytest

from tests.companion_support import FocusRecorder, wait_for
from tests.support import need, xvfb

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def test_tab_switch_in_chromium_is_focus_lost() -> None:
    need(CHROMIUM)
    sync_api = pytest.importorskip("playwright.sync_api")
    from companion.focus.x11 import X11FocusWatcher

    with xvfb(window_manager=True) as display:
        on_change = FocusRecorder("Pix", settle_s=0.25)   # as the session runs it
        events, facts, tracker = on_change.events, on_change.facts, on_change.tracker

        stop = threading.Event()
        thread = threading.Thread(target=X11FocusWatcher(display).run, args=(on_change, stop), daemon=True)
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=False,
                                         env={"DISPLAY": display, "HOME": "/tmp"})
            try:
                context = browser.new_context()
                exam = context.new_page()
                exam.set_content("<title>Pix - Certification</title><p>Question 1</p>")
                thread.start()
                assert wait_for(lambda: tracker.exam is True, timeout=20), facts
                assert "chrom" in facts[-1].process.lower()

                other = context.new_page()                       # a new tab, in front
                other.set_content("<title>Wikipédia</title><p>réponse ?</p>")
                other.bring_to_front()
                assert wait_for(lambda: any(e.kind == "focus_lost" for e in events), timeout=15), facts
                lost = next(e for e in events if e.kind == "focus_lost").details
                # the new tab shows "Untitled" for an instant, then its page's title: one absence,
                # which says where the candidate went
                assert lost["title"].startswith("Wikipédia") and "chrom" in lost["process"].lower(), events
                assert [e.kind for e in events] == ["focus_lost"]

                exam.bring_to_front()
                assert wait_for(lambda: events[-1].kind == "focus_regained", timeout=15), facts
                assert events[-1].details["title"].startswith("Pix - Certification")
            finally:
                stop.set()
                browser.close()
        thread.join(5)
        assert not thread.is_alive()
