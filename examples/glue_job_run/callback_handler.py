"""GlueCallbackFunction: claims a Glue job, starts a run and waits for its event with a durable callback."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution

from aws_adapters.correlation_store import CorrelationStore
from aws_adapters.durable_executions import DurableExecutions
from glue_job_run.rules import parse_job_run_input
from glue_job_run.work import GlueJobRunWork
from waiting.callback_rounds import CallbackWaiter
from waiting.domain import MigrationResult
from waiting.observability import get_logger
from waiting.settings import CallbackSettings
from waiting.workflow import run_migration_wait


@durable_execution
def handler(event: object, context: DurableContext) -> MigrationResult:
    context.set_logger(get_logger())
    request, arguments = parse_job_run_input(event)
    settings = CallbackSettings.from_env()
    store, work = CorrelationStore(settings.table_name), GlueJobRunWork(arguments)
    waiter = CallbackWaiter(store=store, work=work, settings=settings, liveness=DurableExecutions())
    return run_migration_wait(context, request, waiter)
