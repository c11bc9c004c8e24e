"""The report's ``machine`` block: who this machine is and what it is made of.

Beside identity (id, hostname, OS, version, arch) supervisors see, next to readiness, what
they need to tell machines apart and spot the weak ones: CPU count and model, RAM, the
logged-in user, the machine's IP addresses and when it was last started. All of it is
cheap (psutil, one file or registry read); a fact that cannot be read is left out.
Facts come from the real machine only: a simulated Host gets identity alone.
"""
from __future__ import annotations

import getpass
import ipaddress
import socket
from datetime import datetime, timezone

import psutil

from core.report import Machine
from core.state import hostname, machine_id
from core.host import OS_MACOS, OS_WINDOWS, Host
from checks.probes.virt import virt_facts
from core.result import CheckResult

_CPU_KEY = r"HKLM\HARDWARE\DESCRIPTION\System\CentralProcessor\0"


def describe_machine(host: Host, checks: list[CheckResult] | None = None) -> Machine:
    """``checks``: the crash test's results, when there are some, so that the screen width
    measured by the ``screen`` check is shown with the other facts without asking the
    display server again (on a Mac that takes seconds)."""
    machine = Machine(id=machine_id(host), hostname=hostname(), os=host.os,
                      os_version=host.os_version, arch=host.arch)
    if host.is_real:
        for name, value in machine_facts(host).items():
            setattr(machine, name, value)
    screen = next((c for c in checks or [] if c.id == "screen" and c.measured is not None), None)
    if screen is not None:
        machine.screen_px = int(screen.measured)
        machine.displays = len(screen.items)
    return machine


def machine_facts(host: Host) -> dict[str, object]:
    facts: dict[str, object] = {}
    facts["cpu_count"] = psutil.cpu_count(logical=True)
    model = cpu_model(host)
    if model:
        facts["cpu_model"] = model
    facts["ram_gb"] = round(psutil.virtual_memory().total / 1024 ** 3, 1)
    try:
        booted = datetime.fromtimestamp(psutil.boot_time(), timezone.utc).replace(microsecond=0)
        facts["boot_time"] = booted.isoformat().replace("+00:00", "Z")
    except (OSError, RuntimeError):
        pass
    user = _user()
    if user:
        facts["user"] = user
    facts["ip_addresses"] = ip_addresses()
    # A VM/VDI desktop and a test run over RDP/VNC/SSH change what screen and mouse mean.
    virt = virt_facts(host)
    if virt.virtual_machine:
        facts["virtual_machine"] = virt.virtual_machine
    if virt.remote_session:
        facts["remote_session"] = virt.remote_session
    return facts


def cpu_model(host: Host) -> str | None:
    if host.os == OS_WINDOWS and host.registry is not None:
        name = host.registry.values(_CPU_KEY).get("ProcessorNameString")
        return " ".join(str(name).split()) if name else None
    if host.os == OS_MACOS:
        out = host.run(["sysctl", "-n", "machdep.cpu.brand_string"], timeout=5)
        return out.stdout.strip() or None if out is not None and out.ok else None
    try:
        text = host.path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        # x86 says "model name"; ARM boards say "Model" (Raspberry Pi) or nothing useful.
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Model") and value.strip():
            return " ".join(value.split())
    return None


def ip_addresses() -> list[str]:
    """Non-loopback IPv4 addresses of the interfaces that are up (what a technician types
    into a remote-control tool or matches in the DHCP leases)."""
    found: list[str] = []
    try:
        stats = psutil.net_if_stats()
        addrs = psutil.net_if_addrs()
    except OSError:
        return found
    for name, entries in addrs.items():
        if name in stats and not stats[name].isup:
            continue
        for entry in entries:
            if entry.family != socket.AF_INET:
                continue
            ip = ipaddress.ip_address(entry.address)
            if not (ip.is_loopback or ip.is_link_local) and entry.address not in found:
                found.append(entry.address)
    return found


def _user() -> str | None:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (container without passwd entry)
        return None
