"""The completer's handler: an event about some work in, the waiting execution's callback completed at most once."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_adapters.callback_sender import CallbackSender
from aws_adapters.correlation_store import CorrelationStore
from waiting.event_completion import CompletionReport, EventCompleter
from waiting.observability import get_logger
from waiting.settings import CompleterSettings
from waiting.work_events import WorkEvents

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def completer_function(
    sources: Callable[[], tuple[WorkEvents, ...]],
) -> Callable[[Any, LambdaContext], CompletionReport]:
    """A handler for events (an EventBridge rule's target) that completes the waiting executions' callbacks."""

    def handler(event: Any, context: LambdaContext) -> CompletionReport:
        logger = get_logger()
        logger.append_keys(function_name=context.function_name, function_request_id=context.aws_request_id)
        settings = CompleterSettings.from_env()
        store = CorrelationStore(settings.table_name)
        return EventCompleter(store, sources(), CallbackSender(), settings, logger).handle(event)

    return handler
