"""GluePollingFunction: starts a Glue job run and polls it with wait_for_condition until it ends."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution

from glue_job_run.rules import parse_job_run_input
from glue_job_run.work import GlueJobRunWork
from waiting.domain import MigrationResult
from waiting.observability import get_logger
from waiting.polling import PollingWaiter
from waiting.settings import PollingSettings
from waiting.workflow import run_migration_wait


@durable_execution
def handler(event: object, context: DurableContext) -> MigrationResult:
    context.set_logger(get_logger())
    request, arguments = parse_job_run_input(event)
    waiter = PollingWaiter(work=GlueJobRunWork(arguments), settings=PollingSettings.from_env())
    return run_migration_wait(context, request, waiter)
