"""Event kinds as data (core/data/kinds.toml): one definition read by every consumer.

Unit tests of the spec (rules, typed details, bad spec files), then the promise of issue 12:
a new kind is one spec entry, one translation pair and its watcher. A temporary spec adds
``screen_share_started``; a real server subprocess runs with it (EXAMROOM_KINDS,
EXAMROOM_TEXTS), a watcher posts the event through the agent's own client, and the kind shows
on the dashboard in a real Chromium (alerts feed and journal, without a reload), in the
journal API and in the PV d'incident draft.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests

from core.i18n import LANGS, table
from core.kinds import BUNDLED, KindsError, kinds, load
from tests.server_support import LiveServer, event

NEW_KIND = '''
[screen_share_started]
origin = "machine"
level = "alert"
show = ["app"]
pv_code = "C6"
pv_text = "incident.screen_share_started"
[screen_share_started.details]
app = {type = "str", max = 64, text = "dash.detail.paren"}
'''
NEW_TEXTS = '''
["dash.kind.screen_share_started"]
fr = "Partage d'écran démarré"
en = "Screen sharing started"
["incident.screen_share_started"]
fr = "partage d'écran par {app}"
en = "screen shared by {app}"
'''


# ---------- the bundled spec ----------

def test_every_text_the_spec_names_exists_in_both_languages():
    entries = table()
    named = set()
    for spec in kinds().specs.values():
        for part in (spec, *spec.variant):
            named |= {k for k in (getattr(part, "label", None), part.pv_text, part.pv_text_closed) if k}
        named |= {k for d in spec.details.values() for k in (d.text, d.wrap) if k}
    assert "dash.kind.forbidden_process_ended" in named and "incident.forbidden.for" in named
    for key in sorted(named):
        assert key in entries and all(entries[key].get(lang) for lang in LANGS), key


def test_the_alert_rule_is_written_once_in_the_spec():
    k = kinds()
    assert k.is_alert("forbidden_process", {"name": "AnyDesk", "state": "started"})
    assert k.is_alert("forbidden_process", {"name": "AnyDesk"})      # an older companion: no state
    assert not k.is_alert("forbidden_process", {"name": "AnyDesk", "state": "stopped"})
    assert k.is_alert("focus_lost", {"title": "Discord"})              # no judgement: the kind's level
    assert not k.is_alert("focus_lost", {"title": "Calc", "level": "journal"})
    assert k.level_of("focus_lost", {"level": "notice"}) == "notice"
    assert k.is_alert("focus_lost", {"level": "bogus"})                # not a level: the kind's
    assert not k.is_alert("focus_regained", {"level": "alert"})        # a closing event never is
    assert not k.is_alert("something_new", {"level": "alert"})        # unknown kinds: journal only
    assert {"companion_lost", "companion_back"} <= k.server_only()
    assert "focus_lost" not in k.server_only()
    assert k.closable == {"focus_lost": [], "net_down": [], "forbidden_process": ["name"], "extension_silent": [],
                          "devtools_opened": []}


def test_details_from_a_machine_are_typed_and_bounded():
    k = kinds()
    clean = k.clean("focus_lost", {"title": "x" * 5000, "process": ["a", "list"], "level": "alert",
                                   "category": "chat", "host": "Mail.Example.ORG", "source": "extension",
                                   "focus_required": "yes", "extra": "y" * 5000, "nested": {"a": [1, 2]},
                                   "huge": list(range(1000))})
    assert len(clean["title"]) == 1000 and "process" not in clean       # wrong type: dropped
    assert clean["level"] == "alert" and "category" not in clean         # not a category
    assert clean["host"] == "mail.example.org" and clean["source"] == "extension"
    assert "focus_required" not in clean
    assert len(clean["extra"]) == 256 and clean["nested"] == {"a": [1, 2]} and "huge" not in clean
    assert k.clean("forbidden_process", {"pid": 12.0, "duration_s": -3}) == {"pid": 12}
    assert k.clean("net_up", {"down_s": float("nan")}) == {}
    many = k.clean("companion_error", {f"k{i}": i for i in range(100)})
    assert len(many) == 16  # undeclared details: a few, not a hundred


def test_a_bad_spec_file_names_its_file_and_line(tmp_path):
    bad = tmp_path / "kinds.toml"
    bad.write_text('[focus_lost]\norigin = "machine"\n\n[oops]\norigin = "machine"\nlevel = "loud"\n')
    with pytest.raises(KindsError, match=rf"^{re.escape(str(bad))}:4: kind 'oops': level"):
        load(bad)
    bad.write_text('[a]\norigin = "machine"\nclosed_by = "b"\n')
    with pytest.raises(KindsError, match=r":1: kind 'a': closed_by: Extra inputs"):
        load(bad)
    bad.write_text('[a]\norigin = "machine"\ncloses = "b"\n')
    with pytest.raises(KindsError, match=r":1: kind 'a' closes 'b', which the file does not define"):
        load(bad)
    bad.write_text('[a]\norigin = "machine"\nshow = ["nope"]\n')
    with pytest.raises(KindsError, match=r"'nope' is not one of its details"):
        load(bad)
    bad.write_text('[a\n')
    with pytest.raises(KindsError, match=r"line 1"):
        load(bad)


# ---------- a new kind, end to end ----------

@pytest.fixture(scope="module")
def new_kind_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("newkind")
    spec, texts = tmp / "kinds.toml", tmp / "texts.toml"
    spec.write_text(BUNDLED.read_text(encoding="utf-8") + NEW_KIND, encoding="utf-8")
    texts.write_text(NEW_TEXTS, encoding="utf-8")
    server = LiveServer(tmp, env={"EXAMROOM_KINDS": str(spec), "EXAMROOM_TEXTS": str(texts)}).start()
    try:
        yield server
    finally:
        server.stop()


def screen_share_watcher(server_url: str, room: str, home: Path) -> None:
    """The new kind's watcher, as small as one can be: it enrols and sends one event through
    the agent's own client (the companion's delivery path)."""
    from agent.client import ApiClient
    from core.report import Machine

    client = ApiClient(server_url)
    client.ensure_enrolled(room, Machine(id="m-share", hostname="PC-SHARE", os="linux", os_version="12",
                                         arch="x86_64"))
    client.post_events([event("screen_share_started", app="Zoom")])


def test_a_new_kind_is_one_spec_entry_one_translation_pair_and_its_watcher(new_kind_server, tmp_path,
                                                                              monkeypatch):
    from tests.test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS, WAIT_MS, sync_api
    from tests.support import need

    need("chromium")
    server = new_kind_server
    sup = server.login()
    room = server.create_room(sup, "Salle N1")
    served = server.get("/kinds", sup).json()["kinds"]
    assert served["screen_share_started"]["level"] == "alert" and served["screen_share_started"]["pv_code"] == "C6"
    assert requests.get(f"{server.url}/api/v1/kinds", timeout=5).status_code == 401  # supervisors only

    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = chromium.new_context(locale="fr-FR").new_page()
            page.set_default_timeout(WAIT_MS)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(server.url + "/")
            page.fill("#login-password", "correct horse battery staple")
            page.click("#login-submit")
            page.wait_for_selector("body[data-view=rooms]")
            page.goto(f"{server.url}/#/room/{room}")
            page.wait_for_selector("body[data-live=on]")

            monkeypatch.setenv("EXAMROOM_HOME", str(tmp_path / "agent-home"))
            screen_share_watcher(server.url, room, tmp_path / "agent-home")

            alert = page.locator('.alert[data-kind="screen_share_started"]')
            sync_api.expect(alert).to_contain_text("Partage d'écran démarré")
            sync_api.expect(alert).to_contain_text("(Zoom)")
            sync_api.expect(page.locator("#journal")).to_contain_text(re.compile(r"Partage d'écran démarré( :)? \(Zoom\)"))
            assert not errors, errors
        finally:
            chromium.close()

    journal = server.get(f"/rooms/{room}/events", sup).json()
    shared = [e for e in journal if e["kind"] == "screen_share_started"]
    assert len(shared) == 1 and shared[0]["alert"] is True and shared[0]["details"]["app"] == "Zoom"
    draft = server.get(f"/rooms/{room}/incidents", sup, lang="fr").json()
    assert [(d["kind"], d["code"], d["details_text"]) for d in draft] == \
        [("screen_share_started", "C6", "partage d'écran par Zoom")]
    assert server.get(f"/rooms/{room}/incidents", sup, lang="en").json()[0]["details_text"] == "screen shared by Zoom"


def test_a_bad_centre_spec_stops_the_server_at_start_with_file_and_line(tmp_path):
    import os
    import subprocess
    import sys

    bad = tmp_path / "kinds.toml"
    bad.write_text('[focus_lost]\norigin = "machine"\nlevel = "loud"\n', encoding="utf-8")
    env = dict(os.environ, EXAMROOM_KINDS=str(bad), EXAMROOM_SERVER_HOME=str(tmp_path / "srv"))
    env.pop("EXAMROOM_ADMIN_PASSWORD", None)
    run = subprocess.run([sys.executable, "-m", "agent", "serve", "--port", "1", "--db", str(tmp_path / "db.sqlite3"),
                          "--admin-password", "correct horse battery staple", "--lang", "fr"],
                         capture_output=True, text=True, timeout=60, env=env)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert f"{bad}:1: kind 'focus_lost': level" in run.stderr and "EXAMROOM_KINDS" in run.stderr
