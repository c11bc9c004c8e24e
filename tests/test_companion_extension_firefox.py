"""The same extension folder in Firefox ESR (the other browser family): a real firefox-esr on
Xvfb + openbox, the folder printed by ``extension-path --browser firefox`` installed in a
fresh profile (ESR honours ``xpinstall.signatures.required = false``, as for a school's own
signed build), the native messaging host installed for Firefox by ``install-browser-host``.
The extension's channel peer is verified (started by firefox-esr, Firefox's extension id),
the active tab's host arrives, the platform page's own start message is relayed, and so is
its marker of a question that requires focus."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

from companion.classify import Policy
from companion.extchannel import GECKO_ID
from companion.extwatch import ExtensionWatcher
from tests.companion_support import REPO, wait_for
from tests.extension_support import EXAM_PAGE, sites
from tests.support import need, xvfb

PREFS = """
user_pref("xpinstall.signatures.required", false);
user_pref("extensions.autoDisableScopes", 0);
user_pref("extensions.enabledScopes", 15);
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("browser.aboutwelcome.enabled", false);
"""
# the certification starts, then a question that requires focus comes (the platform's marker)
AUTOSTART = "<script>setTimeout(startCertification, 1500); setTimeout(() => showQuestion(2, true), 2000)</script>"


def test_firefox_esr_runs_the_same_extension(tmp_path: Path) -> None:
    need("firefox-esr", "Xvfb", "openbox")

    state = tmp_path / "state"
    state.mkdir()
    env = dict(os.environ, EXAMROOM_HOME=str(state), HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / ".config"))
    subprocess.run([sys.executable, "-m", "agent", "companion", "install-browser-host"], check=True, env=env,
                   cwd=REPO, capture_output=True, timeout=60)
    folder = Path(subprocess.run([sys.executable, "-m", "agent", "companion", "extension-path", "--browser", "firefox"],
                                 capture_output=True, text=True, check=True, cwd=REPO).stdout.strip())
    profile = tmp_path / "profile"
    (profile / "extensions").mkdir(parents=True)
    with zipfile.ZipFile(profile / "extensions" / f"{GECKO_ID}.xpi", "w") as xpi:
        for path in folder.iterdir():
            xpi.write(path, path.name)
    (profile / "user.js").write_text(PREFS)

    site = sites(EXAM_PAGE.replace("</body>", AUTOSTART + "</body>"))
    platform = f"http://127.0.0.1:{site.server_address[1]}/"
    phases, events, required = [], [], []
    watcher = ExtensionWatcher(state, record=events.append, policy=Policy.load(platform_url=platform),
                               platform_url=platform, on_phase=lambda phase, **d: phases.append((phase, d)),
                               on_focus_required=required.append)
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop,), daemon=True)
    thread.start()
    try:
        with xvfb(window_manager=True) as display:
            browser = subprocess.Popen(["firefox-esr", "--no-remote", "--profile", str(profile), platform],
                                       env={**env, "DISPLAY": display}, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
            try:
                assert wait_for(lambda: [e for e in events if e.kind == "extension_connected"], timeout=60), events
                connected = next(e for e in events if e.kind == "extension_connected")
                assert connected.details["browser"] == "firefox-esr"
                assert wait_for(lambda: any(s.active and s.active.where == f"127.0.0.1:{site.server_address[1]}"
                                            for s in watcher.state.browsers.values()), timeout=30), \
                    watcher.state.snapshot()
                # the page was open before the companion's platform list reached the extension:
                # a reload (as a candidate logging in) gets the listener registered for it
                assert wait_for(lambda: phases, timeout=30) or _reload_and_wait(display, phases)
                assert phases[0] == ("started", {"source": "extension", "host": f"127.0.0.1:{site.server_address[1]}"})
                # the page's marker of a focused question, read in Firefox too
                # (a reloaded page first shows its regular question, then the focused one)
                assert wait_for(lambda: required[-1:] == [True], timeout=20), required
                assert watcher.focus.required
                owner = next(iter(watcher.state.browsers.values()))
                assert owner.browser_pid == browser.pid
            finally:
                browser.terminate()
                browser.wait(20)
    finally:
        stop.set()
        thread.join(5)
        site.shutdown()


def _reload_and_wait(display: str, phases: list) -> bool:
    subprocess.run(["xdotool", "key", "F5"], env=dict(os.environ, DISPLAY=display), timeout=10)
    return bool(wait_for(lambda: phases, timeout=20))
