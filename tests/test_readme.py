"""The README a newcomer reads: its commands exist and CI runs the one it gives for the tests."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.S | re.M)
    assert match, f"README has no section {title!r}"
    return match.group(1)


def _code_blocks(text: str) -> list[str]:
    return [block.strip() for block in re.findall(r"```[a-z]*\n(.*?)```", text, re.S)]


def test_links_point_inside_the_repository() -> None:
    targets = re.findall(r"\]\(([^)]+)\)", README)
    assert targets, "the README links to its docs"
    for target in targets:
        assert "://" not in target and not target.startswith(("/", "..")), target
        assert (ROOT / target.split("#")[0]).exists(), f"README links to a missing file: {target}"
    # paths quoted as code: the ones that look like files of the repository exist
    for path in re.findall(r"`((?:docs|scripts|tests|\.ci|bench|checks|agent)/[\w./-]*)`", README):
        if "NAME" not in path:
            assert (ROOT / path).exists(), f"README names a missing file: {path}"
    assert "../" not in README


def test_ci_runs_exactly_the_readme_test_command() -> None:
    blocks = _code_blocks(_section("Run the tests"))
    assert len(blocks) == 1 and "\n" not in blocks[0], blocks
    command = blocks[0]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    run_lines = [line.strip() for line in ci.splitlines() if line.strip().startswith(command.split()[0])]
    assert run_lines and run_lines[0].split(" ||")[0] == command, run_lines
    script = ROOT / command.split()[0]
    assert script.is_file() and script.stat().st_mode & 0o111, f"{script} must exist and be executable"


def test_no_password_on_a_command_line() -> None:
    # every local user can read a process's argv: the README shows the environment variable
    for block in _code_blocks(README):
        assert "--admin-password " not in block and "--admin-password=" not in block, block
    assert "EXAMROOM_ADMIN_PASSWORD" in _section("Run the supervisor server")


def test_the_companion_command_line_is_shown() -> None:
    server = "\n".join(_code_blocks(_section("Run the supervisor server")))
    assert re.search(r"^examroom companion --server \S+ --room \S+", server, re.M), server
