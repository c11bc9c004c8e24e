"""Focus on a real X server (Xvfb + openbox): window switches and tab switches."""
from __future__ import annotations

import threading

import pytest

from companion.events import Event
from companion.focus import FocusTracker, Foreground
from tests.companion_support import activate, rename, wait_for, x_window
from tests.support import need, xvfb


@pytest.fixture()
def screen():
    need("xdotool")
    with xvfb(window_manager=True) as display:
        yield display


def test_x11_focus_lost_regained_and_tab_switch(screen: str) -> None:
    from companion.focus.x11 import X11FocusWatcher

    events: list[Event] = []
    facts: list[Foreground] = []
    tracker = FocusTracker(exam_title="Pix", emit=events.append)

    def on_change(fg: Foreground) -> None:
        facts.append(fg)
        tracker.update(fg)

    stop = threading.Event()
    with x_window(screen, "Pix - Certification", "firefox-esr") as exam, \
            x_window(screen, "Discord | #général", "Discord") as chat:
        activate(screen, exam)
        watcher = X11FocusWatcher(screen)
        thread = threading.Thread(target=watcher.run, args=(on_change, stop), daemon=True)
        thread.start()
        try:
            assert wait_for(lambda: tracker.exam is True), facts
            assert facts[-1].process == "firefox-esr"

            activate(screen, chat)
            assert wait_for(lambda: len(events) == 1), facts
            lost = events[0].wire()
            assert lost["kind"] == "focus_lost"
            assert lost["title"] == "Discord | #général"
            assert lost["process"] == "Discord"
            assert lost["exam_title_pattern"] == "Pix"

            activate(screen, exam)
            assert wait_for(lambda: len(events) == 2), facts
            back = events[1].wire()
            assert back["kind"] == "focus_regained"
            assert back["title"] == "Pix - Certification"
            assert back["away_s"] >= 0

            # a tab switch: the exam window (a browser) changes its title
            rename(screen, exam, "YouTube - Mozilla Firefox")
            assert wait_for(lambda: len(events) == 3), facts
            tab = events[2].wire()
            assert (tab["kind"], tab["title"], tab["process"]) == (
                "focus_lost", "YouTube - Mozilla Firefox", "firefox-esr")

            rename(screen, exam, "Pix - Question 3")
            assert wait_for(lambda: len(events) == 4), facts
            assert events[3].kind == "focus_regained"
        finally:
            stop.set()
            thread.join(5)
    assert not thread.is_alive()


def test_x11_without_window_manager_reports_no_window() -> None:
    """Without a window manager there is no _NET_ACTIVE_WINDOW: an empty title, no crash."""
    from companion.focus.x11 import X11FocusWatcher

    with xvfb() as display:
        seen: list[Foreground] = []
        stop = threading.Event()
        thread = threading.Thread(target=X11FocusWatcher(display).run, args=(seen.append, stop), daemon=True)
        thread.start()
        assert wait_for(lambda: seen)
        stop.set()
        thread.join(5)
        assert seen[0] == Foreground(title="")
        assert not thread.is_alive()
