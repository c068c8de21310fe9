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


class DmsRequestRejectedError(TerminalError):
    """DMS rejected the request for a reason retrying will not change (for example a task in the wrong state)."""


class ReplicationTaskFailedError(TerminalError):
    """The replication task ended in failure; the message carries DMS's reason."""


class MigrationWaitTimedOutError(TerminalError):
    """The task did not finish within the maximum total wait."""


class DmsThrottledError(RetryableError):
    """DMS answered with throttling."""


class DmsUnavailableError(RetryableError):
    """DMS answered with a server error or could not be reached."""
