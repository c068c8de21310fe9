"""Lambda's log capture, for the stand-in's in-process functions: the telemetry plugin prints each record as one
JSON line on stdout (``LambdaLogExporter``), and Lambda puts the function's stdout in its log group. Here each
record line goes to ``/aws/lambda/<functionName>`` (the function named in the record) in moto's CloudWatch Logs,
where ``migration-wait-deployed report`` reads it with FilterLogEvents; every other line goes to ``other``.
"""

from __future__ import annotations

import contextlib
import io
import json
import queue
import threading
import time
from typing import Any, Protocol

from aws_adapters.telemetry import RECORD_TYPE

_STREAM = "standin/[1]standin"


def telemetry_function(line: str) -> str | None:
    """The function whose telemetry record ``line`` is (the exporter's log envelope), or None for any other line."""
    try:
        envelope = json.loads(line)
        record = json.loads(envelope["message"]) if isinstance(envelope, dict) else None
    except (ValueError, KeyError, TypeError):
        return None
    if isinstance(record, dict) and record.get("recordType") == RECORD_TYPE and record.get("functionName"):
        return str(record["functionName"])
    return None


class TextSink(Protocol):
    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


class LogShipper(io.TextIOBase):
    """A stdout stand-in: record lines to their function's log group (a background thread), the rest to ``other``."""

    def __init__(self, logs_client: Any, other: TextSink) -> None:
        self.logs = logs_client
        self.other = other
        self.shipped = 0
        self._partial = ""
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[str, str, int] | None] = queue.Queue()
        self._groups: set[str] = set()
        self._thread = threading.Thread(target=self._ship, name="standin-log-shipping", daemon=True)
        self._thread.start()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self._lock:
            lines = (self._partial + text).split("\n")
            self._partial = lines.pop()
        for line in lines:
            function = telemetry_function(line)
            if function is None:
                self.other.write(line + "\n")
            else:
                self._queue.put((f"/aws/lambda/{function}", line, int(time.time() * 1000)))
        return len(text)

    def flush(self) -> None:
        self.other.flush()

    def drain(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not self._queue.empty() and time.monotonic() < deadline:
            time.sleep(0.01)

    def close(self) -> None:
        self.drain()
        self._queue.put(None)
        self._thread.join(timeout=5)
        super().close()

    def _ship(self) -> None:
        while (item := self._queue.get()) is not None:
            group, line, at = item
            if group not in self._groups:
                self._create(group)
            self.logs.put_log_events(
                logGroupName=group, logStreamName=_STREAM, logEvents=[{"timestamp": at, "message": line}]
            )
            self.shipped += 1

    def _create(self, group: str) -> None:
        for call, kwargs in (
            (self.logs.create_log_group, {"logGroupName": group}),
            (self.logs.create_log_stream, {"logGroupName": group, "logStreamName": _STREAM}),
        ):
            with contextlib.suppress(self.logs.exceptions.ResourceAlreadyExistsException):
                call(**kwargs)
        self._groups.add(group)
