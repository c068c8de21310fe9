"""Lambda adapter: completes a durable execution's callback, translating botocore errors into the error tree.

A callback that is already closed answers ``CallbackTimeoutException`` on AWS (completed, failed or timed out) and
``ResourceNotFoundException`` on the local runner; both mean the same thing here: nothing more can be sent to it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from migration_wait.aws_clients import lambda_client
from migration_wait.aws_errors import error_details, is_transient
from migration_wait.errors import (
    CallbackClosedError,
    CallbackDeliveryUnavailableError,
    CallbackRejectedError,
    MigrationWaitError,
)

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

_CLOSED_CODES = frozenset({"CallbackTimeoutException", "ResourceNotFoundException"})
# Far below the API's limits; the message is for people, the record in ErrorData is for the execution.
_MAX_ERROR_MESSAGE_CHARS = 4096


class CallbackSender:
    """Sends a callback's result or failure to the durable execution waiting on it."""

    def __init__(self, client: LambdaClient | None = None) -> None:
        self._client = client

    @property
    def client(self) -> LambdaClient:
        return self._client if self._client is not None else lambda_client()

    def succeed(self, callback_id: str, result: str) -> None:
        try:
            self.client.send_durable_execution_callback_success(CallbackId=callback_id, Result=result.encode())
        except (ClientError, BotoCoreError) as err:
            raise _translate(err, "success") from err

    def fail(self, callback_id: str, error_type: str, message: str, data: str) -> None:
        try:
            self.client.send_durable_execution_callback_failure(
                CallbackId=callback_id,
                Error={"ErrorType": error_type, "ErrorMessage": message[:_MAX_ERROR_MESSAGE_CHARS], "ErrorData": data},
            )
        except (ClientError, BotoCoreError) as err:
            raise _translate(err, "failure") from err


def _translate(err: ClientError | BotoCoreError, kind: str) -> MigrationWaitError:
    if isinstance(err, BotoCoreError):
        return CallbackDeliveryUnavailableError(f"could not send the callback {kind}: Lambda unreachable: {err}")
    code, message, _ = error_details(err)
    if code in _CLOSED_CODES:
        return CallbackClosedError(f"the callback is already closed ({code}: {message})")
    if is_transient(err):
        return CallbackDeliveryUnavailableError(f"could not send the callback {kind}: {code}: {message}")
    return CallbackRejectedError(f"Lambda rejected the callback {kind}: {code}: {message}")
