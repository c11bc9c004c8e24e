"""Machine facts: virtual machine / VDI and remote session, from data shaped as each OS gives
it; the screen and mouse checks turn to warn when the test runs over a remote session; the
real machine's facts in a real report."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from checks import mouse, screen
from checks.base import CheckContext
from core.host import CommandResult, Host
from checks.probes.virt import hypervisor_from, remote_session, virt_facts
from checks.remote import over_remote_session
from core.result import CheckResult, Status


def test_hypervisors_from_dmi_and_bios_strings():
    assert hypervisor_from("QEMU", "Standard PC (Q35 + ICH9, 2009)") == "QEMU/KVM"
    assert hypervisor_from("VMware, Inc.", "VMware7,1") == "VMware"
    assert hypervisor_from("innotek GmbH", "VirtualBox") == "VirtualBox"
    assert hypervisor_from("Microsoft Corporation", "Virtual Machine") == "Hyper-V"
    assert hypervisor_from("Microsoft Corporation", "Surface Laptop 5") is None
    assert hypervisor_from("Dell Inc.", "OptiPlex 7010") is None


def test_linux_dmi_then_systemd_detect_virt(tmp_path):
    dmi = tmp_path / "a/sys/class/dmi/id"
    dmi.mkdir(parents=True)
    (dmi / "sys_vendor").write_text("VMware, Inc.\n")
    (dmi / "product_name").write_text("VMware Virtual Platform\n")
    assert virt_facts(Host.fake("linux", tmp_path / "a")).virtual_machine == "VMware"
    (tmp_path / "b/usr/bin").mkdir(parents=True)
    tool = tmp_path / "b/usr/bin/systemd-detect-virt"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    host = Host.fake("linux", tmp_path / "b", env={"PATH": "/usr/bin"},
                     commands={("systemd-detect-virt", "--vm"): "kvm\n"})
    assert virt_facts(host).virtual_machine == "QEMU/KVM"
    none = Host.fake("linux", tmp_path / "b", env={"PATH": "/usr/bin"},
                     commands={("systemd-detect-virt", "--vm"): CommandResult(1, "none\n")})
    assert virt_facts(none).virtual_machine is None


def test_windows_bios_vdi_and_rdp(tmp_path):
    registry = {"HKLM\\HARDWARE\\DESCRIPTION\\System\\BIOS": {
        "SystemManufacturer": "VMware, Inc.", "SystemProductName": "VMware20,1", "BIOSVendor": "VMware, Inc."},
        "HKLM\\SOFTWARE\\VMware, Inc.\\VMware VDM\\Agent\\Configuration": {"Broker": "horizon.lycee.example"}}
    host = Host.fake("windows", tmp_path, registry=registry, env={"SESSIONNAME": "RDP-Tcp#3", "CLIENTNAME": "PC-PROF"})
    facts = virt_facts(host)
    assert facts.virtual_machine == "VDI (VMware Horizon), VMware" and facts.remote_session == "RDP"
    assert remote_session(Host.fake("windows", tmp_path, env={"SESSIONNAME": "Console"})) is None
    assert remote_session(Host.fake("windows", tmp_path, env={"SESSIONNAME": "ICA-CGP#1"})) == "Citrix ICA"


def test_macos_vm_and_ssh(tmp_path):
    host = Host.fake("macos", tmp_path, commands={("sysctl", "-n", "kern.hv_vmm_present", "hw.model"): "1\nVirtualMac2,1\n"},
                     env={"SSH_CONNECTION": "10.0.0.5 52100 10.0.0.9 22"})
    assert virt_facts(host) == virt_facts(host).__class__("Apple Virtualization", "SSH")


def test_ssh_without_a_local_display_only(tmp_path):
    ssh = {"SSH_CONNECTION": "192.168.1.20 40522 192.168.1.31 22"}
    assert remote_session(Host.fake("linux", tmp_path, env=ssh)) == "SSH"
    assert remote_session(Host.fake("linux", tmp_path, env={**ssh, "DISPLAY": "localhost:10.0"})) == "SSH"
    assert remote_session(Host.fake("linux", tmp_path, env={**ssh, "DISPLAY": ":0"})) is None
    assert remote_session(Host.fake("linux", tmp_path, env={"XRDP_SESSION": "1", "DISPLAY": ":10"})) == "XRDP"


def test_screen_and_mouse_over_rdp_are_warnings(tmp_path):
    ok = CheckResult(id="screen", title="Screen", status=Status.ok, summary="1920 px wide")
    host = Host.fake("windows", tmp_path, env={"SESSIONNAME": "RDP-Tcp#0"})
    warned = over_remote_session(CheckContext(host=host, lang="fr"), ok)
    assert warned.status == Status.warn and "session à distance (RDP)" in warned.summary
    assert "devant le poste" in warned.remediation
    failed = ok.model_copy(update={"status": Status.fail, "remediation": "Plug a screen"})
    assert over_remote_session(CheckContext(host=host), failed) == failed  # a fail stays a fail
    local = Host.fake("windows", tmp_path, env={"SESSIONNAME": "Console"})
    assert over_remote_session(CheckContext(host=local), ok) == ok
    # Both checks go through it.
    for module in (screen, mouse):
        assert "over_remote_session(ctx, _measure(ctx))" in open(module.__file__).read()


def test_mouse_over_ssh_on_linux_is_a_warning(tmp_path):
    devices = tmp_path / "proc/bus/input"
    devices.mkdir(parents=True)
    (devices / "devices").write_text(
        'I: Bus=0003 Vendor=046d Product=c077 Version=0111\nN: Name="Logitech USB Optical Mouse"\n'
        "P: Phys=usb-0000:00:14.0-2/input0\nS: Sysfs=/devices/pci0000:00/usb1/1-2/1-2:1.0/input/input5\n"
        "U: Uniq=\nH: Handlers=mouse0 event5\nB: PROP=0\nB: EV=17\nB: KEY=70000 0 0 0 0\nB: REL=903\nB: MSC=10\n\n")
    local = mouse.run(CheckContext(host=Host.fake("linux", tmp_path, env={}), lang="en"))
    remote = mouse.run(CheckContext(host=Host.fake("linux", tmp_path, env={"SSH_CONNECTION": "10.1.1.1 1 10.1.1.2 22"}),
                                    lang="en"))
    if local.status == Status.ok:
        assert remote.status == Status.warn and "(SSH)" in remote.summary


def test_real_report_carries_the_machine_facts(tmp_path):
    env = {**os.environ, "EXAMROOM_HOME": str(tmp_path), "SSH_CONNECTION": "10.9.9.9 50000 10.9.9.10 22"}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    done = subprocess.run([sys.executable, "-m", "agent", "check", "--only", "mouse", "--json", "-", "--lang", "en"],
                          capture_output=True, text=True, timeout=60, env=env)
    report = json.loads(done.stdout)
    assert report["machine"]["remote_session"] == "SSH"
    result = next(c for c in report["checks"] if c["id"] == "mouse")
    assert result["status"] in ("warn", "fail")
    if result["status"] == "warn":
        assert "remote session (SSH)" in result["summary"]
    expected = virt_facts(Host.current()).virtual_machine
    assert report["machine"].get("virtual_machine") == expected


def test_vnc_and_screen_sharing_from_the_process_list(tmp_path):
    """The process list is the host's ("processes" stand-in here, psutil on the real machine)."""
    def linux(procs, display=":0"):
        return Host.fake("linux", tmp_path, env={"DISPLAY": display}, native={"processes": lambda: procs})

    assert remote_session(linux([("x11vnc", ["x11vnc", "-display", ":0", "-forever"])])) == "VNC"
    assert remote_session(linux([("x11vnc", ["x11vnc", "-display", ":1"])])) is None  # another display
    assert remote_session(linux([("Xtigervnc", ["Xtigervnc", ":3", "-geometry", "1024x768"])], ":3")) == "VNC"
    assert remote_session(linux([("bash", ["bash"])])) is None
    assert remote_session(Host.fake("linux", tmp_path, env={"DISPLAY": ":0"})) is None  # no listing: none
    mac = Host.fake("macos", tmp_path, native={"processes": lambda: [("screensharingd", [])]})
    assert remote_session(mac) == "Screen Sharing"


def test_a_real_x11vnc_on_the_display_is_a_remote_session():
    from tests.support import need, xvfb

    need("x11vnc")
    with xvfb() as display:
        vnc = subprocess.Popen(["x11vnc", "-display", display, "-localhost", "-rfbport", "0", "-nopw", "-quiet"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            host = Host.current()
            host.env["DISPLAY"] = display
            import time
            deadline = time.monotonic() + 10
            while remote_session(host) != "VNC" and time.monotonic() < deadline and vnc.poll() is None:
                time.sleep(0.1)
            assert remote_session(host) == "VNC"
        finally:
            vnc.kill()
            vnc.wait()
        assert remote_session(host) is None
