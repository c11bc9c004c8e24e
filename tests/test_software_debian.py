"""Debian's own layout: firefox-esr's ``/usr/bin/firefox`` wrapper (a dpkg diversion), links
and alternatives, versions from the package database; then the real packages of this machine
through the real ``examroom check``."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from checks import browser
from checks.base import CheckContext
from core.host import Host
from checks.probes.parsing import upstream_version
from checks.probes.software import inventory
from core.result import Status

# /usr/bin/firefox as firefox-esr 115+ ships it in Debian 12 (byte for byte).
DEBIAN_WRAPPER = '#!/bin/sh\n\nFIREFOX="$(command -v firefox)"\n[ -x "$FIREFOX.real" ] && exec "$FIREFOX.real" "$@"\n\nexec firefox-esr "$@"\n'

STATUS = """Package: firefox-esr
Status: install ok installed
Priority: optional
Section: web
Installed-Size: 251201
Maintainer: Maintainers of Mozilla-related packages <team+pkg-mozilla@tracker.debian.org>
Architecture: amd64
Version: 140.5.0esr-1~deb12u1
Provides: gnome-www-browser, www-browser
Description: Mozilla Firefox web browser - Extended Support Release (ESR)

Package: libreoffice-common
Status: install ok installed
Architecture: all
Source: libreoffice
Version: 4:7.4.7-1+deb12u9
Description: office productivity suite -- arch-independent files

"""
MOZILLA_FIREFOX = """Package: firefox
Status: install ok installed
Architecture: amd64
Version: 145.0.1~build1
Description: Mozilla Firefox

"""


def _file(path: Path, text: str = "", mode: int = 0o755) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def debian(tmp_path: Path, *, mozilla_deb: bool = False) -> Host:
    root = tmp_path / "root"
    _file(root / "usr/bin/firefox", DEBIAN_WRAPPER)
    _file(root / "usr/lib/firefox-esr/firefox-esr", "\x7fELF\0binary", 0o755)
    (root / "usr/bin/firefox-esr").symlink_to("../lib/firefox-esr/firefox-esr")
    # update-alternatives: x-www-browser -> /etc/alternatives/x-www-browser -> /usr/bin/firefox-esr
    (root / "etc/alternatives").mkdir(parents=True)
    (root / "etc/alternatives/x-www-browser").symlink_to("/usr/bin/firefox-esr")
    (root / "usr/bin/x-www-browser").symlink_to("/etc/alternatives/x-www-browser")
    info = root / "var/lib/dpkg/info"
    _file(info / "firefox-esr.list", "/.\n/usr\n/usr/bin\n/usr/bin/firefox\n/usr/bin/firefox-esr\n"
          "/usr/lib/firefox-esr\n/usr/lib/firefox-esr/firefox-esr\n", 0o644)
    _file(root / "var/lib/dpkg/diversions", "/usr/bin/firefox\n/usr/bin/firefox.real\nfirefox-esr\n", 0o644)
    status = STATUS
    if mozilla_deb:  # packages.mozilla.org's firefox: its /usr/bin/firefox is diverted to firefox.real
        status += MOZILLA_FIREFOX
        _file(root / "usr/lib/firefox/firefox", "\x7fELF\0binary", 0o755)
        (root / "usr/bin/firefox.real").symlink_to("/usr/lib/firefox/firefox")
        _file(info / "firefox.list", "/usr\n/usr/bin\n/usr/bin/firefox\n/usr/lib/firefox\n/usr/lib/firefox/firefox\n", 0o644)
    _file(root / "var/lib/dpkg/status", status, 0o644)
    # Any --version run would answer with the wrong thing: the test proves none is needed.
    return Host.fake("linux", root, env={"PATH": "/usr/local/bin:/usr/bin:/bin"},
                     commands={"firefox": "Mozilla Firefox 1.0\n", "firefox-esr": "Mozilla Firefox 1.0\n"})


def test_debian_firefox_wrapper_is_firefox_esr_once(tmp_path):
    inv = inventory(debian(tmp_path))
    browsers = [(p.name, p.version) for p in inv.of_kind("browser")]
    assert browsers == [("Firefox ESR", "140.5.0")]
    esr = inv.of_kind("browser")[0]
    assert esr.path in ("/usr/bin/firefox", "/usr/bin/firefox-esr") and "dpkg" in esr.sources
    assert inv.stats["version_commands"] == 0
    result = browser.run(CheckContext(host=debian(tmp_path / "again"), lang="en"))
    assert result.status == Status.ok and result.summary == "Firefox ESR 140.5.0: up to date"
    assert len(result.items) == 1


def test_mozilla_firefox_deb_beside_firefox_esr_is_each_itself(tmp_path):
    inv = inventory(debian(tmp_path, mozilla_deb=True))
    assert sorted((p.name, p.version) for p in inv.of_kind("browser")) == [
        ("Firefox", "145.0.1"), ("Firefox ESR", "140.5.0")]


def test_wrapper_outside_any_package_leads_to_the_real_program(tmp_path):
    """A script in /usr/local/bin (a school's own launcher) that execs a Firefox in /opt:
    the program is asked for its version once; the answer is cached on real hosts only."""
    root = tmp_path / "root"
    _file(root / "usr/local/bin/firefox", '#!/bin/sh\nexport MOZ_ENABLE_WAYLAND=1\nexec /opt/firefox/firefox "$@"\n')
    _file(root / "opt/firefox/firefox", "\x7fELF\0")
    host = Host.fake("linux", root, env={"PATH": "/usr/local/bin:/usr/bin"},
                     commands={"firefox": "Mozilla Firefox 146.0\n"})
    from checks.probes.linuxpkg import resolve

    assert resolve(host, root / "usr/local/bin/firefox") == root / "opt/firefox/firefox"
    inv = inventory(host)
    assert [(p.name, p.version) for p in inv.of_kind("browser")] == [("Firefox", "146.0")]
    assert inv.stats["version_commands"] == 1


def test_version_cache_is_keyed_by_size_and_mtime(tmp_path):
    from checks.probes.versioncache import VersionCache

    program = tmp_path / "prog"
    program.write_text("v1")
    cache = VersionCache(tmp_path / "cache.json")
    cache.put(program, "Prog 1.0")
    cache.save()
    again = VersionCache(tmp_path / "cache.json")
    assert again.get(program) == "Prog 1.0"
    program.write_text("version two")  # an upgrade: other size, other mtime
    assert again.get(program) is None
    (tmp_path / "cache.json").write_text("{not json")
    assert VersionCache(tmp_path / "cache.json").get(program) is None  # a damaged cache is no cache


# The Debian packages CI installs (.ci/run), each reported once, with the package's version.
DEBIAN_PACKAGES = {"firefox-esr": "Firefox ESR", "chromium": "Chromium", "libreoffice-core": "LibreOffice",
                   "evince": "Evince", "gimp": "GIMP", "shotcut": "Shotcut", "kdenlive": "Kdenlive"}


def _dpkg_versions() -> dict[str, str]:
    if not shutil.which("dpkg-query"):
        return {}
    done = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\t${Version}\t${db:Status-Abbrev}\n",
                           *DEBIAN_PACKAGES], capture_output=True, text=True)
    found = {}
    for line in done.stdout.splitlines():
        name, version, state = line.split("\t")
        if state.startswith("ii"):
            found[name] = version
    return found


def test_examroom_check_reports_each_debian_package_once_with_its_version_and_date(tmp_path):
    installed = _dpkg_versions()
    missing = sorted(set(DEBIAN_PACKAGES) - set(installed))
    if missing:
        pytest.skip(f"Debian packages not installed here: {', '.join(missing)} (CI installs them: .ci/run)")
    env = {**os.environ, "EXAMROOM_HOME": str(tmp_path), "NO_COLOR": "1"}
    done = subprocess.run([sys.executable, "-m", "agent", "check", "--only",
                           "browser,pdf_reader,office_suite,image_editor,video_editor", "--lang", "en",
                           "--json", str(tmp_path / "r.json")], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode in (0, 1), done.stderr
    checks = {c["id"]: c for c in json.loads((tmp_path / "r.json").read_text())["checks"]}
    where = {"firefox-esr": "browser", "chromium": "browser", "libreoffice-core": "office_suite",
             "evince": "pdf_reader", "gimp": "image_editor", "shotcut": "video_editor", "kdenlive": "video_editor"}
    from checks import releases

    for package, name in DEBIAN_PACKAGES.items():
        items = [i for i in checks[where[package]]["items"] if i["name"] == name]
        assert len(items) == 1, (package, checks[where[package]]["items"])
        assert items[0]["version"] == upstream_version(installed[package]), package
        if package in ("firefox-esr", "chromium", "libreoffice-core"):  # the ones with release tables
            series = {"firefox-esr": "firefox", "chromium": "chrome", "libreoffice-core": "libreoffice"}[package]
            expected, how = releases.lookup(series, items[0]["version"])
            assert how != "unknown"
            assert items[0]["released"] == (expected.isoformat() if expected and how != "newer" else None)
    # Debian 12's LibreOffice 7.4 is old, and apt would install the same: the fix says so
    # and points to what does pass (Flathub, LibreOffice's packages), never to Microsoft 365.
    office = checks["office_suite"]
    if office["status"] == "fail" and any(i["age"] == "old" for i in office["items"] if i["name"] == "LibreOffice"):
        assert "org.libreoffice.LibreOffice" in office["remediation"], office["remediation"]
        assert "Microsoft 365" not in office["remediation"]
    # Every one of them is dated by its package: no program had to be asked for --version.
    from checks.probes.software import scan

    assert scan(Host.current()).stats["version_commands"] == 0
    # Nothing else claims to be a second Firefox (the /usr/bin/firefox wrapper).
    assert [i["name"] for i in checks["browser"]["items"]].count("Firefox") == 0


def test_alternatives_links_lead_to_the_package_file(tmp_path):
    from checks.probes.linuxpkg import read_owners, resolve

    host = debian(tmp_path)
    real = resolve(host, host.path("/usr/bin/x-www-browser"))  # /etc/alternatives -> firefox-esr
    assert real == host.path("/usr/lib/firefox-esr/firefox-esr")
    owners = read_owners(host, ["firefox-esr"])
    assert owners.owner("/usr/lib/firefox-esr/firefox-esr") == "firefox-esr"
    assert owners.owner("/usr/bin/firefox") == "firefox-esr"  # the diverting package's wrapper


def test_a_firefox_in_opt_beside_the_distribution_package_is_a_second_install(tmp_path):
    host = debian(tmp_path, mozilla_deb=True)
    opt = host.path("/opt/firefox/firefox")
    _file(opt, "\x7fELF\0")
    _file(host.path("/usr/local/bin/firefox"), '#!/bin/sh\nexec /opt/firefox/firefox "$@"\n')
    host = Host.fake("linux", host.root, env={"PATH": "/usr/local/bin:/usr/bin:/bin"},
                     commands={"firefox": "Mozilla Firefox 115.0\n"})
    inv = inventory(host)
    assert sorted((p.name, p.version) for p in inv.of_kind("browser")) == [
        ("Firefox", "115.0"), ("Firefox", "145.0.1"), ("Firefox ESR", "140.5.0")]
    result = browser.run(CheckContext(host=host, lang="en"))
    old = next(i for i in result.items if i.version == "115.0")
    assert old.status == Status.fail and "/usr/local/bin/firefox" in old.detail and result.status == Status.warn
