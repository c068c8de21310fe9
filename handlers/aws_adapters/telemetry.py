"""The SDK team's telemetry plugin on every durable function: one DurableExecutionTelemetry record per execution.

By default the record is one JSON line in the function's own log group (the exporter's ``LambdaLogExporter``), which
``migration-wait-deployed report`` reads back. Two environment settings change where it goes, read per record (the
plugin is built once, when the handler module is imported):

- ``MIGRATION_WAIT_TELEMETRY=off``: no record is exported (the plugin still runs);
- ``MIGRATION_WAIT_TELEMETRY_DIRECTORY=/path``: the record is appended to ``/path/YYYY-MM-DD.ndjson`` instead (the
  exporter's ``FileExporter``); the local runs use it to cross-check their counts against the records.

The record lists every operation (``full-tree``, so a wait_for_callback's inner callback and submitter are there too)
with its type, subtype, name, status and attempt count.

OpenTelemetry traces are a separate plugin (``aws-durable-execution-sdk-python-otel``), found by the SDK's plugin
discovery when installed and named in ``DURABLE_EXECUTION_PLUGINS``: see docs/operate.md.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.types import LambdaContext
from aws_durable_execution_sdk_python_telemetry_exporter import (
    DurableExecutionTelemetryConfig,
    DurableExecutionTelemetryPluginFactory,
    FileExporter,
    LambdaLogExporter,
    OperationDetail,
    durable_execution_telemetry,
)

TELEMETRY_VARIABLE = "MIGRATION_WAIT_TELEMETRY"
TELEMETRY_DIRECTORY_VARIABLE = "MIGRATION_WAIT_TELEMETRY_DIRECTORY"
TELEMETRY_OFF = "off"
RECORD_TYPE = "DurableExecutionTelemetry"


@cache
def _log_exporter() -> LambdaLogExporter:
    return LambdaLogExporter()


@cache
def _file_exporter(directory: str) -> FileExporter:
    return FileExporter(directory=directory)


def _destination() -> LambdaLogExporter | FileExporter | None:
    if os.environ.get(TELEMETRY_VARIABLE, "").strip().lower() == TELEMETRY_OFF:
        return None
    directory = os.environ.get(TELEMETRY_DIRECTORY_VARIABLE, "").strip()
    return _file_exporter(directory) if directory else _log_exporter()


class ConfiguredExporter:
    """A TelemetryExporter that hands each record to the destination the environment names at that moment."""

    @property
    def max_record_size_bytes(self) -> int | None:
        destination = _destination()
        return destination.max_record_size_bytes if destination is not None else None

    @max_record_size_bytes.setter
    def max_record_size_bytes(self, _value: int | None) -> None:
        # The protocol declares a settable attribute; the limit is the destination's own.
        return

    def render(self, record: dict[str, Any]) -> Any:
        destination = _destination()
        return destination.render(record) if destination is not None else record

    def measure(self, rendered: Any) -> int | None:
        destination = _destination()
        measure = getattr(destination, "measure", None)
        return measure(rendered) if callable(measure) else None

    def export(self, record: dict[str, Any]) -> None:
        destination = _destination()
        if destination is not None:
            destination.export(record)

    def flush(self) -> None:
        destination = _destination()
        if destination is not None:
            destination.flush()


def durable_execution_with_telemetry(
    func: Callable[[Any, DurableContext], Any],
) -> Callable[[Any, LambdaContext], Any]:
    """``@durable_execution`` with the telemetry plugin (the SDK types its parameterised form as taking ``func``)."""
    return durable_execution(func, plugins=[telemetry_plugin()])


def telemetry_plugin() -> DurableExecutionTelemetryPluginFactory:
    """The plugin factory for ``@durable_execution(plugins=[...])``: one record when the execution ends."""
    return durable_execution_telemetry(
        DurableExecutionTelemetryConfig(exporters=[ConfiguredExporter()], operation_detail=OperationDetail.FULL_TREE)
    )
