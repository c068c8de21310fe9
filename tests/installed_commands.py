"""Run the project's commands as a user does: the installed console command (or ``python -m``) in a subprocess,
with no PYTHONPATH and an environment that holds no real AWS profile, credentials or endpoint."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
TRACEBACK = "Traceback (most recent call last)"
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class CommandRun:
    argv: list[str]
    code: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return f"{' '.join(self.argv)} exited {self.code}\nstdout: {self.stdout[-2000:]}\nstderr: {self.stderr[-2000:]}"


def console_command(name: str) -> str:
    """The console command installed beside this interpreter; a clear failure when the project is not installed."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        pytest.fail(f"{name} is not installed in {sys.prefix}: `make test` installs the project (pip install -e .)")
    return str(path)


def isolated_environment(home: Path, **settings: str) -> dict[str, str]:
    """No PYTHONPATH, no AWS configuration or credentials from this machine, no instance metadata, one attempt
    per AWS call (so a refused connection or a throttle is reported at once); ``settings`` on top."""
    missing = home / "no-such-aws-file"
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "AWS_CONFIG_FILE": str(missing),
        "AWS_SHARED_CREDENTIALS_FILE": str(missing),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "1",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        **settings,
    }


def run(argv: Sequence[str], env: dict[str, str], cwd: Path = REPOSITORY) -> CommandRun:
    completed = subprocess.run(  # noqa: S603 -- this project's own commands, fixed arguments
        list(argv), capture_output=True, text=True, timeout=_TIMEOUT_SECONDS, check=False, env=env, cwd=cwd
    )
    return CommandRun(list(argv), completed.returncode, completed.stdout, completed.stderr)


def assert_one_line_error(result: CommandRun, code: int, *fragments: str) -> None:
    """Exit ``code``, no traceback, and stderr one line that contains every fragment."""
    assert TRACEBACK not in result.stderr, f"a traceback instead of an error message:\n{result}"
    assert result.code == code, f"expected exit {code}:\n{result}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{result}"
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} is not in the error line:\n{result}"
