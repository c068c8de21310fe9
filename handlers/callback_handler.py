"""CallbackFunction: claims a DMS replication task, starts it and waits for its event with a durable callback."""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext

from aws_adapters.correlation_store import CorrelationStore
from aws_adapters.dms_gateway import DmsGateway
from aws_adapters.durable_executions import DurableExecutions
from aws_adapters.telemetry import durable_execution_with_telemetry
from job_kinds.dms_task.rules import parse_task_request
from job_kinds.dms_task.work import DmsTaskWork
from waiting.callback_rounds import CallbackWaiter
from waiting.domain import MigrationResult
from waiting.observability import get_logger
from waiting.settings import CallbackSettings
from waiting.workflow import run_migration_wait


@durable_execution_with_telemetry
def handler(event: Any, context: DurableContext) -> MigrationResult:
    context.set_logger(get_logger())
    request = parse_task_request(event)
    settings = CallbackSettings.from_env()
    waiter = CallbackWaiter(
        store=CorrelationStore(settings.table_name),
        work=DmsTaskWork(DmsGateway()),
        settings=settings,
        liveness=DurableExecutions(),
    )
    return run_migration_wait(context, request, waiter)
