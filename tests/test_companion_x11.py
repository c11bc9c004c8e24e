"""Focus on a real X server (Xvfb + openbox): window switches and tab switches."""
from __future__ import annotations

import threading

import pytest

from companion.focus import Foreground
from tests.companion_support import FocusRecorder, activate, rename, wait_for, x_window
from tests.support import need, xvfb


@pytest.fixture()
def screen():
    need("xdotool")
    with xvfb(window_manager=True) as display:
        yield display


def test_x11_focus_lost_regained_and_tab_switch(screen: str) -> None:
    from companion.focus.x11 import X11FocusWatcher

    on_change = FocusRecorder("Pix")
    events, facts, tracker = on_change.events, on_change.facts, on_change.tracker

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


def test_x11_without_window_manager_polls_the_input_focus() -> None:
    """Without a window manager there is no _NET_ACTIVE_WINDOW: the watcher falls back to
    polling the input focus, and still reports titles and process names."""
    import subprocess

    from companion.focus.x11 import X11FocusWatcher

    need("xdotool")
    with xvfb() as display, x_window(display, "Pix - Certification", "firefox") as exam, \
            x_window(display, "Telegram", "telegram-desktop") as chat:
        seen: list[Foreground] = []
        stop = threading.Event()
        thread = threading.Thread(target=X11FocusWatcher(display, poll_s=0.05).run, args=(seen.append, stop),
                                  daemon=True)
        thread.start()
        try:
            for window, title in ((exam, "Pix - Certification"), (chat, "Telegram")):
                subprocess.run(["xdotool", "windowfocus", "--sync", str(window)], check=True, timeout=10,
                               env={"DISPLAY": display})
                assert wait_for(lambda: seen and seen[-1].title == title), seen
            assert seen[-1].process == "telegram-desktop"
        finally:
            stop.set()
            thread.join(5)
        assert not thread.is_alive()


def test_x11_closing_the_active_window(screen: str) -> None:
    """The window in front closes: the watcher reports the next one, no crash."""
    from companion.focus.x11 import X11FocusWatcher

    seen: list[Foreground] = []
    stop = threading.Event()
    with x_window(screen, "Pix - Certification", "firefox") as exam:
        activate(screen, exam)
        thread = threading.Thread(target=X11FocusWatcher(screen).run, args=(seen.append, stop), daemon=True)
        thread.start()
        try:
            with x_window(screen, "Zoom Meeting", "zoom") as other:
                activate(screen, other)
                assert wait_for(lambda: seen and seen[-1].title == "Zoom Meeting"), seen
            # closed: openbox gives the focus back (or to nothing); either way no crash
            assert wait_for(lambda: seen[-1].title != "Zoom Meeting", timeout=5), seen
            activate(screen, exam)
            assert wait_for(lambda: seen[-1].title == "Pix - Certification"), seen
        finally:
            stop.set()
            thread.join(5)
        assert not thread.is_alive()


def test_x11_dialogs_are_steps_of_their_own_without_their_title(screen: str) -> None:
    """A dialog transient for its program's window (how LibreOffice and GTK make Save as) and
    one typed _NET_WM_WINDOW_TYPE_DIALOG: each a step (focus_moved, category tool, role dialog),
    named by its program only; back to the document is one more step."""
    from companion.focus.x11 import X11FocusWatcher

    on_change = FocusRecorder("Pix")
    events, facts, tracker = on_change.events, on_change.facts, on_change.tracker
    stop = threading.Event()
    with x_window(screen, "Pix - Certification", "firefox-esr") as exam, \
            x_window(screen, "notes.odt - LibreOffice Writer", "soffice.bin") as writer, \
            x_window(screen, "Enregistrer sous - notes.odt", "soffice.bin", dialog=writer) as save, \
            x_window(screen, "Imprimer notes-secretes.pdf", "evince", dialog="typed") as printing:
        activate(screen, exam)
        thread = threading.Thread(target=X11FocusWatcher(screen).run, args=(on_change, stop), daemon=True)
        thread.start()
        try:
            assert wait_for(lambda: tracker.exam is True), facts
            activate(screen, writer)
            activate(screen, save)
            assert wait_for(lambda: len(events) == 2), facts
            assert facts[-1].dialog is True and not any(f.dialog for f in facts if f.window == writer)
            activate(screen, writer)
            activate(screen, printing)
            assert wait_for(lambda: len(events) == 4), facts
        finally:
            stop.set()
            thread.join(5)
    lost, dialog, back, other = (e.wire() for e in events)
    assert (lost["kind"], lost["program"], lost.get("role")) == ("focus_lost", "LibreOffice", None)
    assert (dialog["kind"], dialog["category"], dialog["level"], dialog["program"], dialog["role"]) == (
        "focus_moved", "tool", "journal", "LibreOffice", "dialog")
    assert dialog["title"] == ""                                   # "notes.odt" is not sent
    assert (back["kind"], back["program"], back.get("role")) == ("focus_moved", "LibreOffice", None)
    assert (other["category"], other["process"], other["role"], other["title"]) == ("tool", "evince", "dialog", "")
