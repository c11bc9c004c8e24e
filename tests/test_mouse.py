"""mouse: /proc/bus/input/devices and /sys/class/input as real Linux machines write them,
the Windows API behind its interface, macOS ioreg, and the real machine."""
from __future__ import annotations

import plistlib
from pathlib import Path

from checks import mouse
from checks.base import CheckContext
from core.host import CommandResult, Host
from checks.probes.pointing import PointingDevice, read_pointing
from checks.probes.pointing_linux import parse_proc_input_devices
from checks.probes.pointing_macos import parse_ioreg_hid
from core.result import Status

FIXTURES = Path(__file__).parent / "fixtures" / "system"


def linux_host(tmp_path: Path, devices: str | None) -> Host:
    if devices is not None:
        proc = tmp_path / "proc/bus/input"
        proc.mkdir(parents=True)
        (proc / "devices").write_text(devices)
    return Host.fake("linux", tmp_path)


def test_laptop_with_usb_mouse_is_ok_and_leaves_out_virtual_pointers(tmp_path):
    host = linux_host(tmp_path, (FIXTURES / "proc_input_devices_laptop.txt").read_text())
    result = mouse.run(CheckContext(host=host, lang="fr"))
    assert result.status == Status.ok
    assert [(i.name, i.kind) for i in result.items] == [
        ("SYNA2B51:00 06CB:CE44 Touchpad", "touchpad"), ("Logitech USB Optical Mouse", "mouse")]
    assert "Logitech USB Optical Mouse" in result.summary
    assert "remote desktop" not in result.summary


def test_touchscreen_only_is_a_warning(tmp_path):
    host = linux_host(tmp_path, (FIXTURES / "proc_input_devices_touchscreen_only.txt").read_text())
    result = mouse.run(CheckContext(host=host))
    assert result.status == Status.warn
    assert result.items[0].kind == "touchscreen"
    assert "Plug in a mouse" in result.remediation


def test_keyboard_only_fails_with_a_remediation(tmp_path):
    text = (FIXTURES / "proc_input_devices_laptop.txt").read_text().split("\n\n")[1]
    result = mouse.run(CheckContext(host=linux_host(tmp_path, text), lang="fr"))
    assert result.status == Status.fail
    assert result.summary == "aucune souris ni aucun dispositif de pointage détecté"
    assert "Branchez une souris" in result.remediation


def test_an_empty_device_list_fails(tmp_path):
    assert mouse.run(CheckContext(host=linux_host(tmp_path, ""))).status == Status.fail


def test_sysfs_is_read_when_proc_is_missing(tmp_path):
    device = tmp_path / "sys/class/input/mouse0/device"
    device.mkdir(parents=True)
    (device / "name").write_text("PixArt USB Optical Mouse\n")
    (tmp_path / "sys/class/input/event0").mkdir()
    facts = read_pointing(Host.fake("linux", tmp_path))
    assert facts.devices == [PointingDevice("PixArt USB Optical Mouse", "mouse")]
    assert facts.source == "/sys/class/input"


def test_unreadable_facts_are_an_error_with_the_reason(tmp_path):
    result = mouse.run(CheckContext(host=linux_host(tmp_path, None)))
    assert result.status == Status.error
    assert "/proc/bus/input/devices" in result.summary and result.remediation


def test_hyper_v_guest_pointer_on_the_virtual_bus_counts():
    block = ('I: Bus=0006 Vendor=045e Product=0621 Version=0001\n'
             'N: Name="Microsoft Vmbus HID-compliant Mouse"\nP: Phys=\n'
             'S: Sysfs=/devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0004:00/VMBUS:00/'
             '58f75a6d-d949-4320-99e1-a2a2576d581c/0006:045E:0621.0001/input/input2\n'
             'U: Uniq=\nH: Handlers=mouse0 event1 \nB: PROP=0\nB: EV=1f\nB: KEY=1f0000 0 0 0 0\n'
             'B: ABS=3\nB: REL=100\nB: MSC=10\n')
    assert parse_proc_input_devices(block) == [PointingDevice("Microsoft Vmbus HID-compliant Mouse", "mouse")]


def test_relative_axes_without_a_mouse_handler_count():
    block = ('I: Bus=0003 Vendor=1d57 Product=ad03 Version=0110\nN: Name="2.4G Wireless Receiver"\n'
             'H: Handlers=event4\nB: PROP=0\nB: EV=17\nB: REL=1943\n')
    assert parse_proc_input_devices(block) == [PointingDevice("2.4G Wireless Receiver", "mouse")]
    # A keyboard's consumer-control interface has a wheel (REL_HWHEEL) but no REL_X.
    wheel_only = block.replace("REL=1943", "REL=40").replace("Receiver", "Consumer Control")
    assert parse_proc_input_devices(wheel_only) == []


# -- Windows -------------------------------------------------------------------------------
USB_MOUSE = r"\\?\HID#VID_046D&PID_C077#7&2d1f6a5c&0&0000#{378de44c-56ef-11d1-bc8c-00a0c91405dd}"
BT_MOUSE = (r"\\?\HID#{00001124-0000-1000-8000-00805f9b34fb}_VID&0002046d_PID&b01a&Col01"
            r"#9&2e1a3b4c&0&0000#{378de44c-56ef-11d1-bc8c-00a0c91405dd}")
RDP_MOUSE = r"\\?\Root#RDP_MOU#0000#{378de44c-56ef-11d1-bc8c-00a0c91405dd}"


class FakeWindowsPointing:
    """Values as user32 gives them: SM_MOUSEPRESENT is 1 even with no mouse plugged in."""

    def __init__(self, raw, *, buttons=3, remote=False, present=True, error=None):
        self.raw, self.buttons, self.remote, self.present, self.error = raw, buttons, remote, present, error

    def mouse_present(self) -> bool:
        return self.present

    def button_count(self) -> int:
        if self.error:
            raise self.error
        return self.buttons

    def remote_session(self) -> bool:
        return self.remote

    def raw_mice(self):
        return self.raw


def windows_result(tmp_path, api, lang="en"):
    host = Host.fake("windows", tmp_path, native={"win32.pointing": api})
    return mouse.run(CheckContext(host=host, lang=lang))


def test_windows_usb_and_bluetooth_mice_are_named(tmp_path):
    result = windows_result(tmp_path, FakeWindowsPointing([RDP_MOUSE, USB_MOUSE, BT_MOUSE], buttons=5), "fr")
    assert result.status == Status.ok
    assert [i.name for i in result.items] == ["USB mouse (VID 046D, PID C077)", "Bluetooth mouse (VID 046D, PID B01A)"]
    assert result.items[0].buttons == 5 and "5 boutons" in result.items[0].detail


def test_windows_only_the_remote_desktop_mouse_means_no_mouse(tmp_path):
    local = windows_result(tmp_path, FakeWindowsPointing([RDP_MOUSE]))
    assert local.status == Status.fail, "SM_MOUSEPRESENT says 1, but no mouse is plugged in"
    remote = windows_result(tmp_path, FakeWindowsPointing([RDP_MOUSE], remote=True))
    assert remote.status == Status.ok and remote.items[0].name == "Remote Desktop mouse"


def test_windows_falls_back_to_sm_mousepresent_and_reports_api_errors(tmp_path):
    assert windows_result(tmp_path, FakeWindowsPointing(None)).status == Status.ok
    assert windows_result(tmp_path, FakeWindowsPointing(None, present=False)).status == Status.fail
    broken = windows_result(tmp_path, FakeWindowsPointing([USB_MOUSE], error=OSError("access denied")))
    assert broken.status == Status.error and "access denied" in broken.summary


def test_simulated_windows_host_without_an_api_is_an_error_not_a_crash(tmp_path):
    result = mouse.run(CheckContext(host=Host.fake("windows", tmp_path)))
    assert result.status == Status.error
    assert result.summary and result.remediation  # an error still tells the technician what to do


# -- macOS ---------------------------------------------------------------------------------
def ioreg_plist(devices: list[dict]) -> str:
    return plistlib.dumps(devices).decode("utf-8")


MAGIC_MOUSE = {"Product": "Magic Mouse", "Transport": "Bluetooth", "PrimaryUsagePage": 1, "PrimaryUsage": 2,
               "DeviceUsagePairs": [{"DeviceUsagePage": 1, "DeviceUsage": 2}, {"DeviceUsagePage": 1, "DeviceUsage": 1}]}
TRACKPAD = {"Product": "Apple Internal Keyboard / Trackpad", "PrimaryUsagePage": 1, "PrimaryUsage": 6,
            "DeviceUsagePairs": [{"DeviceUsagePage": 1, "DeviceUsage": 6}, {"DeviceUsagePage": 1, "DeviceUsage": 2}]}
KEYBOARD = {"Product": "USB Keyboard", "PrimaryUsagePage": 1, "PrimaryUsage": 6}


def test_macos_ioreg(tmp_path):
    argv = ("ioreg", "-a", "-r", "-d", "1", "-c", "IOHIDDevice")
    host = Host.fake("macos", tmp_path, commands={argv: ioreg_plist([KEYBOARD, TRACKPAD, MAGIC_MOUSE])})
    result = mouse.run(CheckContext(host=host))
    assert result.status == Status.ok
    assert [(i.name, i.kind) for i in result.items] == [
        ("Apple Internal Keyboard / Trackpad", "touchpad"), ("Magic Mouse", "mouse")]
    trackpad_only = Host.fake("macos", tmp_path, commands={argv: ioreg_plist([KEYBOARD, TRACKPAD])})
    assert mouse.run(CheckContext(host=trackpad_only)).status == Status.warn
    assert parse_ioreg_hid("") == []


def test_macos_ioreg_missing_or_garbled_is_an_error(tmp_path):
    assert mouse.run(CheckContext(host=Host.fake("macos", tmp_path))).status == Status.error
    garbled = Host.fake("macos", tmp_path, commands={"ioreg": CommandResult(0, "<plist><dict>")})
    result = mouse.run(CheckContext(host=garbled))
    assert result.status == Status.error and "property list" in result.summary


# -- the real machine ----------------------------------------------------------------------
def test_real_machine_agrees_with_the_kernel():
    """On this machine: the check's verdict follows what the kernel lists."""
    result = mouse.run(CheckContext(host=Host.current()))
    try:
        text = Path("/proc/bus/input/devices").read_text()
    except OSError:
        assert result.status == Status.error
        return
    blocks = [b for b in text.split("\n\n") if "Sysfs=/devices/virtual/" not in b]  # software devices do not count
    has_pointer = any(line.startswith("H:") and " mouse" in line for b in blocks for line in b.splitlines())
    if not has_pointer:
        assert result.status == Status.fail and result.remediation
    else:
        assert result.status in (Status.ok, Status.warn) and result.items
