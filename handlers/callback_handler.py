"""CallbackFunction: claims a DMS replication task, starts it and waits for its event with a durable callback."""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution

from migration_wait.callback_waiting import CallbackWaiter
from migration_wait.correlation_store import CorrelationStore
from migration_wait.dms_gateway import DmsGateway
from migration_wait.dms_task_work import DmsTaskWork
from migration_wait.domain import MigrationResult, parse_migration_request
from migration_wait.durable_executions import DurableExecutions
from migration_wait.observability import get_logger
from migration_wait.settings import CallbackSettings
from migration_wait.workflow import run_migration_wait


@durable_execution
def handler(event: Any, context: DurableContext) -> MigrationResult:
    context.set_logger(get_logger())
    request = parse_migration_request(event)
    settings = CallbackSettings.from_env()
    waiter = CallbackWaiter(
        store=CorrelationStore(settings.table_name),
        work=DmsTaskWork(DmsGateway()),
        settings=settings,
        liveness=DurableExecutions(),
    )
    return run_migration_wait(context, request, waiter)
