"""``check --gui``: a real pywebview window (Qt WebEngine) under Xvfb + openbox, and the fallback.

Each window runs in its own subprocess with a timeout: a second ``webview.start()`` in one
process crashes Qt. The driver below installs fake checks (the real ones are other areas'),
opens the window, reads the verdict back from the DOM, takes a screenshot of the X display
(``import -window root``), presses "run again", then "close", and prints what it saw as JSON.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
import types
from pathlib import Path

import pytest

from tests.support import need, xvfb

ROOT = Path(__file__).resolve().parent.parent
# Every window runs with QTWEBENGINE_DISABLE_SANDBOX: CI containers often forbid the user
# namespaces Chromium's sandbox needs (examroom itself only drops it when run as root).
OUTPUT = Path(__file__).parent / "output"

DRIVER = textwrap.dedent('''
    import json, subprocess, sys, threading, time, types
    from pathlib import Path

    from agent.render import window as gui
    from checks.base import CheckContext
    from core.host import Host
    from core.result import Item, Status

    lang, shot, out = sys.argv[1], sys.argv[2], sys.argv[3]

    def screen(ctx):
        return ctx.result("screen", Status.ok, "1024 x 768 px", measured=1024, threshold=800, unit="px")

    def mouse(ctx):
        return ctx.result("mouse", Status.fail, "no <pointing> device", remediation=ctx.t("runner.error_remediation"))

    def whitelist(ctx):
        for n in range(1, 4):
            ctx.progress("whitelist", n, 3)
            time.sleep(0.3)
            if n == 2 and "progress" not in seen:
                # Mid-run: the other checks are done, this one shows how far it is.
                import webview
                page = webview.windows[0]
                seen["progress"] = page.evaluate_js(
                    "[document.getElementById('count').textContent, document.getElementById('bar').value,"
                    " document.getElementById('row-whitelist').cells[2].textContent,"
                    " document.getElementById('row-mouse').cells[1].textContent]")
                subprocess.run(["import", "-window", "root", shot.replace(".png", "_progress.png")],
                               timeout=30, check=True)
        items = [Item(name="pix.fr", url="https://pix.fr/", host="pix.fr", status=Status.ok, reason="ok",
                      ip="127.0.0.1", latency_ms=3, http_status=200)]
        return ctx.result("whitelist", Status.ok, "1/1", items=items)

    modules = {}
    for name, run in {"screen": screen, "mouse": mouse, "whitelist": whitelist}.items():
        module = types.ModuleType("checks." + name)
        module.run = run
        modules[name] = module
    import agent.crashtest, agent.runner
    agent.runner.check_module = modules.__getitem__
    agent.crashtest.check_module = modules.__getitem__

    seen = {"verdicts": [], "titles": [], "shown": 0}

    def on_shown(window, report):
        seen["shown"] += 1
        seen["verdicts"].append(window.evaluate_js("document.getElementById('verdict').textContent"))
        seen["titles"].append(window.evaluate_js("document.querySelector('h1').textContent"))
        seen["lang"] = window.evaluate_js("document.documentElement.lang")
        seen["buttons"] = window.evaluate_js("[...document.querySelectorAll('.toolbar button')].map(b => b.textContent)")
        if seen["shown"] == 1:
            time.sleep(0.5)  # let the compositor paint before the screenshot
            subprocess.run(["import", "-window", "root", shot], timeout=30, check=True)
            window.evaluate_js("setTimeout(() => document.getElementById('save').click(), 10); true")
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not seen.get("saved"):
                time.sleep(0.1)
                seen["saved"] = window.evaluate_js("document.getElementById('saved').textContent")
            # Clicked from a timer: evaluate_js waits for its result, and "close" destroys the
            # window that would return it.
            window.evaluate_js("setTimeout(() => document.getElementById('again').click(), 50); true")
        else:
            window.evaluate_js("setTimeout(() => document.getElementById('close').click(), 50); true")

    ctx = CheckContext(host=Host.current(), lang=lang)
    report = gui.run_in_window(["screen", "mouse", "whitelist"], ctx, on_shown=on_shown)
    seen["report_status"] = report.status.value if report else None
    Path(out).write_text(json.dumps(seen))
''')


def _run_driver(tmp_path: Path, lang: str, display: str) -> tuple[subprocess.CompletedProcess, dict, Path]:
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    OUTPUT.mkdir(exist_ok=True)
    shot = OUTPUT / f"window_{lang}.png"
    out = tmp_path / "seen.json"
    home = tmp_path / "home"
    (home / "Documents").mkdir(parents=True)
    env = dict(os.environ, QTWEBENGINE_DISABLE_SANDBOX="1", DISPLAY=display, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="xcb", HOME=str(home),
               XDG_CONFIG_HOME=str(home / ".config"), EXAMROOM_HOME=str(home / ".examroom"))
    env.pop("WAYLAND_DISPLAY", None)
    proc = subprocess.run([sys.executable, str(script), lang, str(shot), str(out)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    seen = json.loads(out.read_text()) if out.exists() else {}
    return proc, seen, shot


@pytest.mark.parametrize("lang", ["fr"])
def test_window_shows_progress_then_verdict_runs_again_and_closes(tmp_path, lang):
    need("Xvfb", "openbox", "import")
    pytest.importorskip("webview")
    with xvfb(1280, 900, window_manager=True) as display:
        proc, seen, shot = _run_driver(tmp_path, lang, display)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert seen["shown"] == 2, "the report must be shown once, then again after 'run again'"
    assert seen["verdicts"] == ["Poste NON PRÊT pour la certification"] * 2
    assert seen["lang"] == "fr"
    assert seen["buttons"] == ["Relancer le test", "Enregistrer le rapport", "Fermer"]
    saved = sorted((tmp_path / "home" / "Documents").iterdir())
    assert [p.suffix for p in saved] == [".html", ".json"], saved
    assert seen["saved"].startswith(f"Rapport enregistré : {saved[0]}")
    assert "NON PRÊT" in saved[0].read_text(encoding="utf-8")
    assert json.loads(saved[1].read_text(encoding="utf-8"))["schema"] == "examroom.report/1"
    assert seen["report_status"] == "fail"
    count, bar, whitelist_cell, mouse_cell = seen["progress"]
    assert count == "Test en cours : 2/3 vérifications terminées" and bar == 2
    assert whitelist_cell == "2/3" and "ÉCHEC" in mouse_cell
    assert shot.exists() and shot.stat().st_size > 10_000


def test_no_display_falls_back_to_the_terminal_report(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(EXAMROOM_HOME=str(tmp_path / "home"), EXAMROOM_MACHINE_ID="gui-test", NO_COLOR="1")
    # storage and archive run for real on the temporary folder; whatever they find, the
    # verdict and the check titles must come out in the terminal, in French.
    proc = subprocess.run([sys.executable, "-m", "agent", "check", "--gui", "--only", "storage",
                           "--storage", str(tmp_path), "--lang", "fr"],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode in (0, 1), proc.stderr
    assert "impossible d'ouvrir une fenêtre" in proc.stderr
    assert "DISPLAY" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "Espace de stockage" in proc.stdout
    verdicts = ("Poste PRÊT pour", "Poste NON PRÊT pour", "Poste prêt, avec des points")
    assert proc.stdout.splitlines()[-1].startswith(verdicts), proc.stdout
    # the exit code is the verdict printed, window or not
    assert proc.returncode == (1 if proc.stdout.splitlines()[-1].startswith("Poste NON PRÊT") else 0)


def test_unreachable_display_falls_back_without_crashing(tmp_path):
    env = dict(os.environ, DISPLAY=":987", EXAMROOM_HOME=str(tmp_path / "home"), EXAMROOM_MACHINE_ID="gui-test")
    env.pop("WAYLAND_DISPLAY", None)
    proc = subprocess.run([sys.executable, "-m", "agent", "check", "--gui", "--only", "storage",
                           "--storage", str(tmp_path), "--lang", "en"],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode in (0, 1), proc.stderr
    assert "display :987 does not answer" in proc.stderr
    assert "Storage" in proc.stdout


def _wait_for_window(env: dict[str, str], title: str, timeout: float) -> str:
    """The id of the visible window whose title matches; polled, since xdotool's own --sync
    search can give up with an X error while Qt creates and destroys its first windows."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", title], env=env,
                               capture_output=True, text=True, timeout=20)
        if found.stdout.split():
            return found.stdout.split()[-1]
        time.sleep(0.2)
    raise AssertionError(f"no window titled {title!r} within {timeout} s")


def test_real_check_command_in_a_window_closed_by_the_window_manager(tmp_path):
    """``examroom check --gui`` for real: the real screen check measures the Xvfb display, the
    verdict reaches the window title, Alt+F4 (openbox) closes it, the plain report and the
    JSON report follow in the terminal and the exit code says 'not ready' (no mouse here)."""
    need("Xvfb", "openbox", "xdotool")
    pytest.importorskip("webview")
    report_path = tmp_path / "r.json"
    with xvfb(1280, 900, window_manager=True) as display:
        env = dict(os.environ, QTWEBENGINE_DISABLE_SANDBOX="1", DISPLAY=display, EXAMROOM_HOME=str(tmp_path / "home"), EXAMROOM_MACHINE_ID="gui-real")
        env.pop("WAYLAND_DISPLAY", None)
        proc = subprocess.Popen([sys.executable, "-m", "agent", "check", "--gui", "--only", "screen,mouse",
                                 "--lang", "fr", "--json", str(report_path)],
                                env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            window = _wait_for_window(env, "Poste .* : ", timeout=60)
            title = subprocess.run(["xdotool", "getwindowname", window], env=env, capture_output=True,
                                   text=True, timeout=10).stdout.strip()
            subprocess.run(["xdotool", "windowactivate", "--sync", window, "key", "alt+F4"], env=env, timeout=20)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    report = json.loads(report_path.read_text())
    screen = next(c for c in report["checks"] if c["id"] == "screen")
    assert screen["measured"] == 1280 and screen["status"] == "ok"
    expected = "Poste NON PRÊT" if not report["ready"] else "Poste PRÊT"
    assert title.startswith(expected), title
    assert proc.returncode == (0 if report["ready"] else 1), err[-2000:]
    assert "Largeur d'écran" in out and expected in out.splitlines()[-1]
    assert "Traceback" not in err


CLOSE_DRIVER = textwrap.dedent('''
    import sys, time, types
    from core.result import Status

    def mouse(ctx):
        import webview
        time.sleep(0.5)
        webview.windows[0].destroy()  # the technician closes the window mid-run
        for n in range(1, 4):
            ctx.progress("mouse", n, 3)  # scripts for a window that is gone must not hang anything
            time.sleep(0.1)
        time.sleep(30)  # a slow check must not keep examroom running once the window is closed
        return ctx.result("mouse", Status.ok, "souris USB")

    module = types.ModuleType("checks.mouse")
    module.run = mouse
    module.budget_s = lambda ctx: 60
    import agent.crashtest, agent.runner
    agent.runner.check_module = {"mouse": module}.__getitem__
    agent.crashtest.check_module = {"mouse": module}.__getitem__
    sys.argv = ["examroom", "check", "--gui", "--only", "mouse", "--lang", "fr"]
    from agent.cli import main
    main()
''')


def test_closing_the_window_mid_run_is_an_interruption(tmp_path):
    need("Xvfb", "openbox")
    pytest.importorskip("webview")
    script = tmp_path / "close.py"
    script.write_text(CLOSE_DRIVER)
    with xvfb(1024, 768, window_manager=True) as display:
        env = dict(os.environ, QTWEBENGINE_DISABLE_SANDBOX="1", DISPLAY=display, PYTHONPATH=str(ROOT), EXAMROOM_HOME=str(tmp_path / "home"),
                   EXAMROOM_MACHINE_ID="gui-close")
        env.pop("WAYLAND_DISPLAY", None)
        started = time.monotonic()
        proc = subprocess.run([sys.executable, str(script)], env=env, cwd=ROOT, capture_output=True, text=True,
                              timeout=90)
        elapsed = time.monotonic() - started
    assert proc.returncode == 130, proc.stderr[-2000:]
    assert elapsed < 25, "examroom must end when the window closes, not when the slow check does"
    assert "Interrompu." in proc.stderr.splitlines()  # Qt may add its own warnings after it
    assert "Traceback" not in proc.stderr


NO_TOOLKIT_DRIVER = textwrap.dedent('''
    import sys
    # Simulate a machine where these were never installed.
    for name in sys.argv[1].split(","):
        sys.modules[name] = None
    sys.argv = ["examroom", "check", "--gui", "--only", "storage", "--storage", sys.argv[2], "--lang", "fr"]
    from agent.cli import main
    main()
''')


@pytest.mark.parametrize("missing, message", [
    ("webview", "pywebview n'est pas installé"),
    ("PyQt6,PyQt5,PySide6,PySide2,qtpy,gi", "pywebview ne trouve ni Qt ni la bibliothèque graphique du système"),
])
def test_no_gui_toolkit_falls_back_with_a_clear_message(tmp_path, missing, message):
    if "webview" not in missing.split(","):
        # what pywebview itself says when it finds no toolkit: needs the real pywebview
        pytest.importorskip("webview", reason="needs the gui extra: pip install -e '.[test,gui]'")
    script = tmp_path / "no_toolkit.py"
    script.write_text(NO_TOOLKIT_DRIVER)
    with xvfb(800, 600) as display:
        env = dict(os.environ, QTWEBENGINE_DISABLE_SANDBOX="1", DISPLAY=display, PYTHONPATH=str(ROOT), EXAMROOM_HOME=str(tmp_path / "home"),
                   EXAMROOM_MACHINE_ID="gui-none")
        env.pop("WAYLAND_DISPLAY", None)
        proc = subprocess.run([sys.executable, str(script), missing, str(tmp_path)], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
    assert proc.returncode in (0, 1), proc.stderr
    assert proc.stderr.strip().splitlines() == [
        line for line in proc.stderr.strip().splitlines() if line.startswith("examroom: impossible d'ouvrir une fenêtre")]
    assert message in proc.stderr
    assert "Espace de stockage" in proc.stdout


@pytest.mark.parametrize("os_name, present, expected", [
    ("linux", {"gi", "qtpy", "PyQt6"}, None),        # GTK first, as pywebview would
    ("linux", {"qtpy", "PyQt6"}, "qt"),
    ("windows", {"clr", "qtpy", "PyQt6"}, None),     # WebView2
    ("windows", {"qtpy", "PySide6"}, "qt"),
    ("macos", {"qtpy", "PyQt6"}, "qt"),
    ("macos", set(), None),
])
def test_toolkit_choice_per_os(monkeypatch, tmp_path, os_name, present, expected):
    from agent.render import webview_env
    from checks.base import CheckContext
    from core.host import Host

    monkeypatch.setattr(webview_env, "_has_module", lambda name: name in present)
    # pywebview itself counts as installed here (the gui extra may not be): only the toolkits vary
    monkeypatch.setitem(sys.modules, "webview", sys.modules.get("webview") or types.ModuleType("webview"))
    ctx = CheckContext(host=Host.fake(os_name, tmp_path), lang="fr")
    assert webview_env.toolkit(ctx) == expected
    reason = webview_env.no_gui_reason(ctx) if os_name != "linux" else None
    if os_name == "macos" and not present:
        assert reason is not None and "pywebview[qt]" in reason
