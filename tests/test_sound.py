"""Check ``sound``: a real PulseAudio server (a null sink, started by the test in its own
runtime folder) through the real ``examroom check``, then fixtures shaped like the other
systems' answers (Windows MMDevices registry keys, macOS system_profiler JSON, ALSA, wpctl)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from checks import sound
from checks.base import CheckContext
from core.host import CommandResult, Host
from checks.probes.sound import parse_asound_cards, parse_pactl_sinks, parse_wpctl_volume
from core.result import Status


@pytest.fixture
def pulse(tmp_path):
    if not shutil.which("pulseaudio") or not shutil.which("pactl"):
        pytest.skip("pulseaudio and pactl not installed (CI installs them: .ci/run)")
    runtime = tmp_path / "pulse"
    runtime.mkdir()
    socket = runtime / "native"
    env = {**os.environ, "HOME": str(runtime), "XDG_RUNTIME_DIR": str(runtime), "PULSE_RUNTIME_PATH": str(runtime)}
    env.pop("PULSE_SERVER", None)
    proc = subprocess.Popen(
        ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
         "-L", "module-null-sink sink_name=examroom_test sink_properties=device.description=Examroom-Test",
         "-L", f"module-native-protocol-unix socket={socket} auth-anonymous=1"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = {**os.environ, "PULSE_SERVER": f"unix:{socket}", "LC_ALL": "C"}
    deadline = time.monotonic() + 20
    while subprocess.run(["pactl", "info"], env=client, capture_output=True).returncode != 0:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("pulseaudio did not start")
        time.sleep(0.1)
    yield client
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _check(env: dict, home: Path) -> dict:
    done = subprocess.run([sys.executable, "-m", "agent", "check", "--only", "sound", "--lang", "en", "--json", "-"],
                          capture_output=True, text=True, timeout=60, env={**env, "EXAMROOM_HOME": str(home)})
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr, done.stderr
    return next(c for c in json.loads(done.stdout)["checks"] if c["id"] == "sound")


def test_real_pulseaudio_sink_then_muted(pulse, tmp_path):
    result = _check(pulse, tmp_path)
    assert result["status"] == "ok", result
    assert result["summary"] == "Audio output: Examroom-Test (volume 100%, not muted)"
    assert result["items"][0]["default"] is True
    subprocess.run(["pactl", "set-sink-mute", "examroom_test", "1"], env=pulse, check=True)
    muted = _check(pulse, tmp_path)
    assert muted["status"] == "warn" and muted["summary"] == "Sound is muted on Examroom-Test"
    assert "pactl set-sink-mute @DEFAULT_SINK@ 0" in muted["remediation"]
    subprocess.run(["pactl", "set-sink-mute", "examroom_test", "0"], env=pulse, check=True)
    subprocess.run(["pactl", "set-sink-volume", "examroom_test", "0%"], env=pulse, check=True)
    assert _check(pulse, tmp_path)["summary"] == "The volume is at zero on Examroom-Test"


def test_no_sound_server_and_no_card_is_a_warning(tmp_path):
    host = Host.fake("linux", tmp_path, env={"PATH": "/usr/bin"})
    result = sound.run(CheckContext(host=host, lang="fr"))
    assert result.status == Status.warn and result.summary.startswith("Aucune sortie audio")
    assert "aplay -l" in result.remediation


def test_alsa_cards_without_a_sound_server(tmp_path):
    (tmp_path / "proc/asound").mkdir(parents=True)
    (tmp_path / "proc/asound/cards").write_text(
        " 0 [PCH            ]: HDA-Intel - HDA Intel PCH\n                      HDA Intel PCH at 0xf7f10000 irq 32\n"
        " 1 [HDMI           ]: HDA-Intel - HDA Intel HDMI\n")
    assert [o.name for o in parse_asound_cards((tmp_path / "proc/asound/cards").read_text())] == [
        "HDA-Intel - HDA Intel PCH", "HDA-Intel - HDA Intel HDMI"]
    result = sound.run(CheckContext(host=Host.fake("linux", tmp_path, env={"PATH": "/usr/bin"}), lang="en"))
    assert result.status == Status.ok and "cannot be read from here" in result.summary
    assert parse_asound_cards("--- no soundcards ---\n") == []


def test_pipewire_wpctl_answers():
    assert parse_wpctl_volume("Volume: 0.40 [MUTED]\n") == (40, True)
    assert parse_wpctl_volume("Volume: 1.00\n") == (100, False)
    sinks = parse_pactl_sinks("Sink #56\n\tState: SUSPENDED\n\tName: alsa_output.pci-0000_00_1f.3.analog-stereo\n"
                              "\tDescription: Built-in Audio Analog Stereo\n\tMute: yes\n"
                              "\tVolume: front-left: 26214 /  40% / -23.88 dB,   front-right: 26214 /  40% / -23.88 dB\n")
    assert (sinks[0].name, sinks[0].muted, sinks[0].volume_pct) == ("Built-in Audio Analog Stereo", True, 40)


RENDER = "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\MMDevices\\Audio\\Render"


def test_windows_mmdevices(tmp_path):
    speakers = "{0.0.0.00000000}.{5f6c1b0e-38c8-4a8b-9b53-1d8e1f0b7d11}"
    hdmi = "{0.0.0.00000000}.{9b0d1f2e-5c1a-4f3e-8f4b-2a6e9c3d4b22}"
    registry = {
        f"{RENDER}\\{speakers}": {"DeviceState": 1},
        f"{RENDER}\\{speakers}\\Properties": {"{a45c254e-df1c-4efd-8020-67d146a850e0},2": "Haut-parleurs",
                                              "{b3f8fa53-0004-438e-9003-51a46e139bfc},6": "Realtek(R) Audio"},
        f"{RENDER}\\{hdmi}": {"DeviceState": 4},
        f"{RENDER}\\{hdmi}\\Properties": {"{a45c254e-df1c-4efd-8020-67d146a850e0},2": "LG ULTRAFINE",
                                          "{b3f8fa53-0004-438e-9003-51a46e139bfc},6": "Intel(R) Display Audio"},
    }
    result = sound.run(CheckContext(host=Host.fake("windows", tmp_path, registry=registry), lang="fr"))
    assert result.status == Status.ok and "Haut-parleurs - Realtek(R) Audio" in result.summary
    assert {i.name: i.detail for i in result.items}["LG ULTRAFINE - Intel(R) Display Audio"] == "absente"
    registry[f"{RENDER}\\{speakers}"] = {"DeviceState": 8}  # headphones unplugged
    unplugged = sound.run(CheckContext(host=Host.fake("windows", tmp_path, registry=registry), lang="en"))
    assert unplugged.status == Status.warn and "Settings > System > Sound" in unplugged.remediation


def test_macos_coreaudio(tmp_path):
    profile = {"SPAudioDataType": [{"_name": "coreaudio_device", "_items": [
        {"_name": "MacBook Air Microphone", "coreaudio_device_input": 1, "coreaudio_default_audio_input_device": "spaudio_yes"},
        {"_name": "MacBook Air Speakers", "coreaudio_device_output": 2, "coreaudio_device_srate": 48000,
         "coreaudio_default_audio_output_device": "spaudio_yes", "coreaudio_default_audio_system_device": "spaudio_yes"}]}]}
    commands = {("system_profiler", "SPAudioDataType", "-json"): json.dumps(profile),
                ("osascript", "-e", "get volume settings"):
                    "output volume:44, input volume:50, alert volume:100, output muted:false\n"}
    result = sound.run(CheckContext(host=Host.fake("macos", tmp_path, commands=commands), lang="en"))
    assert result.status == Status.ok and result.summary == "Audio output: MacBook Air Speakers (volume 44%, not muted)"
    commands[("osascript", "-e", "get volume settings")] = CommandResult(
        0, "output volume:44, input volume:50, alert volume:100, output muted:true\n")
    muted = sound.run(CheckContext(host=Host.fake("macos", tmp_path, commands=commands), lang="fr"))
    assert muted.status == Status.warn and muted.summary == "Le son est coupé sur MacBook Air Speakers"
