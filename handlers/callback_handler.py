"""CallbackFunction: claims a DMS replication task or Serverless replication, starts it and waits for its event."""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution

from aws_adapters.correlation_store import CorrelationStore
from aws_adapters.dms_gateway import DmsGateway
from aws_adapters.durable_executions import DurableExecutions
from job_kinds.dms_inputs import dms_work_for, parse_dms_request
from waiting.callback_rounds import CallbackWaiter
from waiting.domain import MigrationResult
from waiting.observability import get_logger
from waiting.settings import CallbackSettings
from waiting.workflow import run_migration_wait


@durable_execution
def handler(event: Any, context: DurableContext) -> MigrationResult:
    context.set_logger(get_logger())
    request = parse_dms_request(event)
    settings = CallbackSettings.from_env()
    waiter = CallbackWaiter(
        store=CorrelationStore(settings.table_name),
        work=dms_work_for(request, DmsGateway()),
        settings=settings,
        liveness=DurableExecutions(),
    )
    return run_migration_wait(context, request, waiter)
