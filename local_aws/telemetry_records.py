"""The telemetry records of local executions: the handlers' own DurableExecutionTelemetry records, read back.

Every local environment points the handlers' telemetry (``aws_adapters.telemetry``) at one directory per process,
removed when the process ends, so each execution's record can be looked up by its ARN after it ended. The
comparison counts its operations from the record as well as from the store (``local_aws.comparison.telemetry``).
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aws_adapters.telemetry import RECORD_TYPE

# The plugin flushes the record before the invocation returns; a short grace covers a file still being appended.
_FIND_TIMEOUT_SECONDS = 5.0
_FIND_POLL_SECONDS = 0.01
_lock = threading.Lock()
_directory: list[Path] = []


def local_telemetry_directory() -> Path:
    """This process's telemetry directory, made on first use and removed at exit."""
    with _lock:
        if not _directory:
            path = Path(tempfile.mkdtemp(prefix="migration-wait-telemetry-"))
            atexit.register(shutil.rmtree, path, True)
            _directory.append(path)
        return _directory[0]


def read_records(directory: Path) -> Iterator[dict[str, Any]]:
    """Every DurableExecutionTelemetry record written under ``directory`` (FileExporter's NDJSON files)."""
    for path in sorted(directory.glob("*.ndjson")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line still being written
            if isinstance(record, dict) and record.get("recordType") == RECORD_TYPE:
                yield record


def find_record(
    execution_arn: str, directory: Path | None = None, timeout: float = _FIND_TIMEOUT_SECONDS
) -> dict[str, Any] | None:
    """The final record of one execution (the last one written), or None if none came within ``timeout``."""
    where = directory or local_telemetry_directory()
    deadline = time.monotonic() + timeout
    while True:
        found = [r for r in read_records(where) if r.get("executionArn") == execution_arn]
        if found:
            return found[-1]
        if time.monotonic() >= deadline:
            return None
        time.sleep(_FIND_POLL_SECONDS)
