"""The project as installed (make's `pip install -e .`): console commands that run from any directory with no
PYTHONPATH, every package under handlers/ importable by its own name, one-line usage errors, and make's exit code."""

from __future__ import annotations

import shutil
import sys
import tomllib
from pathlib import Path

import pytest

from tests.installed_commands import (
    REPOSITORY,
    TRACEBACK,
    assert_one_line_error,
    console_command,
    isolated_environment,
    run,
)

COMMANDS = sorted(tomllib.loads((REPOSITORY / "pyproject.toml").read_text())["project"]["scripts"])


def test_the_documented_commands_are_installed() -> None:
    assert set(COMMANDS) == {
        "migration-wait-compare",
        "migration-wait-benchmark-polling",
        "migration-wait-benchmark-callback",
        "migration-wait-faults",
        "migration-wait-third-party",
        "migration-wait-deployed",
        "migration-wait-standin",
    }


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_runs_from_any_directory_without_pythonpath(command: str, tmp_path: Path) -> None:
    result = run([console_command(command), "--help"], isolated_environment(tmp_path), cwd=tmp_path)

    assert result.code == 0, str(result)
    assert TRACEBACK not in result.stderr, str(result)
    assert "usage:" in result.stdout


@pytest.mark.parametrize(
    "argv", [["-m", "scripts.compare"], ["scripts/compare.py"]], ids=["python -m scripts.compare", "python scripts/"]
)
def test_the_scripts_run_from_the_repository_root_without_pythonpath(argv: list[str], tmp_path: Path) -> None:
    result = run([sys.executable, *argv, "--variants", ","], isolated_environment(tmp_path))

    assert_one_line_error(result, 2, "--variants names no variant")


def test_every_module_and_package_under_handlers_is_importable_by_its_own_name(tmp_path: Path) -> None:
    handlers = REPOSITORY / "handlers"
    names = sorted(
        path.stem if path.is_file() else path.name
        for path in handlers.iterdir()
        if (path.suffix == ".py" and path.is_file()) or (path / "__init__.py").is_file()
    )
    probe = "import importlib.util, sys; [print(importlib.util.find_spec(n).origin) for n in sys.argv[1:]]"

    result = run([sys.executable, "-c", probe, *names], isolated_environment(tmp_path), cwd=tmp_path)

    assert result.code == 0, str(result)
    origins = result.stdout.split()
    outside = [origin for origin in origins if not origin.startswith(str(handlers))]
    assert len(origins) == len(names)
    assert not outside, f"found outside handlers/: {outside}"


@pytest.mark.parametrize(
    ("command", "argv", "fragment"),
    [
        ("migration-wait-benchmark-polling", ["--durations", "15m,soon"], "malformed duration 'soon'"),
        ("migration-wait-benchmark-callback", ["--concurrency", "0"], "--concurrency must be at least 1"),
        ("migration-wait-faults", ["--only", "no such fault"], "no scenario matches --only"),
        ("migration-wait-faults", ["--json", "/proc/faults.json"], "--json /proc"),
        ("migration-wait-third-party", ["--duration", "soon"], "malformed duration 'soon'"),
        ("migration-wait-third-party", ["--safety-net", "0"], "CALLBACK_TIMEOUT_SECONDS must be between"),
        ("migration-wait-third-party", ["--misbehave", "shout"], "invalid choice: 'shout'"),
    ],
)
def test_the_other_commands_answer_a_mistake_with_one_line_and_exit_2(
    command: str, argv: list[str], fragment: str, tmp_path: Path
) -> None:
    result = run([console_command(command), *argv], isolated_environment(tmp_path))

    assert_one_line_error(result, 2, fragment)


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_exits_2_and_names_the_commands_own_code(tmp_path: Path) -> None:
    """make ends with 2 on any failure; its "Error N" line carries the command's own code (the Makefile header)."""
    # STAMP names a file make may not build (-o): the test uses this interpreter's environment as it is.
    bin_dir = Path(sys.executable).parent
    argv = ["make", "--no-print-directory", "compare", f"BIN={bin_dir}", "STAMP=.no-install", "-o", ".no-install"]

    result = run([*argv, "ARGS=--variants ,"], isolated_environment(tmp_path))

    assert result.code == 2, str(result)
    assert TRACEBACK not in result.stderr, str(result)
    assert "--variants names no variant" in result.stderr
    assert "compare] Error 2" in result.stderr
