"""DmsEventsFunction: a DMS task or Serverless replication stopped or failed; complete its waiting callback."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from aws_adapters.callback_sender import CallbackSender
from aws_adapters.clients import completer_dms_client
from aws_adapters.correlation_store import CorrelationStore
from aws_adapters.dms_gateway import DmsGateway
from job_kinds.dms_serverless.events import DmsReplicationEvents
from job_kinds.dms_task.events import DmsTaskEvents
from waiting.event_completion import CompletionReport, EventCompleter
from waiting.observability import get_logger
from waiting.settings import CompleterSettings


def handler(event: Any, context: LambdaContext) -> CompletionReport:
    logger = get_logger()
    logger.append_keys(function_name=context.function_name, function_request_id=context.aws_request_id)
    settings = CompleterSettings.from_env()
    gateway = DmsGateway(completer_dms_client())
    completer = EventCompleter(
        store=CorrelationStore(settings.table_name),
        sources=(DmsTaskEvents(gateway), DmsReplicationEvents(gateway)),
        sender=CallbackSender(),
        settings=settings,
        logger=logger,
    )
    return completer.handle(event)
