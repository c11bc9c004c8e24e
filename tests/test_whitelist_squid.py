"""The probe through a real Squid (Debian's squid, as in many school networks): its real
block page, its 407 and its own error codes are classified, not just our imitation."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import trustme

from core.host import Host
from tests.netservers import HttpServer
from tests.support import free_port, need
from whitelist.probe import ProbeSettings, probe_all
from whitelist.proxy import detect

# md5-crypt of "secret" (basic_ncsa_auth reads it): user "eleve".
PASSWD = "eleve:$1$examroom$3NSg8Z3BYt.yG171wFfrc1\n"
NCSA = "/usr/lib/squid/basic_ncsa_auth"


@pytest.fixture(scope="module")
def squid():
    need("squid")
    if not os.path.exists(NCSA):
        pytest.skip(f"needs {NCSA} (Debian package squid)")
    # Not under pytest's tmp (mode 0700 parents): squid drops root for the 'proxy' user,
    # which must read the hosts and passwd files.
    folder = Path(tempfile.mkdtemp(prefix="examroom-squid-"))
    folder.chmod(0o777)
    (folder / "hosts").write_text("127.0.0.1 ok.test blocked.test private.test tls.test\n")
    (folder / "passwd").write_text(PASSWD)
    port = free_port()
    (folder / "squid.conf").write_text(f"""
http_port 127.0.0.1:{port}
pid_filename {folder}/squid.pid
cache_log {folder}/cache.log
access_log none
cache deny all
coredump_dir {folder}
hosts_file {folder}/hosts
dns_nameservers 127.0.0.1
dns_timeout 2 seconds
shutdown_lifetime 0 seconds
auth_param basic program {NCSA} {folder}/passwd
auth_param basic realm lycee
acl blocked dstdomain .blocked.test
acl private dstdomain .private.test
acl authed proxy_auth REQUIRED
http_access deny blocked
http_access deny private !authed
http_access allow all
""")
    process = subprocess.Popen([shutil.which("squid"), "-N", "-f", str(folder / "squid.conf")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is not None:
                pytest.fail("squid exited: " + (folder / "cache.log").read_text()[-2000:])
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("squid did not start within 20 s")
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)
    shutil.rmtree(folder, ignore_errors=True)


def test_real_squid_answers_are_classified(squid, tmp_path):
    ca = trustme.CA()
    cafile = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    site, tls = HttpServer({"*": "ok"}), HttpServer(cert=ca.issue_cert("tls.test"))
    try:
        host = Host.fake("linux", tmp_path, env={"HTTP_PROXY": squid, "HTTPS_PROXY": squid})
        settings = ProbeSettings(timeout=5, proxies=detect(host), cafile=str(cafile))
        urls = {
            f"http://ok.test:{site.port}/": "ok",
            f"https://tls.test:{tls.port}/": "ok",
            f"http://blocked.test:{site.port}/": "blocked",
            f"https://blocked.test:{tls.port}/": "blocked",
            f"http://private.test:{site.port}/": "proxy_auth_required",
            f"https://private.test:{tls.port}/": "proxy_auth_required",
            f"http://ok.test:{free_port()}/": "connect_failed",
        }
        outcomes = probe_all(list(urls), settings)
        assert {o.url: o.reason for o in outcomes} == urls, [(o.url, o.detail) for o in outcomes]
        blocked = outcomes[2]
        assert blocked.product == "Squid" and "ERR_ACCESS_DENIED" in blocked.detail and blocked.http_status == 403
        assert "ERR_CONNECT_FAIL" in outcomes[6].detail
        # With the credentials in the proxy URL, the authenticated path goes through.
        user = squid.replace("http://", "http://eleve:secret@")
        host = Host.fake("linux", tmp_path, env={"HTTP_PROXY": user, "HTTPS_PROXY": user})
        authed = probe_all([f"http://private.test:{site.port}/", f"https://private.test:{tls.port}/"],
                           ProbeSettings(timeout=5, proxies=detect(host), cafile=str(cafile)))
        assert [o.reason for o in authed] == ["ok", "tls_error"]  # the TLS server's name is tls.test
    finally:
        site.close()
        tls.close()
