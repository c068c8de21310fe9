"""GlueEventsFunction: a Glue job run ended; complete the callback of the execution waiting for its job."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from aws_adapters.callback_sender import CallbackSender
from aws_adapters.correlation_store import CorrelationStore
from glue_job_run.events import GlueJobEvents
from glue_job_run.work import GlueJobRunWork
from waiting.event_completion import CompletionReport, EventCompleter
from waiting.observability import get_logger
from waiting.settings import CompleterSettings


def handler(event: object, context: LambdaContext) -> CompletionReport:
    logger = get_logger()
    logger.append_keys(function_name=context.function_name, function_request_id=context.aws_request_id)
    settings = CompleterSettings.from_env()
    events = GlueJobEvents(GlueJobRunWork({}, attempts=5))  # no step retry here: botocore retries Glue's answers
    completer = EventCompleter(CorrelationStore(settings.table_name), (events,), CallbackSender(), settings, logger)
    return completer.handle(event)
