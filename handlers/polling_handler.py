"""PollingFunction: starts a DMS replication task or Serverless replication and polls it until it finishes."""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution

from aws_adapters.dms_gateway import DmsGateway
from job_kinds.dms_inputs import dms_work_for, parse_dms_request
from waiting.domain import MigrationResult
from waiting.observability import get_logger
from waiting.polling import PollingWaiter
from waiting.settings import PollingSettings
from waiting.workflow import run_migration_wait


@durable_execution
def handler(event: Any, context: DurableContext) -> MigrationResult:
    context.set_logger(get_logger())
    request = parse_dms_request(event)
    waiter = PollingWaiter(work=dms_work_for(request, DmsGateway()), settings=PollingSettings.from_env())
    return run_migration_wait(context, request, waiter)
