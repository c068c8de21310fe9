"""What every command shares: one-line usage errors (exit 2) and the checks of an output path made before any work."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import NoReturn

OK = 0
FAILED = 1
USAGE_ERROR = 2


class CommandLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr (no usage block), exit 2; subcommands inherit it."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (--help shows the usage)\n")


def usage_error(prog: str, message: str) -> int:
    """Print ``prog: error: message`` on stderr and return the usage-error exit code."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    return USAGE_ERROR


def output_directory_problem(path: Path) -> str | None:
    """Why ``path`` cannot become a directory to write into, or None when it can.

    Writes and removes a probe file rather than asking os.access: as root, access() says yes to every directory.
    """
    existing = path
    try:
        if path.exists() and not path.is_dir():
            return f"{path} is a file, not a directory"
        while not existing.exists():
            existing = existing.parent
        if not existing.is_dir():
            return f"{path}: {existing} is a file, not a directory"
        handle, probe = tempfile.mkstemp(prefix=".write-probe-", dir=existing)
    except OSError as err:
        return f"{path}: cannot write in {existing} ({err.strerror or err})"
    os.close(handle)
    Path(probe).unlink()
    return None


def output_file_problem(path: Path) -> str | None:
    """Why a file cannot be written at ``path`` (its folder must exist), or None when it can."""
    if path.is_dir():
        return f"{path} is a directory, not a file"
    if not path.parent.is_dir():
        return f"{path}: no such directory {path.parent}"
    return output_directory_problem(path.parent)
