"""Check ``pix_companion``: profiles and enterprise policies shaped as the browsers write
them (Chromium Preferences + Extensions/, Firefox profiles.ini + extensions.json,
policies.json, Chrome/Edge registry policies), then a real Chromium that loads an unpacked
"Pix Companion" through the real ``examroom check``."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from checks import pix_companion
from checks.base import CheckContext
from checks.policy import Policy
from core.host import Host
from core.result import Status

PIX_ID = "pgpjajcmfbfdmcgjlbiengidaknopaok"
DEBIAN_STATUS = ("Package: firefox-esr\nStatus: install ok installed\nVersion: 140.5.0esr-1~deb12u1\n\n"
                 "Package: chromium\nStatus: install ok installed\nVersion: 156.0.8078.114-1~deb12u1\n\n")


def _write(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")


def linux_lab(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    _write(root / "var/lib/dpkg/status", DEBIAN_STATUS)
    home = root / "home/eleve"
    profile = home / ".config/chromium/Default"
    _write(profile / "Preferences", {"extensions": {"settings": {
        PIX_ID: {"state": 1, "disable_reasons": [], "location": 1, "path": f"{PIX_ID}/3.2.1_0",
                 "from_webstore": True}}}, "profile": {"name": "Personne 1"}})
    _write(profile / f"Extensions/{PIX_ID}/3.2.1_0/manifest.json",
           {"manifest_version": 3, "name": "Pix Companion", "version": "3.2.1"})
    ff = home / ".mozilla/firefox"
    _write(ff / "profiles.ini", "[Install3B6073811A6ABF12]\nDefault=k2x9.default-esr\nLocked=1\n\n"
                                "[Profile0]\nName=default-esr\nIsRelative=1\nPath=k2x9.default-esr\nDefault=1\n\n"
                                "[General]\nStartWithLastProfile=1\nVersion=2\n")
    _write(ff / "k2x9.default-esr/extensions.json", {"schemaVersion": 36, "addons": [
        {"id": "companion@pix.fr", "type": "extension", "location": "app-profile", "version": "3.2.1",
         "active": False, "userDisabled": True, "appDisabled": False,
         "defaultLocale": {"name": "Pix Companion", "creator": "Pix"}},
        {"id": "formautofill@mozilla.org", "type": "extension", "location": "app-builtin", "active": True}]})
    return root


def ctx(host: Host, lang: str = "en", **policy) -> CheckContext:
    return CheckContext(host=host, lang=lang, policy=Policy(**policy))


def test_enabled_in_chromium_disabled_in_firefox_esr(tmp_path):
    host = Host.fake("linux", linux_lab(tmp_path), env={"PATH": "/usr/bin"})
    result = pix_companion.run(ctx(host))
    pix = {i.browser: i for i in result.items if i.extension == "Pix Companion"}
    assert pix["Chromium"].status == Status.ok and pix["Chromium"].state == "installed"
    assert pix["Firefox ESR"].status == Status.fail and pix["Firefox ESR"].state == "disabled"
    assert result.status == Status.fail and "Pix Companion missing or disabled in Firefox ESR" in result.summary
    assert "/etc/firefox/policies/policies.json" in result.remediation
    assert '"companion@pix.fr": {"installation_mode": "force_installed"' in result.remediation


def test_firefox_policy_forces_it_and_a_chromium_policy_blocks_it(tmp_path):
    root = linux_lab(tmp_path)
    _write(root / "etc/firefox/policies/policies.json", {"policies": {"ExtensionSettings": {"companion@pix.fr": {
        "installation_mode": "force_installed",
        "install_url": "https://addons.mozilla.org/firefox/downloads/latest/pix-companion/latest.xpi"}}}})
    _write(root / "etc/chromium/policies/managed/lycee.json", {"ExtensionInstallBlocklist": ["*"]})
    result = pix_companion.run(ctx(Host.fake("linux", root, env={"PATH": "/usr/bin"}), lang="fr"))
    pix = {i.browser: i for i in result.items if i.extension == "Pix Companion"}
    assert pix["Firefox ESR"].state == "forced" and "/etc/firefox/policies/policies.json" in pix["Firefox ESR"].detail
    assert pix["Chromium"].state == "blocked_all" and pix["Chromium"].status == Status.fail
    assert "Pix Companion absente ou désactivée dans Chromium" in result.summary
    assert "/etc/chromium/policies/managed/pix.json" in result.remediation
    assert f'"ExtensionInstallForcelist": ["{PIX_ID};https://clients2.google.com/service/update2/crx"]' in result.remediation
    # A Chromium force-list allows it again, an Extensions.Install URL works for Firefox too.
    _write(root / "etc/chromium/policies/managed/pix.json", {"ExtensionInstallForcelist": [
        f"{PIX_ID};https://clients2.google.com/service/update2/crx"]})
    (root / "etc/firefox/policies/policies.json").write_text(json.dumps({"policies": {"Extensions": {"Install": [
        "https://addons.mozilla.org/firefox/downloads/latest/pix-companion/latest.xpi"]}}}))
    again = pix_companion.run(ctx(Host.fake("linux", root, env={"PATH": "/usr/bin"})))
    assert {i.browser: i.state for i in again.items if i.extension == "Pix Companion"} == {
        "Firefox ESR": "forced", "Chromium": "forced"}


def test_a_centre_adds_its_own_build_id_in_the_policy(tmp_path):
    root = linux_lab(tmp_path)
    ff = root / "home/eleve/.mozilla/firefox/k2x9.default-esr/extensions.json"
    ff.write_text(json.dumps({"addons": [{"id": "pix-companion@academie.example", "type": "extension",
                                          "active": True, "defaultLocale": {"name": "Companion (académie)"}}]}))
    host = Host.fake("linux", root, env={"PATH": "/usr/bin"})
    assert pix_companion.run(ctx(host)).status == Status.fail
    ids = ["companion@pix.fr", "pix-companion@academie.example"]
    result = pix_companion.run(ctx(Host.fake("linux", root, env={"PATH": "/usr/bin"}), pix_companion_firefox_ids=ids))
    assert {i.browser: i.state for i in result.items if i.extension == "Pix Companion"}["Firefox ESR"] == "installed"


def test_policy_file_with_extension_ids_loads(tmp_path):
    from checks.policy import load_policy

    path = tmp_path / "policy.toml"
    path.write_text('pix_companion_chromium_ids = ["pgpjajcmfbfdmcgjlbiengidaknopaok", "abcdefghijklmnopabcdefghijklmnop"]\n')
    assert load_policy(path).pix_companion_chromium_ids[1] == "abcdefghijklmnopabcdefghijklmnop"
    assert Policy().pix_companion_firefox_ids == ["companion@pix.fr"]


UNINSTALL = "HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall"


def test_windows_chrome_forcelist_and_edge_missing(tmp_path):
    registry = {
        f"{UNINSTALL}\\Google Chrome": {"DisplayName": "Google Chrome", "DisplayVersion": "156.0.7444.60",
                                        "InstallLocation": "C:\\Program Files\\Google\\Chrome\\Application"},
        f"{UNINSTALL}\\Microsoft Edge": {"DisplayName": "Microsoft Edge", "DisplayVersion": "156.0.3595.94",
                                         "InstallLocation": "C:\\Program Files (x86)\\Microsoft\\Edge\\Application"},
        "HKLM\\SOFTWARE\\Policies\\Google\\Chrome\\ExtensionInstallForcelist": {
            "1": f"{PIX_ID};https://clients2.google.com/service/update2/crx"},
        # As the platform's own install script writes it for Firefox: ExtensionSettings as JSON.
        "HKLM\\SOFTWARE\\Policies\\Mozilla\\Firefox": {"ExtensionSettings": [json.dumps({"companion@pix.fr": {
            "installation_mode": "force_installed", "private_browsing": True}})]},
    }
    host = Host.fake("windows", tmp_path, registry=registry)
    result = pix_companion.run(ctx(host, lang="fr"))
    pix = {i.browser: i for i in result.items if i.extension == "Pix Companion"}
    assert pix["Chrome"].state == "forced" and pix["Edge"].state == "missing"
    assert result.status == Status.fail and "dans Edge" in result.summary
    assert ('reg add "HKLM\\SOFTWARE\\Policies\\Microsoft\\Edge\\ExtensionInstallForcelist" /v 1 /t REG_SZ '
            f'/d "{PIX_ID};https://clients2.google.com/service/update2/crx" /f') in result.remediation


def test_safari_only_mac_cannot_run_the_certification(tmp_path):
    import plistlib

    plist = tmp_path / "Applications/Safari.app/Contents/Info.plist"
    plist.parent.mkdir(parents=True)
    plist.write_bytes(plistlib.dumps({"CFBundleIdentifier": "com.apple.Safari", "CFBundleShortVersionString": "27.1"}))
    result = pix_companion.run(ctx(Host.fake("macos", tmp_path)))
    assert result.status == Status.fail and "Safari" in result.summary and "Firefox, Chrome or Edge" in result.remediation


def test_chromium_id_from_a_manifest_key():
    # The id Chrome shows for an unpacked extension with this public key (documented example key).
    key = ("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAreEv6fLI8/DyRB9Kc0LUTR0eUto/8L0xm4EKcRhpRpRyBDHBz78yAN1+b9o3wUz"
           "wsxy6tg8QoMX6IHsB3wrs4IcksbQXTRxfFyDuoD8NmQkiMJHLUQNfAJQ0aUBdKnNSZrffEKtBMX0HltMKH26IjaZd1eTINhY5/pqNCMy7Vm"
           "j+CnER3ikuw4pkkzwmG1h9yvP3L4jAx2uvUN1wThfbF3CijC35W/GH4LcVWhqSRabNbkZ3S8MwfmNvhL+pLT3jKIfppN789FYyzffkiinEO"
           "BV7a0Mn/lFsxQDzQvy4G6/EWwj8nFqvYYn2QZ08HnPANYr650A80a6IOaPnY4nD1QIDAQAB")
    ext_id = pix_companion.chromium_id_from_key(key)
    assert len(ext_id) == 32 and set(ext_id) <= set("abcdefghijklmnop")


@pytest.fixture
def chromium_with_pix(tmp_path):
    chromium = shutil.which("chromium")
    if not chromium:
        pytest.skip("chromium not installed (CI installs it: .ci/run)")
    home = tmp_path / "home"
    ext = tmp_path / "pix-companion"
    _write(ext / "manifest.json", {"manifest_version": 3, "name": "Pix Companion", "version": "1.0.0",
                                   "background": {"service_worker": "bg.js"}})
    _write(ext / "bg.js", "")
    user_data = home / ".config/chromium"
    proc = subprocess.Popen([chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                             f"--user-data-dir={user_data}", f"--load-extension={ext}",
                             "--disable-features=DisableLoadExtensionCommandLineSwitch", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "HOME": str(home)})
    prefs = user_data / "Default/Preferences"
    deadline = time.monotonic() + 60
    try:
        while str(ext) not in (prefs.read_text(errors="replace") if prefs.is_file() else ""):
            assert proc.poll() is None and time.monotonic() < deadline, "chromium did not record the extension"
            time.sleep(0.2)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    return home


def test_real_chromium_profile_through_examroom_check(chromium_with_pix, tmp_path):
    env = {**os.environ, "HOME": str(chromium_with_pix), "EXAMROOM_HOME": str(tmp_path / "state")}
    env.pop("XDG_CONFIG_HOME", None)
    done = subprocess.run([sys.executable, "-m", "agent", "check", "--only", "pix_companion", "--lang", "en",
                           "--json", "-"], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr, done.stderr
    result = next(c for c in json.loads(done.stdout)["checks"] if c["id"] == "pix_companion")
    pix = {i["browser"]: i for i in result["items"] if i["extension"] == "Pix Companion"}
    assert pix["Chromium"]["status"] == "ok" and pix["Chromium"]["state"] == "installed", pix
    if "Firefox ESR" in pix:  # no Firefox profile in this fresh home: missing, and the fix says how
        assert pix["Firefox ESR"]["state"] == "missing" and result["status"] == "fail"
        assert "companion@pix.fr" in result["remediation"]
