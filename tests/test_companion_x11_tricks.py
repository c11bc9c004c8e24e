"""Focus tricks on a real X server (Xvfb + openbox), through the X11 watcher and the tracker:
a screen locker (an override-redirect window over the whole screen, no _NET_WM_PID: its pid
comes from the X-Resource extension) is a departure named by its program; the exam window
closed and another opened is followed, title changes of the new one included."""
from __future__ import annotations

import threading

import pytest

from tests.companion_support import FocusRecorder, activate, rename, wait_for, x_window
from tests.support import need, xvfb


@pytest.fixture()
def watched():
    need("xdotool")
    from companion.focus.x11 import X11FocusWatcher

    with xvfb(window_manager=True) as display:
        recorder = FocusRecorder("Pix")
        stop = threading.Event()
        thread = threading.Thread(target=X11FocusWatcher(display).run, args=(recorder, stop), daemon=True)
        yield display, recorder, thread
        stop.set()
        thread.join(5)
        assert not thread.is_alive()


def test_a_screen_locker_covering_the_screen_is_a_departure(watched) -> None:
    display, rec, thread = watched
    with x_window(display, "Pix - Certification", "firefox-esr") as exam:
        activate(display, exam)
        thread.start()
        assert wait_for(lambda: rec.tracker.exam is True), rec.facts
        with x_window(display, "", "xsecurelock", cover=True):
            assert wait_for(lambda: [e.kind for e in rec.events] == ["focus_lost"]), rec.facts
            lost = rec.events[0].details
            assert lost["process"] == "xsecurelock" and lost["category"] != "exam", lost
            assert rec.facts[-1].overlay and rec.facts[-1].pid is not None
            # the window manager still says the exam window is active: it does not count
            assert rec.tracker.exam is False
        assert wait_for(lambda: [e.kind for e in rec.events] == ["focus_lost", "focus_regained"]), rec.facts


def test_the_exam_window_closed_and_reopened_is_followed(watched) -> None:
    display, rec, thread = watched
    with x_window(display, "Bureau", "pcmanfm") as desk:
        with x_window(display, "Pix - Certification", "firefox-esr") as exam:
            activate(display, exam)
            thread.start()
            assert wait_for(lambda: rec.tracker.exam is True), rec.facts
        activate(display, desk)                          # the exam window is gone
        assert wait_for(lambda: rec.tracker.exam is False), rec.facts
        with x_window(display, "Pix - Certification", "firefox-esr") as again:
            activate(display, again)
            assert wait_for(lambda: rec.events and rec.events[-1].kind == "focus_regained"), rec.facts
            rename(display, again, "YouTube - Mozilla Firefox")     # a title change of the NEW window
            assert wait_for(lambda: rec.events[-1].kind == "focus_lost"), rec.facts
            assert rec.events[-1].details["title"] == "YouTube - Mozilla Firefox"
