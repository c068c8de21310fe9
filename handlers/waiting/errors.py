"""The project's error tree: retries are chosen by exception type, never by message."""

from __future__ import annotations

from datetime import datetime


class MigrationWaitError(Exception):
    """Base of every error this project raises on purpose."""


class TerminalError(MigrationWaitError):
    """Retrying cannot help: the request, the task or the permissions are wrong."""


class RetryableError(MigrationWaitError):
    """A transient fault (throttling, a 5xx, a timeout): the same call may succeed later.

    ``observed_at`` is when the service answered (its clock), if it answered at all.
    """

    def __init__(self, message: str, observed_at: datetime | None = None) -> None:
        super().__init__(message)
        self.observed_at = observed_at


class InvalidInputError(TerminalError, ValueError):
    """The execution input or an event is malformed; the message names the field."""


class InvalidSettingError(TerminalError, ValueError):
    """An environment setting is missing or malformed; the message names the variable."""


class TaskNotFoundError(TerminalError):
    """DMS knows no replication task with this ARN."""


class DmsAccessDeniedError(TerminalError):
    """The function's role may not call DMS for this task."""


class RequestRejectedError(TerminalError):
    """The work's owner rejected a request for a reason retrying will not change (e.g. the work is busy)."""


class DmsRequestRejectedError(RequestRejectedError):
    """DMS rejected the request for a reason retrying will not change (for example a task in the wrong state)."""


class ReplicationTaskFailedError(TerminalError):
    """The replication task ended in failure; the message carries DMS's reason."""


class MigrationWaitTimedOutError(TerminalError):
    """The task did not finish within the maximum total wait."""


class StartNotConfirmedError(RetryableError):
    """A retried start was refused, but DMS does not show this execution's run yet: look again before deciding.

    After an ambiguous start (a lost answer, a crash) DMS may refuse the retry because the first call took effect;
    the next attempt re-reads the task and reconciles instead of starting twice or failing a task that runs.
    """


class DmsThrottledError(RetryableError):
    """DMS answered with throttling."""


class DmsUnavailableError(RetryableError):
    """DMS answered with a server error or could not be reached."""


class InvalidEventError(InvalidInputError):
    """An event is not one the completer can use (no kind sends it, or a field is wrong); the message names it."""


class InvalidDmsEventError(InvalidEventError):
    """An EventBridge event is not a usable DMS replication task event; the message names the field."""


class TaskAlreadyAwaitedError(TerminalError):
    """Another execution is already waiting for this replication task; nothing was overwritten.

    ``holder`` is that execution's registration (a ``CallbackRegistration``), when DynamoDB returned it.
    """

    def __init__(self, message: str, holder: object | None = None) -> None:
        super().__init__(message)
        self.holder = holder


class CorrelationLostError(TerminalError):
    """The task's correlation item no longer belongs to this execution, so no event could reach it."""


class CorrelationStoreError(TerminalError):
    """DynamoDB rejected a correlation request for a reason retrying will not change (no table, no permission)."""


class CorrelationStoreUnavailableError(RetryableError):
    """DynamoDB throttled the request, answered with a server error or could not be reached."""


class CallbackClosedError(TerminalError):
    """The callback is already completed, failed or timed out: nothing more can be sent to it."""


class CallbackRejectedError(TerminalError):
    """Lambda rejected a callback request for a reason retrying will not change (malformed, access denied)."""


class CallbackDeliveryUnavailableError(RetryableError):
    """Lambda throttled a callback request, answered with a server error or could not be reached."""


class WaitFailedFromOutsideError(TerminalError):
    """The execution's callback was failed by someone other than the completer, without a DMS task record."""


class ThirdPartyJobRejectedError(TerminalError):
    """The third party's job API refused the request for a reason retrying will not change (4xx)."""


class ThirdPartyJobUnavailableError(RetryableError):
    """The third party's job API throttled, answered with a server error, timed out or could not be reached."""


class CallbackTokenStoreError(TerminalError):
    """DynamoDB rejected a callback-token request for a reason retrying will not change (no table, no permission)."""


class CallbackTokenStoreUnavailableError(RetryableError):
    """DynamoDB throttled a callback-token request, answered with a server error or could not be reached."""


class SigningSecretError(TerminalError):
    """The shared signing secret cannot be used (missing, empty, access denied); the message names it."""


class SigningSecretUnavailableError(RetryableError):
    """Secrets Manager throttled, answered with a server error or could not be reached."""


class DurableExecutionNotFoundError(TerminalError):
    """Lambda knows no durable execution with this ARN (never started, or past its retention): it does not run."""


class DurableCallbackNotFoundError(TerminalError):
    """The durable execution's history holds no callback with this id."""


class DurableExecutionReadRejectedError(TerminalError):
    """Lambda refused to describe a durable execution for a reason retrying will not change (access, a bad ARN)."""


class DurableExecutionReadUnavailableError(RetryableError):
    """Lambda throttled a durable-execution read, answered with a server error or could not be reached."""
