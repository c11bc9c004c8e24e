"""HTTPS without a school CA: ``serve --self-signed`` makes the server's own certificate once,
machines trust exactly that file with ``--ca-file``, the dashboard offers it with its fingerprint;
plain HTTP on a network address is warned about. Real servers, a real agent, real Chromium."""
from __future__ import annotations

import hashlib
import os
import re
import socket
import ssl
import stat
import subprocess
import sys
import threading

import pytest
import requests

from supervisor.cli import _loopback
from tests.server_support import PASSWORD, LiveServer, dashboard_login
from tests.support import free_port, need
from tests.test_client import run_check, stored_reports

FINGERPRINT = re.compile(r"SHA-256[^:]*: ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})")


def served_fingerprint(port: int) -> str:
    """The certificate the server presents, as a TLS client sees it (not as the server says)."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        der = tls.getpeercert(binary_form=True)
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def own_server(tmp_path) -> LiveServer:
    home = tmp_path / "server-data"
    cert = home / "tls" / "server.crt"
    return LiveServer(tmp_path, args=("--self-signed", "--lang", "en"), scheme="https", verify=str(cert),
                      env={"EXAMROOM_SERVER_HOME": str(home)})


def test_self_signed_server_trusted_through_its_own_file(tmp_path):
    server = own_server(tmp_path).start()
    cert = tmp_path / "server-data" / "tls" / "server.crt"
    key = tmp_path / "server-data" / "tls" / "server.key"
    try:
        printed = FINGERPRINT.search(server.log_text())
        assert printed, server.log_text()
        assert printed.group(1) == served_fingerprint(server.port)
        assert "New certificate" in server.log_text()
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        # The dashboard's copy is that file, with the same fingerprint.
        info = requests.get(f"{server.url}/api/v1/tls", timeout=5, verify=str(cert)).json()
        assert info == {"self_signed": True, "fingerprint": printed.group(1), "filename": "examroom-server.crt"}
        download = requests.get(f"{server.url}/api/v1/tls/certificate", timeout=5, verify=str(cert))
        assert download.content == cert.read_bytes()
        assert "examroom-server.crt" in download.headers["Content-Disposition"]

        sup = server.login()
        room = server.create_room(sup)
        untrusted = run_check(tmp_path, "pc-1", server.url, room)
        assert untrusted.returncode == 3 and "--ca-file" in untrusted.stderr
        trusted = run_check(tmp_path, "pc-1", server.url, room, "--ca-file", str(download_to(tmp_path, download)))
        assert trusted.returncode == 0, trusted.stderr
        assert stored_reports(server.db, "pc-1") == 2   # the one kept while refused, and the new one
        with pytest.raises(requests.exceptions.SSLError):   # the public roots do not know it
            requests.get(f"{server.url}/api/v1/health", timeout=5)
    finally:
        server.stop()
    # The next start keeps the certificate: machines keep their file.
    again = own_server(tmp_path)
    again.log.write_bytes(b"")
    again.start()
    try:
        assert served_fingerprint(again.port) == printed.group(1)
        assert "New certificate" not in again.log_text()
    finally:
        again.stop()


def test_self_signed_in_the_dashboard(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip install -e '.[test]')")
    need("chromium")
    server = own_server(tmp_path).start()
    try:
        room = server.create_room(server.login())
        printed = FINGERPRINT.search(server.log_text()).group(1)
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_context(ignore_https_errors=True, locale="fr-FR").new_page()
            dashboard_login(page, server.url)
            page.goto(f"{server.url}/#/room/{room}")
            command = page.locator("code.cmd").filter(has_text="examroom companion")
            sync_api.expect(command.first).to_contain_text("--ca-file examroom-server.crt")
            sync_api.expect(page.locator("code.fingerprint").first).to_have_text(printed)
            sync_api.expect(page.locator("a.cert-download").first).to_contain_text("Certificat du serveur")
            browser.close()
    finally:
        server.stop()


def test_self_signed_refuses_a_certificate_too_and_plain_http_on_the_network_is_warned(tmp_path):
    both = subprocess.run([sys.executable, "-m", "agent", "serve", "--self-signed", "--cert", "a.pem", "--key", "b.pem",
                           "--lang", "fr", "--db", str(tmp_path / "x.sqlite3")],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "EXAMROOM_SERVER_HOME": str(tmp_path), "EXAMROOM_ADMIN_PASSWORD": PASSWORD})
    assert both.returncode == 2 and "--self-signed" in both.stderr and "Traceback" not in both.stderr
    assert len(both.stderr.strip().splitlines()) <= 2, both.stderr

    assert _loopback("127.0.0.1") and _loopback("::1") and _loopback("[::1]") and _loopback("localhost")
    assert not _loopback("0.0.0.0") and not _loopback("192.168.1.10") and not _loopback("salle-b12")
    port = free_port()
    env = {**os.environ, "EXAMROOM_SERVER_HOME": str(tmp_path), "EXAMROOM_ADMIN_PASSWORD": PASSWORD}
    proc = subprocess.Popen([sys.executable, "-m", "agent", "serve", "--host", "0.0.0.0", "--port", str(port),
                             "--lang", "fr", "--db", str(tmp_path / "y.sqlite3")],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    killer = threading.Timer(30, proc.kill)   # a warning never printed ends the stream, not the suite
    killer.start()
    try:
        lines = []
        for line in proc.stderr:
            lines.append(line)
            if "HTTP en clair" in line:
                break
        assert any("HTTP en clair sur le réseau (0.0.0.0)" in l and "--self-signed" in l for l in lines), lines
    finally:
        killer.cancel()
        proc.terminate()
        proc.wait(10)


def download_to(tmp_path, download):
    path = tmp_path / "examroom-server.crt"
    path.write_bytes(download.content)
    return path
