"""The callback function's handler: claim the work, start it, wait for its completer (``CallbackWaiter``)."""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext

from aws_adapters.correlation_store import CorrelationStore
from aws_adapters.durable_executions import DurableExecutions
from aws_adapters.telemetry import durable_execution_with_telemetry
from waiting.callback_rounds import CallbackWaiter
from waiting.domain import MigrationResult, Variant
from waiting.entry_points import DurableHandler, InputParser
from waiting.observability import get_logger
from waiting.settings import CallbackSettings
from waiting.workflow import run_migration_wait


def callback_function(parse: InputParser, variant: Variant = Variant.CALLBACK) -> DurableHandler:
    """A durable handler that claims the work, starts it and waits for its completer or its safety net."""

    @durable_execution_with_telemetry
    def handler(event: Any, context: DurableContext) -> MigrationResult:
        context.set_logger(get_logger())
        request, work = parse(event)
        settings = CallbackSettings.from_env()
        store = CorrelationStore(settings.table_name)
        waiter = CallbackWaiter(store, work, settings, variant=variant, liveness=DurableExecutions())
        return run_migration_wait(context, request, waiter)

    return handler
