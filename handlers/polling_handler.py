"""PollingFunction: starts a DMS replication task and polls it with wait_for_condition until it finishes."""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext

from aws_adapters.dms_gateway import DmsGateway
from aws_adapters.telemetry import durable_execution_with_telemetry
from job_kinds.dms_task.rules import parse_task_request
from job_kinds.dms_task.work import DmsTaskWork
from waiting.domain import MigrationResult
from waiting.observability import get_logger
from waiting.polling import PollingWaiter
from waiting.settings import PollingSettings
from waiting.workflow import run_migration_wait


@durable_execution_with_telemetry
def handler(event: Any, context: DurableContext) -> MigrationResult:
    context.set_logger(get_logger())
    request = parse_task_request(event)
    waiter = PollingWaiter(work=DmsTaskWork(DmsGateway()), settings=PollingSettings.from_env())
    return run_migration_wait(context, request, waiter)
