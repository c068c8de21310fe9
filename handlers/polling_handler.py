"""PollingFunction: starts a DMS replication task and polls it with wait_for_condition until it finishes."""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution

from migration_wait.dms_gateway import DmsGateway
from migration_wait.dms_task_work import DmsTaskWork
from migration_wait.domain import MigrationResult, parse_migration_request
from migration_wait.observability import get_logger
from migration_wait.polling import PollingWaiter
from migration_wait.settings import PollingSettings
from migration_wait.workflow import run_migration_wait


@durable_execution
def handler(event: Any, context: DurableContext) -> MigrationResult:
    context.set_logger(get_logger())
    request = parse_migration_request(event)
    waiter = PollingWaiter(work=DmsTaskWork(DmsGateway()), settings=PollingSettings.from_env())
    return run_migration_wait(context, request, waiter)
