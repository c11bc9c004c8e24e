"""The import graph, computed from the code (ast over every module): no cycle, no upward import.

The layers, lowest first; a package may import only the packages listed for it:

    core          -> (nothing of examroom)   Host, BadInput, i18n, report and event models
    checks.probes -> core                     facts about the machine (probes gather facts)
    whitelist     -> core, checks.probes      (browser profiles, proxy settings)
    checks        -> core, checks.probes, whitelist   (checks judge; whitelist/bandwidth probe lists)
    agent         -> core, checks.probes, checks, whitelist   (the crash test, renderers, upload client)
    companion     -> core, agent, checks.probes, whitelist   (the agent's client and outbox)
    supervisor    -> core                     (the server sees reports and events, never check code)

One exception: ``agent.cli`` (and ``agent.__main__``) is the root of the ``examroom`` command;
it may import the ``cli`` (or ``cli_*``) modules of every package, and nothing imports it.

Imports inside functions count the same as those at the top of a module: a lazy import is
still a dependency.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "whitelist", "checks", "agent", "companion", "supervisor")
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "checks.probes": {"core"},
    "whitelist": {"core", "checks.probes"},
    "checks": {"core", "checks.probes", "whitelist"},
    "agent": {"core", "checks", "checks.probes", "whitelist"},
    "companion": {"core", "agent", "checks.probes", "whitelist"},
    "supervisor": {"core"},
}
CLI_ROOT = {"agent.cli", "agent.__main__"}

# Cycles owned by other work in progress, each to be cut by it: a cycle through the anchor
# module, all inside the given package, is tolerated. The test fails when an anchor is no longer
# in a cycle, so that this list only shrinks.
KNOWN_CYCLES: dict[str, str] = {}


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The examroom modules ``name`` imports (``from x import y`` counts x.y when y is a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    targets: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets.add(module)
            targets.update(f"{module}.{alias.name}" for alias in node.names)
    resolved: set[str] = set()
    for target in targets:
        while target and target not in known:  # a name inside a module: the module itself
            target = target.rpartition(".")[0]
        if target and target != name:
            resolved.add(target)
    return resolved


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(frozenset(component))
    return found


def test_the_graph_sees_the_imports_it_must_see():
    edges = graph()
    # a top-level import, a lazy one inside a function, and "from package import module"
    assert "core.host" in edges["core.state"]
    assert "agent.client" in edges["companion.session"]
    assert "whitelist.proxy" in edges["companion.network"]
    assert "checks.probes.xdg" in edges["checks.probes.software_linux"]
    assert {frozenset({"a", "b"})} == set(cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}))


def _tolerated(cycle: frozenset[str]) -> bool:
    return any(anchor in cycle and all(m == package or m.startswith(package + ".") for m in cycle)
               for anchor, package in KNOWN_CYCLES.items())


def test_no_import_cycle():
    found = cycles(graph())
    new = [c for c in found if not _tolerated(c)]
    assert not new, "import cycles: " + "; ".join(" <-> ".join(sorted(c)) for c in new)
    gone = [anchor for anchor in KNOWN_CYCLES if not any(anchor in c for c in found)]
    assert not gone, f"cut, remove from KNOWN_CYCLES: {gone}"


def layer(module: str) -> str:
    return "checks.probes" if module == "checks.probes" or module.startswith("checks.probes.") else module.split(".")[0]


def test_no_upward_import():
    wrong = []
    for name, targets in graph().items():
        package = layer(name)
        for target in targets:
            other = layer(target)
            if other == package or other in ALLOWED[package]:
                continue
            if name in CLI_ROOT and target.rpartition(".")[2].split("_")[0] == "cli":  # x.cli, x.cli_users
                continue
            wrong.append(f"{name} -> {target}")
    assert not wrong, "imports against the layers (see this file's docstring):\n" + "\n".join(sorted(wrong))


def test_nothing_imports_the_command_line_root():
    users = sorted(name for name, targets in graph().items() if targets & CLI_ROOT and name not in CLI_ROOT)
    assert not users, users
