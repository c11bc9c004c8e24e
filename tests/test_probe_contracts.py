"""One shape per OS fact (as psutil's test_contracts.py): every ``checks/probes/<fact>.py`` that
declares ``OS_FUNCTIONS`` has a ``<fact>_linux.py``, ``<fact>_windows.py`` and
``<fact>_macos.py`` defining each of those functions with the public one's parameters; each
answers on a bare fake host of its OS without raising; and no probe asks whether the host
is real (what differs comes from the Host: files, registry, commands, ``host.native``).
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import checks.probes
from checks.probes import for_os
from core.host import OSES, Host

PROBES = Path(checks.probes.__file__).parent
FACTS = sorted(
    info.name for info in pkgutil.iter_modules([str(PROBES)])
    if hasattr(importlib.import_module(f"checks.probes.{info.name}"), "OS_FUNCTIONS")
)
# Arguments after the host, for the functions that take some.
EXTRA_ARGS = {"default_program": ("zip",), "find_programs": ({},)}


def test_the_facts_of_issue_12_have_the_shape():
    assert {"displays", "pointing", "archivers", "folders", "filetypes", "software"} <= set(FACTS)


@pytest.mark.parametrize("fact", FACTS)
@pytest.mark.parametrize("os_name", OSES)
def test_every_os_module_offers_the_same_functions(fact, os_name):
    public = importlib.import_module(f"checks.probes.{fact}")
    module = importlib.import_module(f"checks.probes.{fact}_{os_name}")
    assert public.OS_FUNCTIONS, fact
    for name in public.OS_FUNCTIONS:
        implementation = getattr(module, name, None)
        assert inspect.isfunction(implementation), f"{module.__name__} lacks {name}()"
        assert implementation.__module__ == module.__name__, f"{module.__name__}.{name} is imported, not defined"
        params = list(inspect.signature(implementation).parameters)
        assert params == list(inspect.signature(getattr(public, name)).parameters), f"{module.__name__}.{name}"
        assert params[0] == "host"


@pytest.mark.parametrize("fact", FACTS)
@pytest.mark.parametrize("os_name", OSES)
def test_every_fact_answers_on_a_bare_host_of_every_os(fact, os_name, tmp_path):
    """Nothing there (no files, registry, commands or native APIs): an answer, not a crash."""
    public = importlib.import_module(f"checks.probes.{fact}")
    host = Host.fake(os_name, tmp_path, registry={} if os_name == "windows" else None)
    for name in public.OS_FUNCTIONS:
        getattr(public, name)(host, *EXTRA_ARGS.get(name, ()))
    assert for_os(host, fact).__name__ == f"checks.probes.{fact}_{os_name}"


def test_no_probe_asks_whether_the_host_is_real():
    """Real and fake hosts differ only inside core/host.py (paths, natives, the process list)."""
    asking = [p.name for p in PROBES.glob("*.py") if "is_real" in p.read_text(encoding="utf-8")]
    assert not asking, asking


def test_native_apis_come_from_the_host_and_only_on_the_real_machine(tmp_path):
    built = []

    def real():
        built.append(1)
        return "the real API"

    fake = Host.fake("windows", tmp_path, native={"win32.displays": "a stand-in"})
    assert fake.native("win32.displays", real) == "a stand-in"
    assert fake.native("win32.pointing", real) is None and not built  # absent, never built
    current = Host.current()
    assert current.native("test.api", real) == "the real API" == current.native("test.api", real)
    assert built == [1]  # built once, kept


def test_an_unknown_os_is_said():
    with pytest.raises(ValueError, match="unknown OS 'plan9'"):
        for_os(Host(os="plan9"), "displays")
