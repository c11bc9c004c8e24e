"""The classification policy (companion/classify.py, companion/data/policy.toml).

What a Pix session legitimately does (LibreOffice, a PDF, the file manager, Save as, a web
search) is journal only; communication, AI assistants and remote control are alerts; what
the policy does not know is a notice; during a question that requires focus, any departure is
an alert. A centre's file goes first; a bad one exits 2 naming FILE:LINE, in both languages.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import BadInput
from companion.classify import Judgement, Policy, normalise_host


@pytest.fixture(scope="module")
def policy() -> Policy:
    return Policy.load(platform_url="http://127.0.0.1:8123/exam")


@pytest.mark.parametrize("host, category, level", [
    ("app.pix.fr", "exam", "journal"), ("app.pix.org", "exam", "journal"),
    ("www.google.fr", "search", "journal"), ("google.com", "search", "journal"),
    ("www.google.co.uk", "search", "journal"), ("www.bing.com", "search", "journal"),
    ("www.qwant.com", "search", "journal"), ("duckduckgo.com", "search", "journal"),
    ("www.ecosia.org", "search", "journal"), ("search.lilo.org", "search", "journal"),
    ("fr.wikipedia.org", "search", "journal"), ("fr.wiktionary.org", "search", "journal"),
    ("mail.google.com", "communication", "alert"), ("outlook.live.com", "communication", "alert"),
    ("webmail.free.fr", "communication", "alert"), ("mail.yahoo.com", "communication", "alert"),
    ("discord.com", "communication", "alert"), ("web.whatsapp.com", "communication", "alert"),
    ("www.facebook.com", "communication", "alert"), ("x.com", "communication", "alert"),
    ("chatgpt.com", "ai_assistant", "alert"), ("chat.openai.com", "ai_assistant", "alert"),
    ("gemini.google.com", "ai_assistant", "alert"), ("copilot.microsoft.com", "ai_assistant", "alert"),
    ("chat.mistral.ai", "ai_assistant", "alert"), ("claude.ai", "ai_assistant", "alert"),
    ("www.perplexity.ai", "ai_assistant", "alert"), ("chat.deepseek.com", "ai_assistant", "alert"),
    ("remotedesktop.google.com", "remote_control", "alert"), ("tmate.io", "remote_control", "alert"),
    ("chrome://downloads/", "tool", "journal"), ("about:downloads", "tool", "journal"),
    ("chrome://newtab", "tool", "journal"), ("file:///home/eleve/Téléchargements/sujet.pdf", "tool", "journal"),
    ("chrome-extension://mhjfbmdgcfjbbpaeojofohoefgiehjai/index.html", "tool", "journal"),
    ("www.lemonde.fr", "unknown", "notice"), ("pix.fr", "unknown", "notice"),
    # look-alikes are not the exam (nor the site they imitate)
    ("app.pix.fr.evil.example", "unknown", "notice"), ("notgoogle.example", "unknown", "notice"),
])
def test_hosts_are_judged_by_their_category(policy, host, category, level):
    judged = policy.for_host(host)
    assert (judged.category, judged.level, judged.source) == (category, level, "extension")
    assert judged.label == normalise_host(host)  # the host, never a full URL


def test_the_most_specific_pattern_wins_and_hosts_are_normalised(policy):
    assert policy.for_host("MAIL.Google.COM.").category == "communication"   # over google.*
    assert policy.for_host("www.google.fr:443").label == "www.google.fr"
    assert policy.for_host("").category == "unknown"


def test_the_platform_url_origin_is_the_exam_and_nothing_else(policy):
    assert policy.is_exam_host("app.pix.fr") and policy.is_exam_host("APP.PIX.ORG")
    assert policy.is_exam_host("127.0.0.1:8123") and policy.is_exam_host("127.0.0.1")
    assert policy.for_host("127.0.0.1:8123").category == "exam"
    assert not policy.is_exam_host("127.0.0.1:9999")   # another local port is not the platform
    assert not policy.is_exam_host("pix.fr") and not policy.is_exam_host("evil-app.pix.fr.example")
    assert not Policy.load().is_exam_host("127.0.0.1:8123")  # only with --platform-url


@pytest.mark.parametrize("app, category, label", [
    (dict(process="soffice.bin", window_class="libreoffice-calc", title="notes.ods - LibreOffice Calc"), "tool", "LibreOffice"),
    (dict(process="soffice.bin"), "tool", "LibreOffice"),
    (dict(process="evince", window_class="evince", title="sujet.pdf"), "tool", "evince"),
    (dict(process="okular"), "tool", "okular"),
    (dict(process="pcmanfm", window_class="pcmanfm"), "tool", "pcmanfm"),
    (dict(process="nautilus", window_class="org.gnome.Nautilus"), "tool", "nautilus"),
    (dict(exe="C:\\Windows\\explorer.exe"), "tool", "explorer.exe"),
    (dict(process="Finder"), "tool", "Finder"),
    (dict(process="file-roller"), "tool", "file-roller"), (dict(process="7zFM.exe"), "tool", "7zFM.exe"),
    (dict(process="ark"), "tool", "ark"), (dict(process="gimp-2.10"), "tool", "gimp-2.10"),
    (dict(process="shotcut"), "tool", "shotcut"), (dict(process="kdenlive"), "tool", "kdenlive"),
    (dict(process="chromium", title="Enregistrer le fichier"), "tool", "chromium: Enregistrer le fichier"),
    (dict(process="chromium", title="Save File"), "tool", "chromium: Save File"),
    (dict(process="firefox-esr", title="Enregistrer sous"), "tool", "firefox-esr: Enregistrer sous"),
    (dict(process="chromium", title="Téléchargements - Chromium"), "tool", "chromium: Téléchargements"),
    (dict(process="chromium", title="sujet 3.pdf - Chromium"), "tool", "chromium: sujet 3.pdf"),
    (dict(process="chromium", title="pix - Recherche Google - Chromium"), "search", "chromium: Recherche Google"),
    (dict(process="Discord", window_class="discord", title="#général - Discord"), "communication", "Discord"),
    (dict(process="pidgin", window_class="Pidgin", title="Buddy List"), "communication", "Pidgin"),
    (dict(process="hexchat"), "communication", "HexChat"), (dict(process="dino"), "communication", "Dino"),
    (dict(process="mumble"), "communication", "Mumble"), (dict(process="thunderbird"), "communication", "Thunderbird"),
    (dict(process="xterm", window_class="xterm", title="weechat 4.1"), "communication", "xterm: weechat"),
    (dict(process="firefox-esr", title="Boîte de réception - Gmail — Mozilla Firefox"), "communication", "firefox-esr: Gmail"),
    (dict(process="chromium", title="ChatGPT - Chromium"), "ai_assistant", "chromium: ChatGPT"),
    (dict(process="chromium", title="Le Chat - Mistral AI - Chromium"), "ai_assistant", "chromium: Le Chat"),
    (dict(process="x11vnc"), "remote_control", "VNC"), (dict(process="anydesk"), "remote_control", "AnyDesk"),
    (dict(process="remmina", window_class="org.remmina.Remmina"), "remote_control", "Remmina / KRDC / Connexions"),
    (dict(process="xterm", window_class="xterm", title="tmate"), "remote_control", "xterm: tmate"),
    (dict(process="obs"), "remote_control", "obs"),
    # not known: a notice with the program, whatever its title says
    (dict(process="xterm", window_class="xterm", title="Pix - Certification"), "unknown", "xterm"),
    (dict(process="chromium", title="Pix - Chromium"), "unknown", "chromium"),
    (dict(process="xzoom"), "unknown", "xzoom"), (dict(process="slack"), "unknown", "slack"),
    (dict(), "unknown", "?"),
])
def test_programs_are_judged_by_class_name_then_title(policy, app, category, label):
    judged = policy.for_app(**app)
    assert (judged.category, judged.label) == (category, label)
    assert judged.level == {"tool": "journal", "search": "journal", "unknown": "notice"}.get(category, "alert")
    assert judged.source in ("window", "process") and judged.category != "exam"


def test_source_says_what_decided(policy):
    assert policy.for_app(process="soffice.bin").source == "process"
    assert policy.for_app(window_class="libreoffice-writer").source == "window"
    assert policy.for_app(process="chromium", title="ChatGPT").source == "window"


def test_during_a_focus_required_question_any_departure_is_an_alert(policy):
    assert policy.for_app(process="evince", focus_required=True) == Judgement("tool", "alert", "process", "evince")
    assert policy.for_host("fr.wikipedia.org", focus_required=True).level == "alert"
    assert policy.for_host("app.pix.fr", focus_required=True).level == "journal"  # the exam is not a departure


def test_a_centres_file_goes_first_and_may_change_levels(tmp_path):
    centre = tmp_path / "centre.toml"
    centre.write_text('[levels]\nunknown = "journal"\nsearch = "notice"\n\n'
                      '[[site]]\nlabel = "ENT"\ncategory = "tool"\nhosts = ["ent.example.fr"]\n\n'
                      '[[site]]\ncategory = "communication"\nhosts = ["google.*"]\n\n'
                      '[[app]]\nlabel = "Calculatrice"\ncategory = "tool"\nprocess = ["galculator"]\n')
    policy = Policy.load(centre)
    assert policy.for_host("ent.example.fr").category == "tool"
    assert policy.for_host("www.google.fr").category == "communication"   # the centre's word first
    assert policy.for_host("www.bing.com") == Judgement("search", "notice", "extension", "www.bing.com")
    assert policy.for_app(process="galculator").label == "Calculatrice"
    assert policy.for_app(process="xterm").level == "journal"
    assert policy.for_app(process="pidgin").category == "communication"  # the bundled entries still apply
    centre.write_text('replace = true\n[[app]]\ncategory = "tool"\nprocess = ["xterm"]\n')
    alone = Policy.load(centre)
    assert alone.for_app(process="pidgin").category == "unknown" and alone.for_app(process="xterm").category == "tool"
    assert alone.is_exam_host("app.pix.fr") is False  # replace: the centre names its own platform hosts


BAD = [
    ('[levels]\nexam = "journal"\nchat = "alert"\n', 3, "unknown category “chat”", "catégorie inconnue « chat »"),
    ('[levels]\ncommunication = "loud"\n', 2, "unknown level “loud”", "niveau inconnu « loud »"),
    ('\n[[app]]\ncategory = "tool"\nprocess = ["a"]\n\n[[app]]\ncategory = "tool"\ntitle = ["("]\n', 6,
     "invalid regular expression “(”", "expression régulière invalide « ( »"),
    ('[[site]]\ncategory = "search"\nhost = ["x.org"]\n', 1, "unknown field “host”", "champ inconnu « host »"),
    ('[[site]]\ncategory = "search"\nhosts = ["bad host"]\n', 1, "invalid host pattern", "motif d'hôte invalide"),
    ('[[app]]\ncategory = "tool"\n', 1, "program with no process", "programme sans process"),
    ('[[app]]\ncategory = "tool"\nprocess = "a"\nexe = [1]\n', 1, "bad value for “exe”", "valeur invalide pour « exe »"),
    ('a = 1\n[levels]\n', 1, "unknown field “a”", "champ inconnu « a »"),
    ('[levels\n', 1, "malformed policy file (TOML)", "fichier de politique mal formé"),
]


@pytest.mark.parametrize("text, line, english, french", BAD)
def test_bad_policy_files_name_the_file_and_line(tmp_path, text, line, english, french):
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BadInput) as caught:
        Policy.load(path)
    assert caught.value.where == f"{path}:{line}"
    assert english in caught.value.line("en") and french in caught.value.line("fr")


@pytest.mark.parametrize("lang, words", [("fr", "catégorie inconnue « chat »"), ("en", "unknown category “chat”")])
def test_the_cli_exits_2_with_one_line_naming_file_and_line(tmp_path, lang, words):
    path = tmp_path / "centre.toml"
    path.write_text('[levels]\nchat = "alert"\n', encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "agent", "companion", "--server", "http://127.0.0.1:9",
                          "--room", "X", "--no-window", "--policy", str(path), "--lang", lang],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.stderr
    assert lines[0].startswith(f"examroom: {path}:2: ") and words in lines[0]
    missing = subprocess.run([sys.executable, "-m", "agent", "companion", "--server", "http://127.0.0.1:9",
                              "--room", "X", "--no-window", "--policy", str(tmp_path / "nope.toml"), "--lang", lang],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and str(tmp_path / "nope.toml") in missing.stderr


def test_the_bundled_policy_loads_and_names_every_category():
    policy = Policy.load()
    categories = {a.category for a in policy.apps} | {s.category for g in policy.sites for s in g}
    assert categories == {"tool", "search", "communication", "ai_assistant", "remote_control"}
    assert policy.levels == {"exam": "journal", "tool": "journal", "search": "journal", "unknown": "notice",
                             "communication": "alert", "ai_assistant": "alert", "remote_control": "alert"}
    assert Path(__file__).parent.parent.joinpath("companion/data/policy.toml").is_file()
