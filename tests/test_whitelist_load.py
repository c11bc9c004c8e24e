"""Whitelist files (toml, txt, xlsx): good ones load, bad ones are one line naming the file
and line with exit 2 - through the real command line, no traceback."""
from __future__ import annotations

import subprocess
import sys

import openpyxl
import pytest

from core.errors import BadInput
from whitelist.load import load, normalize_url


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "agent", *args], capture_output=True, text=True, timeout=60)


def _xlsx(path, rows, title="URLs"):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


@pytest.mark.parametrize("text, url", [
    ("pix.fr", "https://pix.fr/"),
    ("https://app.pix.fr", "https://app.pix.fr/"),
    ("HTTP://Ok.Test:8080/a?b=1", "http://ok.test:8080/a?b=1"),
    ("1024pix.github.io/simulateur/", "https://1024pix.github.io/simulateur/"),
])
def test_normalize_url(text, url):
    assert normalize_url(text, "f:1")[0] == url


@pytest.mark.parametrize("text", ["not a url", "ftp://pix.fr/", "pix", "http://", "https://pix..fr/", "-bad-.fr"])
def test_not_a_url_names_the_line(text):
    with pytest.raises(BadInput) as err:
        normalize_url(text, "list.txt:7")
    assert err.value.where == "list.txt:7"


def test_bundled_list_has_the_platform_hosts_with_sources():
    entries = load(None)
    hosts = {e.host for e in entries}
    for host in ("app.pix.fr", "pix.fr", "pix.org", "orga.pix.fr", "certif.pix.fr", "epreuves.pix.fr",
                 "dl.pix.fr", "assets.pix.org", "cloud.pix.fr", "support.pix.org", "1024pix.github.io"):
        assert host in hosts
    assert all(e.source and e.category for e in entries)
    assert any(not e.required for e in entries) and any(e.required for e in entries)


def test_three_formats_load(tmp_path):
    (tmp_path / "a.toml").write_text('[[url]]\nurl = "pix.fr"\nrequired = false\nnote = "site"\n\n'
                                     '[[url]]\nurl = "https://app.pix.fr/"\ncategory = "plateforme"\n')
    (tmp_path / "a.txt").write_text("# the list\npix.fr\n\nhttps://app.pix.fr/  # app\n")
    _xlsx(tmp_path / "a.xlsx", [["Nom", "Adresse"], ["Pix", "pix.fr"], ["App", "https://app.pix.fr/"], [None, None]])
    for name in ("a.toml", "a.txt", "a.xlsx"):
        entries = load(tmp_path / name)
        assert [e.url for e in entries] == ["https://pix.fr/", "https://app.pix.fr/"], name
    toml = load(tmp_path / "a.toml")
    assert toml[0].required is False and toml[1].category == "plateforme"
    # Without a URL/Adresse title, the first column holds the URLs.
    _xlsx(tmp_path / "b.xlsx", [["pix.fr", "comment"], ["orga.pix.fr", ""]])
    assert [e.host for e in load(tmp_path / "b.xlsx")] == ["pix.fr", "orga.pix.fr"]


def test_malformed_files_exit_2_with_file_and_line(tmp_path):
    cases = {
        "syntax.toml": ('[[url]]\nurl = "pix.fr"\n\n[[url]]\nurl = "unterminated\n', ":5"),
        "badurl.toml": ('[[url]]\nurl = "pix.fr"\n\n[[url]]\ncategory = "x"\nurl = "not a url"\n', ":6"),
        "badkey.toml": ('[[url]]\nurl = "pix.fr"\nrequierd = true\n', ":1"),
        "badreq.toml": ('[[url]]\nurl = "pix.fr"\nrequired = "yes"\n', ":1"),
        "list.txt": ("pix.fr\n# comment\n\nce n'est pas une adresse\n", ":4"),
    }
    for name, (text, line) in cases.items():
        (tmp_path / name).write_text(text)
    _xlsx(tmp_path / "sheet.xlsx", [["URL"], ["pix.fr"], ["pas une url"]], title="Sites Pix")
    cases["sheet.xlsx"] = (None, ":3 [Sites Pix]")
    (tmp_path / "broken.xlsx").write_text("this is not a zip file")
    cases["broken.xlsx"] = (None, "")
    cases["missing.txt"] = (None, "")
    for name, (_text, line) in cases.items():
        path = tmp_path / name
        for args in (["whitelist", "show", str(path)], ["check", "--only", "whitelist", "--whitelist", str(path)]):
            done = _run(*args)
            assert done.returncode == 2, (name, args, done.stderr)
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
            assert lines[0].startswith(f"examroom: {path}{line}"), (name, lines[0])
            assert done.stdout == "", "nothing runs before the input is known to be good"


@pytest.mark.parametrize("value", ["127.0.0.1:99999", "bad:port:x", "10.0.0.53:", "[::1]x"])
def test_bad_dns_flag_is_exit_2(value):
    done = _run("check", "--only", "whitelist", "--dns", value, "--lang", "en")
    assert done.returncode == 2 and done.stderr.startswith(f"examroom: --dns: bad DNS server '{value}'")
    assert len(done.stderr.strip().splitlines()) == 1 and done.stdout == ""


def test_import_xlsx_to_toml_round_trip(tmp_path):
    source = _xlsx(tmp_path / "URL Pix (white list).xlsx",
                   [["Catégorie", "URL"], ["plateforme", "app.pix.fr"], ["recherche", "https://www.qwant.com/"]])
    target = tmp_path / "liste.toml"
    done = _run("whitelist", "import", str(source), "-o", str(target), "--lang", "fr")
    assert done.returncode == 0, done.stderr
    assert "2 adresses écrites" in done.stdout
    entries = load(target)
    assert [e.url for e in entries] == ["https://app.pix.fr/", "https://www.qwant.com/"]
    assert entries[0].source == source.name
    shown = _run("whitelist", "show", str(target), "--lang", "en")
    assert shown.returncode == 0 and "https://www.qwant.com/" in shown.stdout and "2 addresses" in shown.stdout
    bad = _run("whitelist", "import", str(source), "-o", str(tmp_path / "out.txt"))
    assert bad.returncode == 2 and "out.txt" in bad.stderr


def test_bundled_list_follows_the_platform_code():
    """app.pix.org and images.pix.fr are in the platform's public code (issue 13); certif.pix.fr
    is the supervisor's application, not needed on candidates' machines; every entry keeps its source."""
    entries = {e.host: e for e in load(None)}
    assert entries["app.pix.org"].required and entries["images.pix.fr"].required
    assert "current-domain.js" in entries["app.pix.org"].source
    assert "images.pix.fr" in entries["images.pix.fr"].source
    assert entries["certif.pix.fr"].required is False
    assert all(e.source for e in entries.values())
