"""The check model, the runner, the policy loader, the translation table and the CLI's exit codes."""
from __future__ import annotations

import json
import subprocess
import sys
import time
import types

import pytest

from core import i18n
from agent.crashtest import run_crash_test
from core.report import Report
from agent.runner import run_checks
from checks.base import CheckContext
from core.errors import BadInput
from checks.policy import Policy, load_policy
from core.host import Host
from core.result import Status, worst


def test_worst_follows_the_contract_order():
    assert worst([Status.ok, Status.fail, Status.error]) == Status.fail
    assert worst([Status.ok, Status.error, Status.warn]) == Status.error
    assert worst([Status.skip, Status.ok]) == Status.ok
    assert worst([]) == Status.skip


def _fake_checks(monkeypatch, behaviours):
    """Install fake check modules: each behaviour is a function ctx -> CheckResult."""
    modules = {}
    for check_id, behaviour in behaviours.items():
        module = types.ModuleType(f"checks.{check_id}")
        module.run = behaviour
        module.budget_s = lambda ctx: 0.5
        modules[check_id] = module
    monkeypatch.setattr("agent.runner.check_module", lambda i: modules[i])
    monkeypatch.setattr("agent.crashtest.check_module", lambda i: modules[i])


def test_runner_turns_exceptions_and_overruns_into_errors(monkeypatch, tmp_path):
    ctx = CheckContext(host=Host.fake("linux", tmp_path), lang="en")

    def boom(ctx):
        raise RuntimeError("disk on fire")

    def slow(ctx):
        time.sleep(5)
        return ctx.result("mouse", Status.ok, "too late")

    def nothing(ctx):
        return None

    _fake_checks(monkeypatch, {
        "browser": lambda c: c.result("browser", Status.ok, "fine"),
        "screen": boom,
        "mouse": slow,
        "storage": nothing,
    })
    events = []
    started = time.monotonic()
    results = run_checks(["browser", "screen", "mouse", "storage"], ctx, events.append)
    assert time.monotonic() - started < 4, "a hung check must not hold the others"
    assert [r.id for r in results] == ["browser", "screen", "mouse", "storage"]
    assert results[0].status == Status.ok
    assert results[1].status == Status.error and "disk on fire" in results[1].summary
    assert results[2].status == Status.error and "0.5 s" in results[2].summary
    assert results[3].status == Status.error and "not a CheckResult" in results[3].summary
    assert all(r.remediation for r in results[1:])
    assert [e.kind for e in events].count("done") == 4


def test_report_status_and_ready(monkeypatch, tmp_path):
    ctx = CheckContext(host=Host.fake("linux", tmp_path), lang="fr")
    _fake_checks(monkeypatch, {
        "browser": lambda c: c.result("browser", Status.warn, "old", remediation="update"),
        "mouse": lambda c: c.result("mouse", Status.ok, "ok"),
    })
    report = run_crash_test(["browser", "mouse"], ctx)
    data = json.loads(report.to_json())
    assert data["schema"] == "examroom.report/1"
    assert data["status"] == "warn" and data["ready"] is True
    assert data["checks"][0]["title"] == "Navigateur récent"
    assert Report.model_validate(data).checks[0].status == Status.warn


def test_policy_defaults_and_errors(tmp_path):
    assert load_policy(None) == Policy()
    good = tmp_path / "p.toml"
    good.write_text("min_screen_width_px = 1024\n")
    assert load_policy(good).min_screen_width_px == 1024
    bad = tmp_path / "bad.toml"
    bad.write_text("# policy\nmin_screen_width_px = 'wide'\n")
    with pytest.raises(BadInput) as err:
        load_policy(bad)
    assert err.value.where == f"{bad}:2"
    typo = tmp_path / "typo.toml"
    typo.write_text("min_screen_width = 800\n")
    with pytest.raises(BadInput, match="unknown setting"):
        load_policy(typo)
    broken = tmp_path / "broken.toml"
    broken.write_text("a = 1\nb = = 2\n")
    with pytest.raises(BadInput) as err:
        load_policy(broken)
    assert err.value.where.endswith(":2")


def test_every_text_exists_in_both_languages():
    for key, texts in i18n.table().items():
        assert set(texts) == {"fr", "en"}, key
        assert texts["fr"].strip() and texts["en"].strip(), key


def test_language_detection():
    assert i18n.detect_lang({"LANG": "fr_FR.UTF-8"}) == "fr"
    assert i18n.detect_lang({"LC_ALL": "en_GB.UTF-8", "LANG": "fr_FR.UTF-8"}) == "en"
    assert i18n.fmt_number(1234.5, "fr") == "1\u202f234,5"
    assert i18n.fmt_number(1234.5, "en") == "1,234.5"
    assert i18n.fmt_date("2026-11-01T08:00:00Z", "fr") == "1er novembre 2026"


def _examroom(*args, **kw):
    return subprocess.run([sys.executable, "-m", "agent", *args], capture_output=True, text=True,
                          timeout=120, **kw)


@pytest.mark.parametrize("args, expected", [
    (["check", "--only", "nosuchcheck"], "unknown check id: nosuchcheck"),
    (["check", "--skip", "browser,bogus"], "bogus"),
    (["check", "--timeout", "abc"], "Invalid value"),
])
def test_bad_flags_exit_2_without_traceback(args, expected):
    done = _examroom(*args, "--lang", "en")
    assert done.returncode == 2
    assert expected in done.stderr
    assert "Traceback" not in done.stderr


def test_malformed_config_is_one_line_and_exit_2(tmp_path):
    cfg = tmp_path / "policy.toml"
    cfg.write_text("min_free_space_gb = [1\n")
    done = _examroom("check", "--config", str(cfg), "--lang", "en")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert str(cfg) in done.stderr and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("name, content, flag, fr, en", [
    ("policy.toml", "min_screen_width_px = \"big\"\n", "--config",
     "policy.toml:1: valeur incorrecte pour « min_screen_width_px »",
     "policy.toml:1: bad value for 'min_screen_width_px'"),
    ("policy.toml", "foo = 3\n", "--config", "policy.toml:1: réglage inconnu « foo » (réglages possibles : ",
     "policy.toml:1: unknown setting 'foo' (known settings: "),
    ("list.txt", "https://pix.fr\npas une url\n", "--whitelist", "list.txt:2: ce n'est pas une adresse web : « pas une url »",
     "list.txt:2: not a URL: 'pas une url'"),
    ("list.toml", "[[url]]\nurl = \"https://pix.fr\"\nrequired = 1\n", "--whitelist",
     "list.toml:1: « required » doit valoir true ou false (écrivez required = true)",
     "list.toml:1: 'required' must be true or false (write required = true)"),
])
def test_bad_input_line_is_in_the_language_asked(tmp_path, name, content, flag, fr, en):
    """The loaders do not know the language; the line the CLI prints is still in it."""
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    for lang, expected in (("fr", fr), ("en", en)):
        done = _examroom("check", "--only", "whitelist", flag, str(path), "--lang", lang)
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert done.stderr.splitlines() == [done.stderr.strip()]
        assert done.stderr.startswith(f"examroom: {tmp_path}/{expected}"), done.stderr


def test_every_contract_command_is_listed():
    done = _examroom("--help")
    for command in ("check", "whitelist", "report", "serve", "room", "companion"):
        assert command in done.stdout


def test_check_help_names_every_check_id():
    """--only/--skip take ids: the help is where a technician finds them."""
    from core.result import CHECK_IDS

    done = _examroom("check", "--help")
    assert done.returncode == 0
    flat = " ".join(done.stdout.split())
    assert all(f" {i}," in flat or f" {i}." in flat for i in CHECK_IDS), flat
