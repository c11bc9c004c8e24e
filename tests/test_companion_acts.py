"""One alert per act (companion/acts.py): the focus tracker and the process watcher share the
acts of the exam phase; a second signal of an act is a notice naming its alert; a new act (another
program, another host, the same program after it stopped, a new phase) is a new alert; the
server's judgement (core/kinds.py) never counts an event naming its act's alert as an alert."""
from __future__ import annotations

from core.events import Event
from core.kinds import kinds
from companion.acts import Acts, host_key, pid_key, program_key
from companion.extstate import ExtensionState
from companion.focus import FocusTracker, Foreground
from companion.processes import ForbiddenWatcher, Proc, load_catalog
from supervisor.rules import is_alert

LINUX = load_catalog("linux")
EXAM = Foreground("Pix - Certification - Chromium", "chromium", 10, 1)
CHAT = Foreground("Discord", "Discord", 20, 2)
CHAT_HELPER = Foreground("Discord — appel", "Discord", 21, 3)
PIDGIN = Foreground("Liste de contacts", "pidgin", 30, 4)
CALC = Foreground("tableau.xlsx - LibreOffice Calc", "soffice.bin", 40, 5)


class Alive:
    """Which pids run (the tests decide, no real process needed for the logic)."""

    def __init__(self, *pids: int) -> None:
        self.pids = set(pids)

    def __call__(self, pid: int) -> bool:
        return pid in self.pids


def room(*running: int, procs: list[Proc] | None = None):
    alive = Alive(*running)
    acts = Acts(alive=alive)
    events: list[Event] = []
    tracker = FocusTracker(exam_title="Pix", emit=events.append, acts=acts)
    current = procs if procs is not None else []
    watcher = ForbiddenWatcher(LINUX, events.append, lister=lambda: current, me=-1, acts=acts)
    tracker.update(EXAM)
    tracker.arm()
    return tracker, watcher, acts, alive, events, current


def alerts(events: list[Event]) -> list[Event]:
    return [e for e in events if is_alert(e.kind, kinds().clean(e.kind, e.details))]


def test_window_then_process_is_one_alert() -> None:
    tracker, watcher, _, _, events, procs = room(20)
    tracker.update(CHAT)                                  # the candidate goes to Discord's window
    procs.append(Proc(20, "Discord", "/opt/discord/Discord", 1))
    watcher.scan()                                         # then its process is found
    lost, found = events
    assert (lost.kind, lost.details["level"], lost.details["category"]) == ("focus_lost", "alert", "communication")
    assert (found.kind, found.details["level"], found.details["act_of"]) == ("forbidden_process", "notice", lost.id)
    assert alerts(events) == [lost]


def test_process_then_window_is_one_alert_even_named_otherwise() -> None:
    tracker, watcher, _, _, events, procs = room(30)
    procs.append(Proc(30, "pidgin", "/usr/bin/pidgin", 1))
    watcher.scan()
    tracker.update(PIDGIN)
    tracker.update(EXAM)
    tracker.update(PIDGIN)                                 # and a second visit
    found, lost, _, moved_back = events
    assert found.details["level"] == "alert" and "act_of" not in found.details
    assert (lost.kind, lost.details["level"], lost.details["act_of"]) == ("focus_lost", "notice", found.id)
    assert moved_back.details["act_of"] == found.id
    assert alerts(events) == [found]


def test_a_helper_process_window_of_the_same_program_is_the_same_act() -> None:
    tracker, watcher, _, _, events, procs = room(20, 21)
    procs.append(Proc(20, "Discord", "/opt/discord/Discord", 1))
    watcher.scan()
    procs.append(Proc(21, "Discord", "/opt/discord/Discord", 20))   # Electron's helpers come later
    watcher.scan()
    tracker.update(CHAT_HELPER)
    assert [e.details.get("act_of") for e in events] == [None, events[0].id]
    assert len(alerts(events)) == 1


def test_the_same_program_restarted_is_a_new_act() -> None:
    tracker, watcher, _, alive, events, procs = room(20)
    procs.append(Proc(20, "Discord", "/opt/discord/Discord", 1))
    watcher.scan()
    tracker.update(CHAT)
    tracker.update(EXAM)
    procs.clear()
    alive.pids.clear()
    watcher.scan()                                         # Discord closed: stopped
    procs.append(Proc(25, "Discord", "/opt/discord/Discord", 1))
    alive.pids.add(25)
    watcher.scan()                                         # and started again
    tracker.update(Foreground("Discord", "Discord", 25, 9))
    kinds_levels = [(e.kind, e.details.get("state"), e.details["level"] if "level" in e.details else None)
                    for e in events if e.kind != "focus_regained"]
    assert kinds_levels == [("forbidden_process", "started", "alert"), ("focus_lost", None, "notice"),
                            ("forbidden_process", "stopped", None), ("forbidden_process", "started", "alert"),
                            ("focus_lost", None, "notice")]
    assert len(alerts(events)) == 2


def test_another_program_is_another_act_and_a_new_phase_starts_afresh() -> None:
    tracker, watcher, acts, _, events, procs = room(20, 30)
    tracker.update(CHAT)
    tracker.update(PIDGIN)
    assert [e.details["level"] for e in events] == ["alert", "alert"]
    acts.reset()                                           # the exam ended and a new one started
    tracker.update(EXAM)
    tracker.update(CHAT)
    assert len(alerts(events)) == 3


def test_a_window_only_act_ends_with_its_process() -> None:
    tracker, _, _, alive, events, _ = room(20)
    tracker.update(CHAT)
    tracker.update(EXAM)
    tracker.update(CHAT)
    assert events[-1].details.get("act_of") == events[0].id
    alive.pids.clear()                                     # the window's program ended...
    tracker.update(EXAM)
    tracker.update(Foreground("Discord", "Discord", 26, 7))  # ...and a new one is a new act
    assert events[-1].details["level"] == "alert" and "act_of" not in events[-1].details


def test_a_tool_during_a_focus_question_is_an_alert_each_time() -> None:
    tracker, _, _, _, events, _ = room(40)
    tracker.set_focus_required(True)
    tracker.update(CALC)
    tracker.update(EXAM)
    tracker.update(CALC)
    lost = [e for e in events if e.kind == "focus_lost"]
    assert [e.details["level"] for e in lost] == ["alert", "alert"] and all("act_of" not in e.details for e in lost)


def test_a_site_is_one_act_while_a_tab_is_open_on_it() -> None:
    """The webmail visited twice is one act; once its last tab closed, a new visit is a new act."""
    clock = [0.0]
    ext = ExtensionState(clock=lambda: clock[0])
    ext.connected(10, "chromium")
    acts = Acts(alive=Alive(), open_hosts=ext.open_hosts)
    events: list[Event] = []
    from companion.classify import Policy

    policy = Policy.load()
    tracker = FocusTracker(exam_title="Pix", emit=events.append, acts=acts, extension=ext, policy=policy)
    policy.exam_hosts.add("app.pix.fr")

    def tab(tab_id: int, host: str) -> None:
        ext.heard(10, {"type": "active", "window": 1, "tab": tab_id, "scheme": "https", "host": host})
        tracker.browser_changed()

    tracker.update(EXAM)
    tab(1, "app.pix.fr")
    tracker.arm()
    tab(2, "mail.google.com")
    tab(1, "app.pix.fr")
    tab(2, "mail.google.com")
    assert [e.details.get("act_of") for e in events if e.kind == "focus_lost"] == [None, events[0].id]
    tab(1, "app.pix.fr")
    ext.heard(10, {"type": "tab_closed", "tab": 2, "scheme": "https", "host": "mail.google.com"})
    acts.prune()
    tab(3, "mail.google.com")
    lost = [e for e in events if e.kind == "focus_lost"]
    assert lost[-1].details["level"] == "alert" and "act_of" not in lost[-1].details
    assert len(alerts(events)) == 2


def test_claim_ties_by_any_key_and_release_ends_the_act() -> None:
    acts = Acts(alive=Alive(5))
    assert acts.claim("a1", {program_key("VNC"), pid_key(5)}, pids={5}, held=True) is None
    assert acts.claim("a2", {program_key("x11vnc"), pid_key(5)}, pids={5}) == "a1"   # another name, same pid
    assert acts.claim("a3", {host_key("chat.example")}, hosts={"chat.example"}) is None
    acts.release(program_key("VNC"))
    assert acts.snapshot() == ["a3"]
    assert acts.claim("a4", {program_key("x11vnc")}) is None


def test_the_server_never_counts_a_signal_of_an_alerted_act() -> None:
    """Whatever level the machine claims: an event naming its act's alert is at most a notice
    (tile, journal), never a second alert; an old companion's forbidden_process stays an alert."""
    spec = kinds()
    assert spec.level_of("forbidden_process", {"state": "started"}) == "alert"
    assert spec.level_of("forbidden_process", {"state": "started", "level": "notice", "act_of": "x"}) == "notice"
    assert spec.level_of("focus_lost", {"level": "alert", "act_of": "x"}) == "notice"
    assert spec.level_of("focus_moved", {"level": "alert", "act_of": "x"}) == "notice"
    assert not is_alert("focus_lost", {"level": "alert", "act_of": "x"})
    assert is_alert("focus_lost", {"level": "alert", "act_of": ""})
    assert spec.level_of("forbidden_process", {"state": "stopped", "act_of": "x"}) == "journal"


def test_a_closed_browsers_tabs_are_not_open_any_more() -> None:
    """Its tabs' host acts end with it: the browser closed (or crashed) keeps no tab open."""
    ext = ExtensionState(clock=lambda: 0.0)
    ext.connected(10, "chromium")
    ext.heard(10, {"type": "active", "window": 1, "tab": 2, "scheme": "https", "host": "mail.google.com"})
    assert ext.open_hosts() == {"mail.google.com"}
    ext.disconnected(10)
    assert ext.open_hosts() == set()
