"""Lambda adapter: completes a durable execution's callback once, translating botocore errors into the error tree.

A callback that is already closed answers ``CallbackTimeoutException`` on AWS (completed, failed or timed out) and
``ResourceNotFoundException`` on the local runner; both mean the same thing here: nothing more can be sent to it.

Exactly once. A send whose answer is lost (a read timeout, a connection dropped after the request went out, a 5xx)
may have been applied; a replay then finds the callback closed by that very attempt. So the two send calls go
through a client with botocore's retries off (``aws_clients.lambda_callback_client``) and the sender retries transient
faults itself (``SEND_ATTEMPTS`` attempts, backoff from ``FIRST_BACKOFF_SECONDS`` doubling up to
``MAX_BACKOFF_SECONDS``), remembering whether any attempt was ambiguous. When a later attempt answers "closed" after an
ambiguous one and the caller named the execution, the execution's history decides
(``DurableExecutions.callback_outcome``): a callback that ended with this very completion (the same result; the same
ErrorType and ErrorData) was completed by the ambiguous attempt, and the send returns normally; anything else is
CallbackClosedError. Throttling is not ambiguous: a throttled request was not applied. A "closed" answer to a send
that was not ambiguous gets one look at the history too: an earlier invocation may have sent this very completion and
died before it could record it (the third party's retry of a callback whose first delivery crashed after the send).
Transient faults that outlast the attempts raise CallbackDeliveryUnavailableError (retryable), never swallowed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    ParamValidationError,
    ProxyConnectionError,
)
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from aws_adapters.clients import lambda_callback_client
from aws_adapters.durable_executions import CallbackOutcome, DurableExecutions
from aws_adapters.error_details import error_details, is_transient
from waiting.errors import (
    CallbackClosedError,
    CallbackDeliveryUnavailableError,
    CallbackRejectedError,
    DurableCallbackNotFoundError,
    DurableExecutionNotFoundError,
    DurableExecutionReadRejectedError,
    DurableExecutionReadUnavailableError,
    MigrationWaitError,
)

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

_CLOSED_CODES = frozenset({"CallbackTimeoutException", "ResourceNotFoundException"})
# Far below the API's limits; the message is for people, the record in ErrorData is for the execution.
_MAX_ERROR_MESSAGE_CHARS = 4096
# Network faults worth another attempt. Of these, only the ones raised before the request left are unambiguous.
_NETWORK_ERRORS = (HTTPClientError, BotocoreConnectionError)
_NOT_SENT_ERRORS = (EndpointConnectionError, ConnectTimeoutError, ProxyConnectionError)

SEND_ATTEMPTS = 3
FIRST_BACKOFF_SECONDS = 0.1
MAX_BACKOFF_SECONDS = 1.0


class SendOutcome(StrEnum):
    """What a send did: it completed the callback, or found it already completed with this very result."""

    SENT = "sent"
    FOUND_DELIVERED = "found-delivered"


class CallbackSender:
    """Sends a callback's result or failure to the durable execution waiting on it, at most once in effect."""

    def __init__(
        self,
        client: LambdaClient | None = None,
        executions: DurableExecutions | None = None,
        *,
        attempts: int = SEND_ATTEMPTS,
        first_backoff_seconds: float = FIRST_BACKOFF_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``client`` (botocore retries off, please) also serves ``executions`` unless that is given too."""
        self._client = client
        self.executions = executions if executions is not None else DurableExecutions(client)
        self.attempts = max(1, attempts)
        self.first_backoff_seconds = first_backoff_seconds
        self._sleep = sleep

    @property
    def client(self) -> LambdaClient:
        return self._client if self._client is not None else lambda_callback_client()

    def succeed(self, callback_id: str, result: str, execution_arn: str | None = None) -> SendOutcome:
        """Complete the callback with ``result``; with ``execution_arn``, a lost answer is checked in its history."""

        def send() -> None:
            self.client.send_durable_execution_callback_success(CallbackId=callback_id, Result=result.encode())

        def shows_this(outcome: CallbackOutcome) -> bool:
            return outcome.shows_success(result)

        return self._send("success", send, callback_id, execution_arn, shows_this)

    def fail(
        self, callback_id: str, error_type: str, message: str, data: str, execution_arn: str | None = None
    ) -> SendOutcome:
        """Fail the callback; with ``execution_arn``, a lost answer is checked in its history (type and data)."""

        def send() -> None:
            self.client.send_durable_execution_callback_failure(
                CallbackId=callback_id,
                Error={"ErrorType": error_type, "ErrorMessage": message[:_MAX_ERROR_MESSAGE_CHARS], "ErrorData": data},
            )

        def shows_this(outcome: CallbackOutcome) -> bool:
            return outcome.shows_failure(error_type, data)

        return self._send("failure", send, callback_id, execution_arn, shows_this)

    def _send(
        self,
        kind: str,
        send: Callable[[], None],
        callback_id: str,
        execution_arn: str | None,
        shows_this: Callable[[CallbackOutcome], bool],
    ) -> SendOutcome:
        ambiguous = False
        fault = "no attempt was made"
        cause: Exception | None = None
        for attempt in range(self.attempts):
            if attempt:
                self._sleep(self._backoff(attempt))
            try:
                send()
            except ClientError as err:
                code, message, status = error_details(err)
                if code in _CLOSED_CODES:
                    if ambiguous and execution_arn is not None:
                        self._settle_closed_after_lost_answer(kind, callback_id, execution_arn, shows_this, err)
                        return SendOutcome.SENT
                    if execution_arn is not None and self._ended_with_this(callback_id, execution_arn, shows_this):
                        # Someone sent this very completion before (an earlier invocation that died after its send,
                        # a duplicate event read at the same DMS second): it is there; this call did not send it.
                        return SendOutcome.FOUND_DELIVERED
                    raise CallbackClosedError(f"the callback is already closed ({code}: {message})") from err
                if not is_transient(err):
                    raise CallbackRejectedError(f"Lambda rejected the callback {kind}: {code}: {message}") from err
                # A 5xx may come after the completion was applied; throttling means it was not.
                ambiguous = ambiguous or status >= 500
                fault, cause = f"{code}: {message}", err
            except _NETWORK_ERRORS as err:
                ambiguous = ambiguous or not isinstance(err, _NOT_SENT_ERRORS)
                fault, cause = f"Lambda unreachable: {err}", err
            except ParamValidationError as err:
                raise CallbackRejectedError(f"the callback {kind} is not a valid request: {err}") from err
            except BotoCoreError as err:
                raise CallbackDeliveryUnavailableError(f"could not send the callback {kind}: {err}") from err
            else:
                return SendOutcome.SENT
        raise CallbackDeliveryUnavailableError(
            f"could not send the callback {kind} in {self.attempts} attempts: {fault}"
        ) from cause

    def _ended_with_this(
        self, callback_id: str, execution_arn: str, shows_this: Callable[[CallbackOutcome], bool]
    ) -> bool:
        """One look at the history: did the callback end with this very completion? Unreadable means no."""
        try:
            outcome = self.executions.callback_outcome(execution_arn, callback_id)
        except MigrationWaitError:
            return False
        return outcome is not None and shows_this(outcome)

    def _settle_closed_after_lost_answer(
        self,
        kind: str,
        callback_id: str,
        execution_arn: str,
        shows_this: Callable[[CallbackOutcome], bool],
        closed: ClientError,
    ) -> None:
        """Return if the callback ended with this completion (a lost-answer attempt delivered it); raise otherwise."""
        code, message, _ = error_details(closed)
        unread: Exception = closed
        for attempt in range(self.attempts):
            if attempt:
                self._sleep(self._backoff(attempt))
            try:
                outcome = self.executions.callback_outcome(execution_arn, callback_id)
            except (DurableExecutionNotFoundError, DurableCallbackNotFoundError, DurableExecutionReadRejectedError):
                # The history cannot tell (gone, not there, or not readable): the closed answer stands.
                raise CallbackClosedError(f"the callback is already closed ({code}: {message})") from closed
            except DurableExecutionReadUnavailableError as err:
                unread = err
                continue
            if outcome is None:
                # Closed to the send but still open in the history: the history has not caught up; look again.
                continue
            if shows_this(outcome):
                return
            raise CallbackClosedError(
                f"the callback is already closed ({code}: {message}); it ended {outcome.status}, not with this {kind}"
            ) from closed
        raise CallbackDeliveryUnavailableError(
            f"the callback {kind} may have been delivered by an attempt whose answer was lost, and the execution's "
            "history cannot tell yet"
        ) from unread

    def _backoff(self, attempt: int) -> float:
        return float(min(self.first_backoff_seconds * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS))
