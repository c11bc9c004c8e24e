"""Is this machine virtual (a VM, a VDI desktop), and is the crash test running over a remote
session? Facts for the report, the dashboard tile, and the ``screen``/``mouse`` checks
(measured over RDP or VNC, they describe the remote viewer, not the candidate's screen).

Virtual machine:
- Linux: ``/sys/class/dmi/id/sys_vendor`` and ``product_name`` (DMI, readable by anyone),
  else ``systemd-detect-virt --vm``;
- Windows: ``HKLM\\HARDWARE\\DESCRIPTION\\System\\BIOS`` ``SystemManufacturer`` /
  ``SystemProductName``; VDI agents: Citrix VDA, VMware Horizon, Azure Virtual Desktop keys;
- macOS: ``sysctl -n kern.hv_vmm_present`` (1 in a VM) and ``hw.model``.

Remote session:
- Windows: ``SESSIONNAME`` (``RDP-Tcp#3``, Citrix ``ICA-CGP#1``; the local one is ``Console``);
- Linux/macOS: ``SSH_CONNECTION`` without a local display (or with an X display forwarded
  over SSH, ``localhost:10.0``); ``XRDP_SESSION``; a VNC server (Xvnc, x11vnc) serving this
  very display; macOS Screen Sharing (``screensharingd`` running).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from core.host import OS_LINUX, OS_MACOS, OS_WINDOWS, Host
from checks.probes.parsing import registry_str

BIOS = "HKLM\\HARDWARE\\DESCRIPTION\\System\\BIOS"
_VDI_KEYS = {"Citrix": "HKLM\\SOFTWARE\\Citrix\\VirtualDesktopAgent",
             "VMware Horizon": "HKLM\\SOFTWARE\\VMware, Inc.\\VMware VDM\\Agent",
             "Azure Virtual Desktop": "HKLM\\SOFTWARE\\Microsoft\\RDInfraAgent"}
# (pattern on "vendor product", name shown)
_HYPERVISORS = (
    (r"VMware", "VMware"), (r"innotek|VirtualBox|Oracle Corporation.*VirtualBox", "VirtualBox"),
    (r"QEMU|KVM|Standard PC \(", "QEMU/KVM"), (r"Microsoft Corporation.*Virtual Machine", "Hyper-V"),
    (r"\bXen\b|HVM domU", "Xen"), (r"Parallels", "Parallels"), (r"Amazon EC2", "Amazon EC2"),
    (r"Google Compute Engine", "Google Compute Engine"), (r"Nutanix", "Nutanix AHV"), (r"bhyve", "bhyve"),
    (r"Apple Virtualization|VirtualMac", "Apple Virtualization"),
)
_DETECT_VIRT = {"kvm": "QEMU/KVM", "qemu": "QEMU/KVM", "vmware": "VMware", "oracle": "VirtualBox",
                "microsoft": "Hyper-V", "xen": "Xen", "parallels": "Parallels", "amazon": "Amazon EC2",
                "bhyve": "bhyve", "apple": "Apple Virtualization", "google": "Google Compute Engine"}


@dataclass(frozen=True)
class VirtFacts:
    virtual_machine: str | None = None   # hypervisor, e.g. "VMware"; "VDI (Citrix)" for a VDI agent
    remote_session: str | None = None    # "RDP", "Citrix ICA", "SSH", "VNC", "XRDP", "Screen Sharing"


def hypervisor_from(vendor: str, product: str) -> str | None:
    text = f"{vendor} {product}"
    return next((name for pattern, name in _HYPERVISORS if re.search(pattern, text, re.I)), None)


def virtual_machine(host: Host) -> str | None:
    if host.os == OS_WINDOWS and host.registry is not None:
        values = host.registry.values(BIOS)
        vm = hypervisor_from(registry_str(values.get("SystemManufacturer")), registry_str(values.get("SystemProductName")))
        vdi = next((name for name, key in _VDI_KEYS.items() if host.registry.values(key) or host.registry.subkeys(key)), None)
        if vdi:
            return f"VDI ({vdi})" + (f", {vm}" if vm else "")
        return vm
    if host.os == OS_MACOS:
        done = host.run(["sysctl", "-n", "kern.hv_vmm_present", "hw.model"], timeout=5)
        lines = done.stdout.split() if done is not None and done.ok else []
        if lines and lines[0] == "1":
            return hypervisor_from("", lines[1] if len(lines) > 1 else "") or "VM"
        return None
    if host.os == OS_LINUX:
        try:
            vendor = host.path("/sys/class/dmi/id/sys_vendor").read_text(errors="replace").strip()
            product = host.path("/sys/class/dmi/id/product_name").read_text(errors="replace").strip()
        except OSError:
            vendor = product = ""
        found = hypervisor_from(vendor, product)
        if found or vendor:
            return found
        if host.which("systemd-detect-virt"):
            done = host.run(["systemd-detect-virt", "--vm"], timeout=5)
            kind = done.stdout.strip() if done is not None else ""
            if kind and kind != "none":
                return _DETECT_VIRT.get(kind, kind)
    return None


def _vnc_serves(host: Host, display: str) -> bool:
    """A VNC server process shares this display (Xvnc :1, x11vnc -display :0)."""
    if not display:
        return False
    number = display.split(":", 1)[-1].split(".", 1)[0]
    for name, args in _processes(host):
        name = name.lower()
        if name not in ("xvnc", "xtigervnc", "x11vnc", "x0vncserver", "x0tigervncserver"):
            continue
        shown = [a for a in args if re.fullmatch(r":\d+(\.\d+)?", a)]
        if name in ("xvnc", "xtigervnc") and any(a.split(".")[0] == f":{number}" for a in shown):
            return True
        if "-display" in args:
            i = args.index("-display")
            if i + 1 < len(args) and args[i + 1].split(":", 1)[-1].split(".")[0] == number:
                return True
        elif name == "x11vnc" and not shown and number == "0":
            return True  # x11vnc alone shares :0
    return False


def remote_session(host: Host) -> str | None:
    if host.os == OS_WINDOWS:
        name = (host.getenv("SESSIONNAME") or "").upper()
        if name.startswith("RDP-"):
            return "RDP"
        if name.startswith("ICA-"):
            return "Citrix ICA"
        return None
    display = host.getenv("DISPLAY") or ""
    if host.getenv("XRDP_SESSION"):
        return "XRDP"
    if host.getenv("SSH_CONNECTION") or host.getenv("SSH_CLIENT"):
        local_display = display.startswith(":") or bool(host.getenv("WAYLAND_DISPLAY"))
        if not local_display:  # no display, or one forwarded over SSH (localhost:10.0)
            return "SSH"
    if host.os == OS_LINUX and _vnc_serves(host, display):
        return "VNC"
    if host.os == OS_MACOS and any(name == "screensharingd" for name, _ in _processes(host)):
        return "Screen Sharing"
    return None


def _processes(host: Host) -> list[tuple[str, list[str]]]:
    """(name, argv) of the running processes: the real machine's through psutil, a fake host's
    from its ``"processes"`` stand-in (none when not given)."""
    listing = host.native("processes", lambda: _psutil_processes)
    return listing() if listing is not None else []


def _psutil_processes() -> list[tuple[str, list[str]]]:
    try:
        import psutil

        return [(p.info.get("name") or "", p.info.get("cmdline") or []) for p in psutil.process_iter(["name", "cmdline"])]
    except Exception:  # noqa: BLE001 - process listing is best effort (access denied, races)
        return []


def virt_facts(host: Host) -> VirtFacts:
    return VirtFacts(virtual_machine=virtual_machine(host), remote_session=remote_session(host))
