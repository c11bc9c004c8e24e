"""The examroom extension's package data, its native messaging host manifests, and who may
speak on the companion's extension channel (a real native host process, real sockets)."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import struct
import subprocess
import sys
import threading
from pathlib import Path

from click.testing import CliRunner

from agent.cli import cli
from companion.extchannel import EXTENSION_ID, GECKO_ID, ExtensionChannel, PeerRefused, verify_peer
from companion.hostinstall import HOST_NAME, install, targets
from tests.companion_support import wait_for


def test_extension_path_prints_a_folder_with_a_manifest_for_both_families() -> None:
    for family in ("chromium", "firefox"):
        result = CliRunner().invoke(cli, ["companion", "extension-path", "--browser", family])
        assert result.exit_code == 0, result.output
        folder = Path(result.output.strip())
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["manifest_version"] == 3
        for script in ([manifest["background"]["service_worker"]] + manifest["background"]["scripts"]
                       + manifest["content_scripts"][0]["js"]):
            assert (folder / script).is_file(), script
        assert manifest["browser_specific_settings"]["gecko"]["id"] == GECKO_ID
        # Chromium's id is the first 128 bits of the key's SHA-256, written with the letters a-p
        digest = hashlib.sha256(base64.b64decode(manifest["key"])).hexdigest()[:32]
        assert "".join(chr(ord("a") + int(c, 16)) for c in digest) == EXTENSION_ID
        # Chromium refuses to load an extension holding names starting with "_" (__pycache__)
        assert not [p for p in folder.rglob("*") if p.name.startswith("_")]
    bad = CliRunner().invoke(cli, ["companion", "extension-path", "--browser", "safari"])
    assert bad.exit_code == 2


def test_host_manifests_per_browser_and_the_launcher(tmp_path: Path) -> None:
    udd = tmp_path / "profile"
    written = install("linux", tmp_path, tmp_path / "launcher", user_data_dir=udd)
    assert written == [udd / "NativeMessagingHosts" / f"{HOST_NAME}.json"]
    manifest = json.loads(written[0].read_text())
    assert manifest["allowed_origins"] == [f"chrome-extension://{EXTENSION_ID}/"] and manifest["type"] == "stdio"
    assert os.access(manifest["path"], os.X_OK)

    keys: dict[str, str] = {}
    paths = install("windows", tmp_path, tmp_path / "win", registry_writer=keys.__setitem__)
    assert set(keys) == {rf"HKCU\Software\{k}\NativeMessagingHosts\{HOST_NAME}"
                         for k in (r"Google\Chrome", r"Microsoft\Edge", "Chromium", "Mozilla")}
    firefox = json.loads(Path(keys[rf"HKCU\Software\Mozilla\NativeMessagingHosts\{HOST_NAME}"]).read_text())
    assert firefox["allowed_extensions"] == [GECKO_ID] and firefox["path"].endswith(".bat")
    assert len(paths) == 2                       # one manifest per family, several keys name it
    mac = {t.browser: t.folder for t in targets("macos", Path("/Users/eleve"))}
    assert mac["chrome"] == Path("/Users/eleve/Library/Application Support/Google/Chrome/NativeMessagingHosts")


def test_install_browser_host_command(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "EXAMROOM_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": ""}
    result = CliRunner().invoke(cli, ["companion", "install-browser-host", "--lang", "en"], env=env)
    assert result.exit_code == 0, result.output
    assert (tmp_path / ".config/chromium/NativeMessagingHosts" / f"{HOST_NAME}.json").is_file()
    assert (tmp_path / ".mozilla/native-messaging-hosts" / f"{HOST_NAME}.json").is_file()
    assert result.output.count("Native messaging host installed: ") == 4


def _channel(tmp_path: Path):
    seen: dict[str, list] = {"messages": [], "peers": [], "refused": []}
    channel = ExtensionChannel(tmp_path, on_message=lambda p, m: seen["messages"].append(m),
                               on_peer=lambda p, up: seen["peers"].append(up),
                               on_refused=lambda reason, pid: seen["refused"].append((reason, pid)),
                               config=lambda: {"platform_matches": []})
    channel.start()
    return channel, seen


def test_a_local_program_cannot_pass_for_the_extension(tmp_path: Path) -> None:
    channel, seen = _channel(tmp_path)
    try:
        port = json.loads((tmp_path / "companion-extension.json").read_text())["port"]
        assert port == channel.port
        # a script claiming to be the native host, with our own pid and the extension's origin
        with socket.create_connection(("127.0.0.1", port)) as forged:
            claim = {"type": "peer", "pid": os.getpid(), "argv": [f"chrome-extension://{EXTENSION_ID}/"]}
            forged.sendall((json.dumps(claim) + "\n" + json.dumps({"type": "phase", "phase": "stop"}) + "\n").encode())
            assert forged.recv(100) == b""           # closed without a word
        # the real native host, but started by a test (not by a browser)
        host = subprocess.Popen([sys.executable, "-m", "companion.nativehost", f"chrome-extension://{EXTENSION_ID}/"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                env=dict(os.environ, EXAMROOM_HOME=str(tmp_path)))
        data = json.dumps({"type": "hello", "version": "0"}).encode()
        host.stdin.write(struct.pack("=I", len(data)) + data)
        host.stdin.flush()
        assert wait_for(lambda: len(seen["refused"]) == 2, timeout=10), seen
        host.stdin.close()
        assert host.wait(10) == 0
    finally:
        channel.close()
    assert "not the native host" in seen["refused"][0][0]
    assert "not started by a browser" in seen["refused"][1][0] and seen["refused"][1][1] == host.pid
    assert seen["messages"] == [] and seen["peers"] == []
    assert not (tmp_path / "companion-extension.json").exists()


def test_verify_peer_needs_the_connection_to_be_the_claimants() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(server.getsockname())
    accepted, _ = server.accept()
    try:
        claim = {"pid": 1, "argv": ["x"]}    # pid 1 does not hold this socket
        try:
            verify_peer(claim, accepted.getsockname()[:2], accepted.getpeername()[:2])
        except PeerRefused as exc:
            assert "does not own" in str(exc) or "process 1" in str(exc)
        else:
            raise AssertionError("a claim about another process was accepted")
    finally:
        for sock in (client, accepted, server):
            sock.close()


def test_a_browser_is_a_program_the_user_cannot_write(tmp_path: Path, monkeypatch) -> None:
    """A process can call itself "chromium" (prctl, a renamed copy of python): the file it
    runs from must be an installed program, not one the candidate wrote."""
    from companion import extchannel

    copy = tmp_path / "chromium"
    copy.write_bytes(b"#!/bin/sh\n")
    monkeypatch.setattr(extchannel.os, "geteuid", lambda: 1000)    # a candidate's account
    monkeypatch.setattr(extchannel.os, "access", lambda path, mode: str(path).startswith(str(tmp_path)))
    assert not extchannel.installed_program(str(copy))
    assert not extchannel.installed_program(str(tmp_path / "missing"))
    assert extchannel.installed_program(sys.executable)              # outside the writable folder
