"""French text slips seen in real runs, each with the test that would have caught it (issue 10)."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

from core.i18n import join_list, table
from core.oserror import describe

ROOT = Path(__file__).resolve().parent.parent


def test_every_french_text_has_its_space_before_colon_semicolon_and_marks() -> None:
    """All the tables (dashboard, server, companion too), not only the crash test's."""
    bad = []
    for path in sorted((ROOT / "core" / "i18n").glob("*.toml")):
        for key, texts in tomllib.loads(path.read_text(encoding="utf-8")).items():
            french = re.sub(r"X-Squid-Error:", "", texts.get("fr", ""))
            if re.search(r"[^\s]([:;?!])(\s|$)", french):
                bad.append(f"{path.name} {key}: {texts['fr']}")
    assert not bad, "\n".join(bad)


def test_joined_causes_keep_the_space_before_semicolon() -> None:
    assert join_list(["a.example (NXDOMAIN)", "b.example (NXDOMAIN)"], "fr") == \
        "a.example (NXDOMAIN) ; b.example (NXDOMAIN)"
    assert join_list(["a", "b"], "en") == "a; b"


def test_os_errors_are_said_in_the_users_language() -> None:
    try:
        open(ROOT / "no" / "such" / "file")
    except OSError as exc:
        assert describe(exc, "fr") == "fichier ou dossier introuvable"
        assert describe(exc, "en") == "no such file or folder"


def test_an_unreachable_server_is_said_in_french_not_in_the_oss_english(tmp_path: Path) -> None:
    with socket.socket() as s:           # a port nobody listens on: the OS refuses the connection
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, EXAMROOM_HOME=str(tmp_path / "home"), EXAMROOM_MACHINE_ID="fr-errors")
    done = subprocess.run([sys.executable, "-m", "agent", "check", "--only", "storage", "--storage", str(tmp_path),
                           "--server", f"http://127.0.0.1:{port}", "--room", "ABCDEF", "--lang", "fr"],
                          capture_output=True, text=True, timeout=60, env=env, cwd=ROOT)
    assert done.returncode == 3, done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert "(connexion refusée) ; le rapport est conservé" in line, line
    assert "Connection refused" not in done.stderr and "Errno" not in done.stderr


def test_one_reason_one_name() -> None:
    """The terminal, the HTML report and the remediations name a whitelist reason alike."""
    from agent.render.html import reason_label

    entries = table()
    assert not [k for k in entries if k.startswith(("report.reason.", "dash.reason."))], "one table of names: reason.*"
    assert reason_label("dns_failed", "fr") == "Nom non résolu (DNS)"
    assert entries["whitelist.fix.dns_failed"]["fr"].startswith("Nom non résolu")
    assert not any("introuvable (DNS)" in e.get("fr", "") for e in entries.values())


def test_program_details_use_words_not_internal_source_names(tmp_path: Path) -> None:
    """A real run on this machine: the browser/PDF/office items say where and how in words
    ("paquet Debian, menu des applications"), never the probes' own names (version_output, dpkg)."""
    import json

    from checks.probes.software import _SOURCE_RANK

    env = dict(os.environ, EXAMROOM_HOME=str(tmp_path / "home"), EXAMROOM_MACHINE_ID="fr-details")
    report = tmp_path / "r.json"
    done = subprocess.run([sys.executable, "-m", "agent", "check", "--only", "browser,pdf_reader,office_suite",
                           "--json", str(report), "--lang", "fr"], capture_output=True, text=True, timeout=120,
                          env=env, cwd=ROOT)
    assert done.returncode in (0, 1), done.stderr
    details = [i.get("detail") or "" for c in json.loads(report.read_text())["checks"] for i in c["items"]]
    internal = re.compile(r"\b(" + "|".join(map(re.escape, _SOURCE_RANK)) + r")\b")
    assert details and not [d for d in details if internal.search(d)], details


def test_a_failed_write_is_said_in_french(tmp_path: Path) -> None:
    from checks.storage import write_read_delete

    not_a_folder = tmp_path / "fichier"
    not_a_folder.write_text("x")
    trial = write_read_delete(not_a_folder)
    assert not trial.ok and trial.said("fr") == "ce n'est pas un dossier"
    assert trial.said("en") == "not a folder"
