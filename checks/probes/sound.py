"""Audio output devices and whether they are muted. Facts only; ``checks/sound.py`` judges.

- Linux: the sound server of the user's session, PulseAudio or PipeWire (through its
  PulseAudio interface): ``pactl list sinks`` (each sink's name, description, ``Mute:`` and
  ``Volume:``) and ``pactl get-default-sink``; else PipeWire's ``wpctl get-volume
  @DEFAULT_AUDIO_SINK@`` ("Volume: 0.40 [MUTED]"); else ALSA's ``/proc/asound/cards`` (cards
  only, no mute state).
- Windows: ``HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\MMDevices\\Audio\\Render\\{id}``:
  ``DeviceState`` (1 active, 2 disabled, 4 not present, 8 unplugged) and the name in
  ``Properties`` (``{a45c254e-df1c-4efd-8020-67d146a850e0},2`` "Haut-parleurs", and
  ``{b3f8fa53-0004-438e-9003-51a46e139bfc},6`` "Realtek(R) Audio"). The mute switch is not in
  the registry: it is not reported.
- macOS: ``system_profiler SPAudioDataType -json`` (devices with output channels, the default
  output) and ``osascript -e "get volume settings"`` (output volume, output muted).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from core.host import OS_LINUX, OS_MACOS, OS_WINDOWS, Host
from checks.probes.parsing import registry_str

RENDER = "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\MMDevices\\Audio\\Render"
_NAME = "{a45c254e-df1c-4efd-8020-67d146a850e0},2"
_INTERFACE = "{b3f8fa53-0004-438e-9003-51a46e139bfc},6"
_STATES = {1: "active", 2: "disabled", 4: "not_present", 8: "unplugged"}


@dataclass
class Output:
    name: str
    active: bool = True
    muted: bool | None = None       # None: cannot be known from here
    volume_pct: int | None = None
    default: bool = False
    state: str = "active"
    ident: str = ""                  # the sound server's own name for it (PulseAudio sink name)


@dataclass
class Sound:
    source: str                      # pulseaudio | pipewire | alsa | mmdevices | coreaudio | none
    outputs: list[Output] = field(default_factory=list)
    server: str = ""                 # "PulseAudio (on PipeWire 1.0.5)"


def parse_pactl_sinks(text: str) -> list[Output]:
    """``pactl list sinks`` (English output: we run it with LC_ALL=C)."""
    outputs = []
    for block in re.split(r"^Sink #\d+", text, flags=re.M)[1:]:
        name = re.search(r"^\s*Name: (.+)$", block, re.M)
        desc = re.search(r"^\s*Description: (.+)$", block, re.M)
        mute = re.search(r"^\s*Mute: (yes|no)", block, re.M)
        volume = re.findall(r"(\d+)%", (re.search(r"^\s*Volume: (.+)$", block, re.M) or [None, ""])[1] or "")
        state = re.search(r"^\s*State: (\S+)", block, re.M)
        outputs.append(Output(name=(desc or name).group(1).strip() if (desc or name) else "?",
                              muted=(mute.group(1) == "yes") if mute else None,
                              volume_pct=max(int(v) for v in volume) if volume else None,
                              state=(state.group(1).lower() if state else "active"),
                              ident=name.group(1).strip() if name else ""))
    return outputs


def parse_wpctl_volume(text: str) -> tuple[int | None, bool]:
    match = re.search(r"Volume:\s*([\d.]+)(\s*\[MUTED\])?", text)
    if not match:
        return None, False
    return round(float(match.group(1)) * 100), bool(match.group(2))


def parse_asound_cards(text: str) -> list[Output]:
    """`` 0 [PCH            ]: HDA-Intel - HDA Intel PCH`` lines of /proc/asound/cards."""
    return [Output(name=m.group(2).strip(), muted=None)
            for m in re.finditer(r"^\s*(\d+) \[[^\]]*\]: (.+)$", text, re.M)]


def _linux(host: Host) -> Sound:
    if host.which("pactl"):
        done = host.run(["env", "LC_ALL=C", "pactl", "list", "sinks"], timeout=5)
        if done is not None and done.ok:
            outputs = parse_pactl_sinks(done.stdout)
            info = host.run(["env", "LC_ALL=C", "pactl", "info"], timeout=5)
            server, default = "", ""
            if info is not None and info.ok:
                found = re.search(r"^Server Name: (.+)$", info.stdout, re.M)
                server = found.group(1).strip() if found else ""
                found = re.search(r"^Default Sink: (.+)$", info.stdout, re.M)
                default = found.group(1).strip() if found else ""
            for output in outputs:
                output.default = output.ident == default
            return Sound("pipewire" if "PipeWire" in server else "pulseaudio", outputs, server)
    if host.which("wpctl"):
        done = host.run(["wpctl", "get-volume", "@DEFAULT_AUDIO_SINK@"], timeout=5)
        if done is not None and done.ok:
            volume, muted = parse_wpctl_volume(done.stdout)
            if volume is not None:
                return Sound("pipewire", [Output(name="default", muted=muted, volume_pct=volume, default=True)],
                             "PipeWire")
    try:
        cards = host.path("/proc/asound/cards").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return Sound("none")
    return Sound("alsa", parse_asound_cards(cards))


def _windows(host: Host) -> Sound:
    registry = host.registry
    if registry is None:
        return Sound("none")
    outputs = []
    for device in registry.subkeys(RENDER):
        values = registry.values(f"{RENDER}\\{device}")
        raw = values.get("DeviceState")
        state = int(raw) & 0xF if isinstance(raw, int) else 0
        props = registry.values(f"{RENDER}\\{device}\\Properties")
        name = " - ".join(p for p in (registry_str(props.get(_NAME)), registry_str(props.get(_INTERFACE))) if p)
        outputs.append(Output(name=name or device, active=state == 1, state=_STATES.get(state, "unknown")))
    return Sound("mmdevices", outputs)


def _macos(host: Host) -> Sound:
    done = host.run(["system_profiler", "SPAudioDataType", "-json"], timeout=15)
    if done is None or not done.ok:
        return Sound("none")
    try:
        data = json.loads(done.stdout)
    except ValueError:
        return Sound("none")
    outputs = []
    for group in data.get("SPAudioDataType", []):
        for item in group.get("_items", []):
            if item.get("coreaudio_device_output"):
                outputs.append(Output(name=str(item.get("_name", "?")),
                                      default=item.get("coreaudio_default_audio_output_device") == "spaudio_yes"))
    settings = host.run(["osascript", "-e", "get volume settings"], timeout=5)
    if settings is not None and settings.ok:
        volume = re.search(r"output volume:(\d+)", settings.stdout)
        muted = re.search(r"output muted:(true|false)", settings.stdout)
        for output in outputs:
            if output.default or len(outputs) == 1:
                output.volume_pct = int(volume.group(1)) if volume else None
                output.muted = (muted.group(1) == "true") if muted else None
    return Sound("coreaudio", outputs)


def probe(host: Host) -> Sound:
    if host.os == OS_LINUX:
        return _linux(host)
    if host.os == OS_WINDOWS:
        return _windows(host)
    if host.os == OS_MACOS:
        return _macos(host)
    return Sound("none")
