"""The report's machine block: identity plus CPU, RAM, user, addresses, boot time."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import psutil

from agent.machine import cpu_model, describe_machine, ip_addresses
from core.report import Machine
from core.host import Host


def test_real_machine_facts(monkeypatch, tmp_path):
    monkeypatch.setenv("EXAMROOM_HOME", str(tmp_path))
    monkeypatch.setenv("EXAMROOM_MACHINE_ID", "salle-b12-poste-07")
    machine = describe_machine(Host.current())
    data = json.loads(machine.model_dump_json())
    assert data["id"] == "salle-b12-poste-07"
    assert data["cpu_count"] == os.cpu_count()
    # Independent reading of the RAM: /proc/meminfo in kB.
    with open("/proc/meminfo") as handle:
        kib = int(re.search(r"MemTotal:\s+(\d+) kB", handle.read()).group(1))
    assert data["ram_gb"] == round(kib * 1024 / 1024 ** 3, 1)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data["boot_time"])
    assert all("." in ip and not ip.startswith("127.") for ip in data["ip_addresses"])
    # The block survives the trip through the report model (the server stores it).
    assert Machine.model_validate(data).model_dump()["ram_gb"] == data["ram_gb"]


def test_simulated_hosts_get_identity_only(monkeypatch, tmp_path):
    monkeypatch.setenv("EXAMROOM_HOME", str(tmp_path))
    monkeypatch.setenv("EXAMROOM_MACHINE_ID", "fake")
    data = describe_machine(Host.fake("windows", tmp_path)).model_dump()
    assert data["os"] == "windows" and "ram_gb" not in data and "cpu_count" not in data


def test_cpu_model_per_os(tmp_path):
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/cpuinfo").write_text(
        "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz\n")
    assert cpu_model(Host.fake("linux", tmp_path)) == "Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz"
    win = Host.fake("windows", tmp_path, registry={
        r"HKLM\HARDWARE\DESCRIPTION\System\CentralProcessor\0": {
            "ProcessorNameString": "Intel(R) Pentium(R) CPU G4560 @ 3.50GHz   "}})
    assert cpu_model(win) == "Intel(R) Pentium(R) CPU G4560 @ 3.50GHz"
    mac = Host.fake("macos", tmp_path, commands={("sysctl", "-n", "machdep.cpu.brand_string"): "Apple M1\n"})
    assert cpu_model(mac) == "Apple M1"
    assert cpu_model(Host.fake("macos", tmp_path)) is None


def test_ip_addresses_match_psutil():
    expected = {a.address for name, addrs in psutil.net_if_addrs().items()
                for a in addrs if a.family.name == "AF_INET" and not a.address.startswith(("127.", "169.254."))
                and psutil.net_if_stats().get(name) and psutil.net_if_stats()[name].isup}
    assert set(ip_addresses()) == expected


def test_machine_block_in_a_real_check_report(tmp_path):
    env = dict(os.environ, EXAMROOM_HOME=str(tmp_path), EXAMROOM_MACHINE_ID="poste-test")
    done = subprocess.run([sys.executable, "-m", "agent", "check", "--only", "storage",
                           "--storage", str(tmp_path), "--json", "-"],
                          capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode in (0, 1), done.stderr
    report = json.loads(done.stdout)
    assert done.returncode == (0 if report["ready"] else 1)  # the exit code is the report's verdict
    machine = report["machine"]
    assert machine["id"] == "poste-test"
    assert machine["cpu_count"] >= 1 and machine["ram_gb"] > 0


def test_screen_width_from_the_screen_check_joins_the_facts(monkeypatch, tmp_path):
    """The dashboard shows screen_px beside CPU and RAM: it comes from the screen check."""
    from agent.crashtest import run_crash_test
    from checks.base import CheckContext
    from tests.support import xvfb

    monkeypatch.setenv("EXAMROOM_HOME", str(tmp_path))
    monkeypatch.setenv("EXAMROOM_MACHINE_ID", "poste-ecran")
    with xvfb(1280, 1024) as display:
        host = Host.fake("linux", tmp_path, env={"DISPLAY": display})
        report = run_crash_test(["screen", "mouse"], CheckContext(host=host))
    data = report.to_dict()["machine"]
    assert data["screen_px"] == 1280 and data["displays"] == 1
    without = describe_machine(host, [c for c in report.checks if c.id != "screen"]).model_dump()
    assert "screen_px" not in without
