"""The terminal report's live progress: on a real pseudo-terminal, one line per check redrawn
as checks finish in parallel (with colour); through a pipe, nothing until the end and no
escape code at all. The CLI runs in a subprocess with fake checks (the real ones belong to
other areas and depend on the machine).
"""
from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DRIVER = textwrap.dedent('''
    import sys, time, types
    from core.result import Status

    def screen(ctx):
        time.sleep(0.2)
        return ctx.result("screen", Status.ok, "1024 x 768 px", measured=1024, threshold=800, unit="px")

    def mouse(ctx):
        time.sleep(0.4)
        return ctx.result("mouse", Status.fail, "aucune souris", remediation="Branchez une souris USB.")

    def whitelist(ctx):
        for n in range(1, 4):
            ctx.progress("whitelist", n, 3)
            time.sleep(0.3)
        return ctx.result("whitelist", Status.ok, "3 adresses sur 3 répondent")

    def bandwidth(ctx):
        time.sleep(2.6)  # silent: no progress events, the ticker alone keeps the line alive
        return ctx.result("bandwidth", Status.ok, "48 Mbit/s", measured=48, threshold=2, unit="Mbit/s")

    modules = {}
    for name, run in {"screen": screen, "mouse": mouse, "whitelist": whitelist, "bandwidth": bandwidth}.items():
        module = types.ModuleType("checks." + name)
        module.run = run
        modules[name] = module
    import agent.crashtest, agent.runner
    agent.runner.check_module = modules.__getitem__
    agent.crashtest.check_module = modules.__getitem__
    sys.argv = ["examroom", "check", "--only", "screen,mouse,whitelist,bandwidth", "--lang", "fr"]
    from agent.cli import main
    main()
''')


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(PYTHONPATH=str(ROOT), EXAMROOM_HOME=str(tmp_path / "home"), EXAMROOM_MACHINE_ID="tty-test",
               TERM="xterm-256color", COLUMNS="120", LINES="40", **extra)
    return env


def _run_in_pty(tmp_path: Path, **extra: str) -> tuple[int, str]:
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, str(script)], stdin=slave, stdout=slave, stderr=slave,
                            env=_env(tmp_path, **extra), cwd=ROOT, close_fds=True)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    return code, b"".join(chunks).decode("utf-8", "replace")


def test_live_lines_and_colour_on_a_terminal(tmp_path):
    code, out = _run_in_pty(tmp_path)
    assert code == 1, out
    assert out.count("\x1b[4F") >= 10, "the block of 4 check lines is redrawn as events arrive and on a timer"
    assert "Bande passante             … (2 s)" in out, "a silent check shows its elapsed time"
    assert "\x1b[2K" in out
    assert "2/3" in out, "the whitelist shows how far it is while it runs"
    assert "\x1b[31m" in out or "\x1b[91m" in out, "ÉCHEC in red"
    last = out.rstrip().splitlines()[-1]
    assert "Poste NON PRÊT pour la certification" in last
    assert "Branchez une souris USB." in out
    assert out.index("Largeur d'écran") < out.index("Poste NON PRÊT")


def test_no_colour_when_asked_even_on_a_terminal(tmp_path):
    code, out = _run_in_pty(tmp_path, NO_COLOR="1")
    assert code == 1
    assert "\x1b[4F" in out, "still live"
    assert "\x1b[31m" not in out and "\x1b[1m" not in out


def test_quiet_and_plain_through_a_pipe(tmp_path):
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    proc = subprocess.run([sys.executable, str(script)], env=_env(tmp_path), cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert "\x1b" not in proc.stdout and "\x1b" not in proc.stderr
    assert "2/3" not in proc.stdout, "no progress lines in a file or a pipe"
    lines = proc.stdout.splitlines()
    assert sum("Sites de la liste blanche" in line for line in lines) == 1, "each check printed once"
    assert lines[-1].startswith("Poste NON PRÊT pour la certification")


def test_console_without_cursor_moves_prints_each_check_once_when_done():
    """An old Windows console: no escape sequence at all, one line per finished check."""
    import io

    from agent.render.text import LiveBlock
    from agent.runner import RunEvent
    from core.result import CheckResult, Status

    out = io.StringIO()
    titles = {"screen": "Largeur d'écran", "whitelist": "Sites de la liste blanche"}
    block = LiveBlock(out, ["screen", "whitelist"], titles, "fr", colour=True, ansi=False)
    done = {i: CheckResult(id=i, title=titles[i], status=Status.ok, summary=f"{i} ok") for i in titles}
    for event in [RunEvent("start", "screen"), RunEvent("start", "whitelist"),
                  RunEvent("progress", "whitelist", done=1, total=3), RunEvent("done", "whitelist", done["whitelist"]),
                  RunEvent("done", "screen", done["screen"])]:
        block(event)
    lines = out.getvalue().splitlines()
    assert "\x1b" not in out.getvalue()
    assert [line.split()[1] for line in lines] == ["Sites", "Largeur"], "in the order they finish"
    assert lines[0].endswith("whitelist ok")
