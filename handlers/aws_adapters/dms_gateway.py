"""DMS adapter: starts and describes replication tasks and DMS Serverless replications, translating botocore errors
into the error tree."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from aws_adapters.clients import dms_client
from aws_adapters.error_details import THROTTLING_CODES, error_details, server_time
from job_kinds.dms_serverless.rules import classify_replication_state
from job_kinds.dms_task.rules import classify_task_state
from waiting.domain import WorkSnapshot
from waiting.errors import (
    DmsAccessDeniedError,
    DmsRequestRejectedError,
    DmsThrottledError,
    DmsUnavailableError,
    MigrationWaitError,
    TaskNotFoundError,
)

if TYPE_CHECKING:
    from mypy_boto3_dms import DatabaseMigrationServiceClient

_ACCESS_DENIED_CODES = frozenset({"AccessDeniedException", "AccessDeniedFault", "UnauthorizedOperation"})


def translate_dms_error(
    err: ClientError | BotoCoreError,
    task_arn: str,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    what: str = "replication task",
) -> MigrationWaitError:
    """Map a botocore error onto the project's error tree (retryable vs terminal), keeping DMS's message.

    ``what`` names the work in a not-found message ("replication task", "replication"). Every other 4xx, such as
    InvalidResourceStateFault or InvalidParameterCombinationException, is a terminal rejection.
    """
    if isinstance(err, BotoCoreError):
        return DmsUnavailableError(f"DMS could not be reached for {task_arn}: {err}", observed_at=clock())
    answered_at = server_time(err.response, clock)
    code, message, status = error_details(err)
    if code == "ResourceNotFoundFault":
        return TaskNotFoundError(f"DMS {what} not found: {task_arn} ({message})")
    if code in _ACCESS_DENIED_CODES:
        return DmsAccessDeniedError(f"access denied calling DMS for {task_arn}: {message}")
    if code in THROTTLING_CODES:
        return DmsThrottledError(f"DMS throttled the request for {task_arn}: {message}", observed_at=answered_at)
    if status >= 500:
        return DmsUnavailableError(f"DMS answered {status} {code} for {task_arn}: {message}", observed_at=answered_at)
    return DmsRequestRejectedError(f"DMS rejected the request for {task_arn}: {code}: {message}")


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    return None


def _time(value: Any) -> datetime | None:
    text = _iso(value)
    return datetime.fromisoformat(text) if text else None


class DmsGateway:
    """The DMS calls the workflows need (a start and a read per kind), returning plain snapshots stamped with DMS's
    own time."""

    def __init__(
        self,
        client: DatabaseMigrationServiceClient | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._client = client
        self._clock = clock

    @property
    def client(self) -> DatabaseMigrationServiceClient:
        return self._client if self._client is not None else dms_client()

    def start_task(self, task_arn: str, start_type: str) -> datetime:
        """Start the task; return when the start was accepted."""
        try:
            response = self.client.start_replication_task(
                ReplicationTaskArn=task_arn,
                StartReplicationTaskType=start_type,  # type: ignore[arg-type]  # validated at the edge (rules.py)
            )
        except (ClientError, BotoCoreError) as err:
            raise translate_dms_error(err, task_arn, self._clock) from err
        return server_time(response, self._clock)

    def describe_task(self, task_arn: str) -> WorkSnapshot:
        """Read the task's current state. An empty answer under the ARN filter also means "not found"."""
        try:
            response = self.client.describe_replication_tasks(
                Filters=[{"Name": "replication-task-arn", "Values": [task_arn]}], WithoutSettings=True
            )
        except (ClientError, BotoCoreError) as err:
            raise translate_dms_error(err, task_arn, self._clock) from err
        tasks = [t for t in response.get("ReplicationTasks", []) if t.get("ReplicationTaskArn") == task_arn]
        if not tasks:
            raise TaskNotFoundError(f"DMS replication task not found: {task_arn} (no task matches the ARN filter)")
        task = tasks[0]
        stats = task.get("ReplicationTaskStats", {})
        progress = stats.get("FullLoadProgressPercent")
        status, stop_reason = task.get("Status", "unknown"), task.get("StopReason")
        return WorkSnapshot(
            status=status,
            outcome=classify_task_state(status, stop_reason),
            stop_reason=stop_reason,
            last_failure_message=task.get("LastFailureMessage"),
            full_load_progress_percent=int(progress) if progress is not None else None,
            stop_date=datetime.fromisoformat(s) if (s := _iso(stats.get("StopDate"))) else None,
            observed_at=server_time(response, self._clock),
            start_date=datetime.fromisoformat(s) if (s := _iso(stats.get("StartDate"))) else None,
        )

    def start_replication(self, config_arn: str, start_type: str) -> datetime:
        """Start the DMS Serverless replication of this config; return when the start was accepted."""
        try:
            response = self.client.start_replication(ReplicationConfigArn=config_arn, StartReplicationType=start_type)
        except (ClientError, BotoCoreError) as err:
            raise translate_dms_error(err, config_arn, self._clock, what="replication") from err
        return server_time(response, self._clock)

    def describe_replication(self, config_arn: str) -> WorkSnapshot:
        """Read the replication's current state. DMS answers ResourceNotFoundFault, or an empty list, when no
        replication matches the ARN filter: both mean "not found"."""
        try:
            response = self.client.describe_replications(
                Filters=[{"Name": "replication-config-arn", "Values": [config_arn]}]
            )
        except (ClientError, BotoCoreError) as err:
            raise translate_dms_error(err, config_arn, self._clock, what="replication") from err
        found = [r for r in response.get("Replications", []) if r.get("ReplicationConfigArn") == config_arn]
        if not found:
            raise TaskNotFoundError(f"DMS replication not found: {config_arn} (no replication matches the ARN filter)")
        replication = found[0]
        stats = replication.get("ReplicationStats", {})
        progress = stats.get("FullLoadProgressPercent")
        status, stop_reason = replication.get("Status", "unknown"), replication.get("StopReason")
        # FailureMessages stay on the replication after a later run starts: only Status says whether this run failed.
        messages = [m for m in replication.get("FailureMessages", []) if m]
        return WorkSnapshot(
            status=status,
            outcome=classify_replication_state(status, stop_reason),
            stop_reason=stop_reason,
            last_failure_message="; ".join(messages) if messages else None,
            full_load_progress_percent=int(progress) if progress is not None else None,
            stop_date=_time(stats.get("StopDate")),
            observed_at=server_time(response, self._clock),
            start_date=_time(stats.get("StartDate")),
        )
