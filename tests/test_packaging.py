"""pyproject.toml against the pinned requirements and the licence: every dependency pinned, one build backend pin,
every console command a real main, the licence MIT-0."""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path
from typing import Any

from tests.installed_commands import REPOSITORY

PYPROJECT: dict[str, Any] = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())
_PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)(\[[^\]]*\])?==(?P<version>\S+)$")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(path: Path) -> dict[str, str]:
    """Exact pins of a requirements file, following -r includes."""
    pins: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r "):
            pins |= _pins(path.parent / line[3:].strip())
            continue
        match = _PIN.match(line)
        assert match, f"{path.name}: {line!r} is not an exact pin (name==version)"
        pins[_canonical(match["name"])] = match["version"]
    return pins


def _name(requirement: str) -> str:
    return _canonical(re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0])


def test_every_dependency_of_the_project_is_pinned_in_the_requirements() -> None:
    # The main job's file: make compare installs only it, so the project's dependencies must all be there.
    pins = _pins(REPOSITORY / "requirements-compare.txt")

    unpinned = [d for d in PYPROJECT["project"]["dependencies"] if _name(d) not in pins]

    assert not unpinned, f"pin these in requirements-compare.txt or handlers/requirements.txt: {unpinned}"


def test_the_build_backend_is_pinned_once_for_make_and_pip() -> None:
    backend = PYPROJECT["build-system"]["requires"]
    pins = _pins(REPOSITORY / "requirements-dev.txt")

    assert backend == [f"hatchling=={pins['hatchling']}"], f"[build-system] {backend} differs from requirements-dev"


def test_every_console_command_is_a_main_function() -> None:
    for command, target in PYPROJECT["project"]["scripts"].items():
        module_name, _, function = target.partition(":")
        main = getattr(importlib.import_module(module_name), function, None)
        assert callable(main), f"{command} -> {target} is not a function"


def test_the_licence_is_mit_0_with_the_projects_copyright_line() -> None:
    text = (REPOSITORY / "LICENSE").read_text()

    assert text.startswith("MIT No Attribution\n\nCopyright 2026 the migration-wait authors\n")
    assert "without restriction" in text
    assert PYPROJECT["project"]["license"] == "MIT-0"
