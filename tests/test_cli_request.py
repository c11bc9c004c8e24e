"""``examroom check``: every flag is stored once, by its click callback, in the CheckRequest the
command runs (agent/request.py); exit codes come from one enum (core/exitcodes.py)."""
from __future__ import annotations

import ast
from pathlib import Path

from click.testing import CliRunner

import agent.commands
from agent.cli import cli
from agent.request import CheckRequest
from checks.base import CheckOptions
from core.exitcodes import ExitCode

ROOT = Path(__file__).resolve().parent.parent


def run_check(monkeypatch, *args: str) -> tuple[int, CheckRequest]:
    seen: list[CheckRequest] = []

    def fake_check_command(request: CheckRequest) -> ExitCode:
        seen.append(request)
        return ExitCode.NOT_READY

    monkeypatch.setattr(agent.commands, "check_command", fake_check_command)
    result = CliRunner().invoke(cli, ["check", *args])
    assert len(seen) == 1, result.output
    return result.exit_code, seen[0]


def test_every_flag_lands_once_in_the_request(monkeypatch, tmp_path):
    code, request = run_check(
        monkeypatch, "--only", "storage,screen", "--skip", "mouse", "--json", "-", "--html", "r.html",
        "--whitelist", "w.toml", "--dns", "127.0.0.1:5353", "--timeout", "2.5", "--bandwidth-url", "http://x/f",
        "--storage", str(tmp_path), "--candidates", "24", "--pac", "http://x/p.pac", "--config", "p.toml",
        "--lang", "fr", "--server", "http://s", "--room", "B12", "--ca-file", "ca.pem", "--gui")
    assert code == ExitCode.NOT_READY == 1
    assert request == CheckRequest(
        only="storage,screen", skip="mouse", json_path="-", html_path="r.html", config_path="p.toml", lang="fr",
        server="http://s", room="B12", ca_file="ca.pem", gui=True,
        options=CheckOptions(storage=tmp_path, whitelist=Path("w.toml"), dns="127.0.0.1:5353", timeout=2.5,
                             bandwidth_url="http://x/f", candidates=24, pac="http://x/p.pac"))


def test_defaults_and_the_language_of_the_locale(monkeypatch):
    monkeypatch.setenv("LANGUAGE", "fr_FR")
    _code, request = run_check(monkeypatch)
    assert request == CheckRequest(lang="fr")
    assert request.options == CheckOptions()  # timeout 5 s, nothing else asked


def test_a_bad_value_is_still_refused_by_click(monkeypatch):
    result = CliRunner().invoke(cli, ["check", "--timeout", "0"])
    assert result.exit_code == ExitCode.BAD_INPUT


def test_exit_codes_are_defined_once():
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3, 130]
    defined = []
    for package in ("core", "agent", "checks", "whitelist", "companion", "supervisor"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                targets = node.targets if isinstance(node, ast.Assign) else []
                for target in targets:
                    names = target.elts if isinstance(target, ast.Tuple) else [target]
                    defined += [f"{path.relative_to(ROOT)}: {n.id}" for n in names
                                if isinstance(n, ast.Name) and n.id.startswith("EXIT_")]
    assert not defined, defined
