"""The polling function's handler: start the work, then poll it (``PollingWaiter``)."""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext

from aws_adapters.telemetry import durable_execution_with_telemetry
from waiting.domain import MigrationResult
from waiting.entry_points import DurableHandler, InputParser
from waiting.observability import get_logger
from waiting.polling import PollingWaiter
from waiting.settings import PollingSettings
from waiting.workflow import run_migration_wait


def polling_function(parse: InputParser) -> DurableHandler:
    """A durable handler that starts the work and polls it."""

    @durable_execution_with_telemetry
    def handler(event: Any, context: DurableContext) -> MigrationResult:
        context.set_logger(get_logger())
        request, work = parse(event)
        return run_migration_wait(context, request, PollingWaiter(work=work, settings=PollingSettings.from_env()))

    return handler
