"""ThirdPartyJobFunction: a third party runs the migration and calls back a signed URL; wait with a durable callback."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aws_durable_execution_sdk_python import DurableContext

from aws_adapters.correlation_store import CorrelationStore
from aws_adapters.durable_executions import DurableExecutions
from aws_adapters.telemetry import durable_execution_with_telemetry
from callback_api.tokens import CallbackTokenStore
from job_kinds.dms_task.rules import parse_task_request
from job_kinds.third_party_job.jobs_api import ThirdPartyJobs
from job_kinds.third_party_job.work import ThirdPartyJobWork
from waiting.callback_rounds import CORRELATION_GRACE, CallbackWaiter
from waiting.domain import MigrationResult, Variant
from waiting.observability import get_logger
from waiting.settings import CallbackSettings, ThirdPartySettings
from waiting.workflow import run_migration_wait


@durable_execution_with_telemetry
def handler(event: Any, context: DurableContext) -> MigrationResult:
    context.set_logger(get_logger())
    request = parse_task_request(event)
    settings = CallbackSettings.from_env()
    third_party = ThirdPartySettings.from_env()
    work = ThirdPartyJobWork(
        tokens=CallbackTokenStore(third_party.token_table_name),
        jobs=ThirdPartyJobs(third_party.api_url, third_party.request_timeout_seconds),
        callback_api_url=third_party.callback_api_url,
        token_lifetime=timedelta(seconds=settings.max_wait_seconds) + CORRELATION_GRACE,
    )
    waiter = CallbackWaiter(
        store=CorrelationStore(settings.table_name),
        work=work,
        settings=settings,
        variant=Variant.THIRD_PARTY,
        liveness=DurableExecutions(),
    )
    return run_migration_wait(context, request, waiter)
