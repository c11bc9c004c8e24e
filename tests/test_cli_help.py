"""`examroom ... --help` in the system's language, with check's exit codes and environment."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from agent.cli import cli
from agent.clihelp import commands
from core.i18n import table

ROOT = Path(__file__).resolve().parent.parent


def _help(args: list[str], lang_env: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")}
    env["LANG"] = lang_env
    done = subprocess.run([sys.executable, "-m", "agent", *args, "--help"], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_every_command_and_option_has_its_french_help() -> None:
    entries = table()
    missing, stale = [], []
    for key, command in commands(cli):
        texts = [(key, command.help)] + [(f"{key}.{p.name}", p.help) for p in command.params
                                           if isinstance(p, click.Option) and p.help]
        for entry_key, english in texts:
            if english is None:
                continue
            entry = entries.get(entry_key)
            if entry is None:
                missing.append(f'["{entry_key}"]\nen = {english!r}\nfr = "..."')
            elif " ".join(entry["en"].split()) != " ".join(english.split()):
                stale.append(f"{entry_key}: the code says {english!r}, the table {entry['en']!r}")
    assert not missing, "add to core/i18n/help.toml (the French of --help):\n" + "\n".join(missing)
    assert not stale, "English help changed: update en and fr in core/i18n/help.toml:\n" + "\n".join(stale)


def test_check_help_lists_exit_codes_and_environment_in_english() -> None:
    out = _help(["check"], "C")
    assert "Run the crash test" in out and "Exit codes:" in out
    for line in ("0  the machine is ready", "1  it is not", "2  bad usage or input", "3  the supervisor server"):
        assert line in out, out
    assert "EXAMROOM_HOME" in out and "EXAMROOM_MACHINE_ID" in out


@pytest.mark.parametrize("args", [[], ["check"], ["serve"], ["room", "create"], ["companion"], ["report", "merge"],
                                  ["whitelist", "show"]])
def test_help_is_french_when_the_system_is(args: list[str]) -> None:
    out = _help(args, "fr_FR.UTF-8")
    assert out.startswith("Utilisation : examroom"), out
    for english in ("Usage:", "Show this message", "[default:", "[required]", "Options:", "Commands:"):
        assert english not in out, f"{english!r} in the French help:\n{out}"
    assert "Affiche cette aide et quitte." in out


def test_check_help_in_french_names_exit_codes_and_environment() -> None:
    out = _help(["check"], "fr_FR.UTF-8")
    assert "Lance le crash test de ce poste" in out and "Codes de sortie :" in out
    assert "0  le poste est prêt" in out and "3  le serveur de supervision" in out
    assert "EXAMROOM_HOME" in out and "EXAMROOM_MACHINE_ID" in out
    assert "[par défaut : 5.0 ; 0.1<=x<=600]" in out
