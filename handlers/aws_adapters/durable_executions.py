"""Lambda adapter: a durable execution's status, and how one of its callbacks ended, read from Lambda's own APIs.

What botocore's lambda model (2015-03-31) offers, and what this module builds on:

- ``GetDurableExecution`` answers ``Status``: RUNNING, SUCCEEDED, FAILED, TIMED_OUT, STOPPED, and also PAUSING,
  PAUSED and DELETING. An unknown ARN (never started, or past its retention) answers ``ResourceNotFoundException``.
- ``GetDurableExecutionHistory`` (pages by ``Marker`` / ``NextMarker``, at most 1,000 events each, ``ReverseOrder``)
  lists events. Only ``CallbackStarted`` names the callback (``CallbackStartedDetails.CallbackId``); the closing
  events ``CallbackSucceeded`` / ``CallbackFailed`` / ``CallbackTimedOut`` carry the operation id (``Id``) and their
  details only: ``Result`` (an EventResult: ``Payload``, ``Truncated``) or ``Error`` (an EventError: ``Payload``, an
  ErrorObject with ErrorType / ErrorMessage / ErrorData, and ``Truncated``). So a callback's outcome takes two steps:
  the CallbackStarted event with this CallbackId gives the operation id; the closing event with that id, if any,
  gives the outcome. The history is read newest first, so a recent callback is usually found on the first page.
- ``GetDurableExecutionState`` lists operations whose ``CallbackDetails`` hold CallbackId, Result and Error together,
  but it requires the execution's ``CheckpointToken``, which only the running function has: not usable from outside.
- Payloads are included only with ``IncludeExecutionData=True``; a payload Lambda did not include in full is marked
  ``Truncated``. A truncated payload proves nothing, so ``CallbackOutcome.shows_success`` / ``shows_failure`` are
  False for it.

IAM: ``lambda:GetDurableExecution`` and ``lambda:GetDurableExecutionHistory`` on the durable executions read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from aws_adapters.clients import lambda_client
from aws_adapters.error_details import error_details, is_transient
from waiting.errors import (
    DurableCallbackNotFoundError,
    DurableExecutionNotFoundError,
    DurableExecutionReadRejectedError,
    DurableExecutionReadUnavailableError,
    MigrationWaitError,
)

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_lambda.type_defs import EventTypeDef, GetDurableExecutionHistoryRequestTypeDef

_NOT_FOUND = "ResourceNotFoundException"
# The most GetDurableExecutionHistory returns per page (the model's ItemCount maximum).
HISTORY_PAGE_SIZE = 1000
_CALLBACK_STARTED = "CallbackStarted"
_CALLBACK_CLOSED = {
    "CallbackSucceeded": "CallbackSucceededDetails",
    "CallbackFailed": "CallbackFailedDetails",
    "CallbackTimedOut": "CallbackTimedOutDetails",
}


class ExecutionStatus(StrEnum):
    """A durable execution's status, as ``GetDurableExecution`` reports it (every value of the API model)."""

    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    STOPPED = "STOPPED"
    PAUSING = "PAUSING"
    PAUSED = "PAUSED"
    DELETING = "DELETING"

    @property
    def finished(self) -> bool:
        """True when the execution will never run again; a paused execution may be resumed, so it is not."""
        return self in _FINISHED


_FINISHED = frozenset(
    {
        ExecutionStatus.SUCCEEDED,
        ExecutionStatus.FAILED,
        ExecutionStatus.TIMED_OUT,
        ExecutionStatus.STOPPED,
        ExecutionStatus.DELETING,
    }
)


class CallbackStatus(StrEnum):
    """How a closed callback ended."""

    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"


@dataclass(frozen=True)
class CallbackOutcome:
    """How a callback ended: the result it was completed with, or the error it was failed or timed out with."""

    status: CallbackStatus
    result: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    error_data: str | None = None
    truncated: bool = False

    def shows_success(self, result: str) -> bool:
        """True if the callback was completed with exactly ``result`` (and the history shows it in full)."""
        return self.status is CallbackStatus.SUCCEEDED and not self.truncated and (self.result or "") == result

    def shows_failure(self, error_type: str, error_data: str) -> bool:
        """True if the callback was failed with exactly this ErrorType and ErrorData (the message may be cut)."""
        return (
            self.status is CallbackStatus.FAILED
            and not self.truncated
            and self.error_type == error_type
            and (self.error_data or "") == error_data
        )


class DurableExecutions:
    """Reads durable executions from Lambda: their status, and the outcome of one of their callbacks."""

    def __init__(self, client: LambdaClient | None = None, *, history_page_size: int = HISTORY_PAGE_SIZE) -> None:
        self._client = client
        self.history_page_size = history_page_size

    @property
    def client(self) -> LambdaClient:
        return self._client if self._client is not None else lambda_client()

    def status(self, execution_arn: str) -> ExecutionStatus:
        """The execution's status; DurableExecutionNotFoundError if Lambda knows no such execution (not running)."""
        try:
            response = self.client.get_durable_execution(DurableExecutionArn=execution_arn)
        except (ClientError, BotoCoreError) as err:
            raise _translate(err, f"read the status of durable execution {execution_arn!r}") from err
        raw = response.get("Status")
        try:
            return ExecutionStatus(raw)
        except ValueError:
            raise DurableExecutionReadRejectedError(
                f"durable execution {execution_arn!r} has a status this code does not know: {raw!r}"
            ) from None

    def is_running(self, execution_arn: str) -> bool:
        """Whether the execution may still act (a claim's holder): False once it ended, or Lambda forgot it."""
        try:
            return not self.status(execution_arn).finished
        except DurableExecutionNotFoundError:
            return False

    def callback_outcome(self, execution_arn: str, callback_id: str) -> CallbackOutcome | None:
        """How the execution's callback ``callback_id`` ended, or None while it is open.

        DurableCallbackNotFoundError if the history holds no such callback; DurableExecutionNotFoundError if Lambda
        knows no such execution.
        """
        closing: dict[str, EventTypeDef] = {}
        for event in self._history_newest_first(execution_arn):
            event_type = event.get("EventType", "")
            operation_id = event.get("Id", "")
            if event_type in _CALLBACK_CLOSED:
                closing.setdefault(operation_id, event)
            elif event_type == _CALLBACK_STARTED and _callback_id(event) == callback_id:
                # Newest first: a closing event, if there is one, has been seen by now.
                closed = closing.get(operation_id)
                return _outcome(closed) if closed is not None else None
        raise DurableCallbackNotFoundError(
            f"durable execution {execution_arn!r} has no callback {callback_id[:40]!r}... in its history"
        )

    def _history_newest_first(self, execution_arn: str) -> Iterator[EventTypeDef]:
        request: GetDurableExecutionHistoryRequestTypeDef = {
            "DurableExecutionArn": execution_arn,
            "IncludeExecutionData": True,
            "ReverseOrder": True,
            "MaxItems": self.history_page_size,
        }
        while True:
            try:
                page = self.client.get_durable_execution_history(**request)
            except (ClientError, BotoCoreError) as err:
                raise _translate(err, f"read the history of durable execution {execution_arn!r}") from err
            yield from page.get("Events", [])
            marker = page.get("NextMarker")
            if not marker:
                return
            request["Marker"] = marker


def _callback_id(event: EventTypeDef) -> str | None:
    details: Any = event.get("CallbackStartedDetails") or {}
    value = details.get("CallbackId")
    return value if isinstance(value, str) else None


def _outcome(event: EventTypeDef) -> CallbackOutcome:
    event_type = event.get("EventType", "")
    fields: Any = event
    details = fields.get(_CALLBACK_CLOSED[event_type]) or {}
    if event_type == "CallbackSucceeded":
        result = details.get("Result") or {}
        return CallbackOutcome(
            CallbackStatus.SUCCEEDED, result=result.get("Payload"), truncated=bool(result.get("Truncated"))
        )
    error = details.get("Error") or {}
    payload = error.get("Payload") or {}
    return CallbackOutcome(
        CallbackStatus.FAILED if event_type == "CallbackFailed" else CallbackStatus.TIMED_OUT,
        error_type=payload.get("ErrorType"),
        error_message=payload.get("ErrorMessage"),
        error_data=payload.get("ErrorData"),
        truncated=bool(error.get("Truncated")),
    )


def _translate(err: ClientError | BotoCoreError, action: str) -> MigrationWaitError:
    if isinstance(err, ParamValidationError):
        return DurableExecutionReadRejectedError(f"could not {action}: {err}")
    if isinstance(err, BotoCoreError):
        return DurableExecutionReadUnavailableError(f"could not {action}: Lambda unreachable: {err}")
    code, message, _ = error_details(err)
    if code == _NOT_FOUND:
        return DurableExecutionNotFoundError(f"could not {action}: no such durable execution ({code}: {message})")
    if is_transient(err):
        return DurableExecutionReadUnavailableError(f"could not {action}: {code}: {message}")
    return DurableExecutionReadRejectedError(f"could not {action}: Lambda rejected it: {code}: {message}")
