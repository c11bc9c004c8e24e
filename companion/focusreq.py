"""Whether the question on screen requires focus, as the platform's own page says it.

Facts: the examroom extension's ``focus`` messages (``companion/extension/content.js``
watches the platform's marker of a focused challenge, the statement's tooltip tag with the
class ``tooltip__tag--focused``, and sends one boolean when it changes), from a verified
native host (``companion/extchannel.py``), for a tab the browser says is on a platform host.
Nothing else sets it: the loopback endpoint refuses ``/exam/focus-required``
(``exam_phase_forged``), since any local program can call it.

Kept per tab of each browser (a candidate may have the platform open twice: a question
requires focus while any of its tabs says so), and forgotten when that tab closes, when that
browser has no channel left (its tabs will say it again on the next connection), when the
platform says the exam ended, and at a clean stop of the companion: a requirement belongs to
one exam phase and never leaks into the next candidate's session.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

MAX_TABS = 1024


@dataclass
class FocusRequirement:
    _tabs: dict[tuple[int, int], bool] = field(default_factory=dict)   # (browser pid, tab) requiring focus
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def required(self) -> bool:
        with self._lock:
            return any(self._tabs.values())

    def _change(self, update) -> bool:
        """Apply ``update`` to the tabs; True when the overall requirement changed."""
        with self._lock:
            before = any(self._tabs.values())
            update()
            return any(self._tabs.values()) != before

    def heard(self, browser_pid: int, tab: int, required: bool) -> bool:
        def update() -> None:
            key = (browser_pid, tab)
            if not required:
                self._tabs.pop(key, None)      # only the tabs that require focus are kept
            elif key in self._tabs or len(self._tabs) < MAX_TABS:   # tab ids come from the machine
                self._tabs[key] = True
        return self._change(update)

    def tab_closed(self, browser_pid: int, tab: int) -> bool:
        return self._change(lambda: self._tabs.pop((browser_pid, tab), None))

    def browser_gone(self, browser_pid: int) -> bool:
        def drop() -> None:
            for key in [k for k in self._tabs if k[0] == browser_pid]:
                del self._tabs[key]
        return self._change(drop)

    def reset(self) -> bool:
        return self._change(self._tabs.clear)
