"""Domain rules shared by both variants: the request, the DMS task snapshot, what "done" means, the result."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, NotRequired, TypedDict

from waiting.errors import InvalidInputError

# Partition, region and account are checked; the resource id is whatever DMS generated or the user named.
_TASK_ARN_PATTERN = re.compile(r"^arn:aws(-[a-z]+)*:dms:[a-z]{2}(-[a-z]+)+-\d:\d{12}:task:[A-Za-z0-9-]{1,255}$")

# Stop reasons that mean the task stopped because something went wrong (DMS documents them as
# "Stop Reason RECOVERABLE_ERROR", "Stop Reason FATAL_ERROR", "...STOPPED_DUE_TO_LOW_MEMORY" and so on).
_ERROR_STOP_REASON_MARKERS = ("ERROR", "LOW_MEMORY", "LOW_DISK", "LIMITS_REACHED")

_IN_PROGRESS_STATUSES = frozenset(
    {"creating", "ready", "starting", "running", "stopping", "modifying", "moving", "testing"}
)
_FAILED_STATUSES = frozenset({"failed", "failed-move", "deleting"})
# DMS accepts StartReplicationTask only from these (API reference, StartReplicationTask; "ready" for a first run).
_STARTABLE_STATUSES = frozenset({"ready", "stopped", "failed"})
# What DMS shows once it accepted a start and the run is under way.
_RUN_UNDER_WAY_STATUSES = frozenset({"starting", "running", "stopping"})


class Variant(StrEnum):
    POLLING = "polling"
    CALLBACK = "callback"
    THIRD_PARTY = "third-party"


class StartReplicationTaskType(StrEnum):
    START_REPLICATION = "start-replication"
    RESUME_PROCESSING = "resume-processing"
    RELOAD_TARGET = "reload-target"


class TaskOutcome(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class MigrationRequest:
    """What an execution was asked to do: start one replication task and wait for it to finish."""

    replication_task_arn: str
    start_type: StartReplicationTaskType

    def as_input(self) -> dict[str, str]:
        return {"ReplicationTaskArn": self.replication_task_arn, "StartReplicationTaskType": self.start_type.value}


def parse_replication_task_arn(value: object, field: str = "ReplicationTaskArn") -> str:
    """Return ``value`` if it is a DMS replication task ARN; otherwise raise naming ``field``."""
    if not isinstance(value, str) or not value:
        raise InvalidInputError(f"{field} must be a non-empty string, got {type(value).__name__}")
    if not _TASK_ARN_PATTERN.match(value):
        raise InvalidInputError(
            f"{field} is not a DMS replication task ARN (arn:aws:dms:REGION:ACCOUNT:task:ID): {value[:300]!r}"
        )
    return value


def parse_migration_request(event: object) -> MigrationRequest:
    """Validate the execution input at the edge, before any AWS call; errors name the field."""
    if not isinstance(event, dict):
        raise InvalidInputError(f"input must be a JSON object, got {type(event).__name__}")
    if "ReplicationTaskArn" not in event:
        raise InvalidInputError("ReplicationTaskArn is required")
    arn = parse_replication_task_arn(event["ReplicationTaskArn"])
    raw_type = event.get("StartReplicationTaskType", StartReplicationTaskType.START_REPLICATION.value)
    try:
        start_type = StartReplicationTaskType(raw_type)
    except ValueError:
        allowed = ", ".join(t.value for t in StartReplicationTaskType)
        raise InvalidInputError(f"StartReplicationTaskType must be one of {allowed}; got {raw_type!r}") from None
    unknown = sorted(set(event) - {"ReplicationTaskArn", "StartReplicationTaskType"})
    if unknown:
        raise InvalidInputError(f"unknown input field(s): {', '.join(unknown)}")
    return MigrationRequest(replication_task_arn=arn, start_type=start_type)


class TaskSnapshotRecord(TypedDict):
    """A DMS task as seen by one DescribeReplicationTasks call or one event, in checkpointable form."""

    Status: str
    StopReason: str | None
    LastFailureMessage: str | None
    FullLoadProgressPercent: int | None
    StopDate: str | None
    ObservedAt: str


class TaskFinishRecord(TaskSnapshotRecord):
    """What the callback variant's callback carries: the final snapshot and when DMS says this run started."""

    StartDate: str | None


@dataclass(frozen=True)
class TaskSnapshot:
    status: str
    stop_reason: str | None
    last_failure_message: str | None
    full_load_progress_percent: int | None
    stop_date: datetime | None
    observed_at: datetime
    # DMS's ReplicationTaskStats.StartDate (this run, fresh start or resume); not part of TaskSnapshotRecord.
    start_date: datetime | None = None

    @classmethod
    def from_record(cls, record: TaskSnapshotRecord) -> TaskSnapshot:
        return cls(
            status=record["Status"],
            stop_reason=record["StopReason"],
            last_failure_message=record["LastFailureMessage"],
            full_load_progress_percent=record["FullLoadProgressPercent"],
            stop_date=_parse_time(record["StopDate"]),
            observed_at=datetime.fromisoformat(record["ObservedAt"]),
        )

    def to_record(self) -> TaskSnapshotRecord:
        return {
            "Status": self.status,
            "StopReason": self.stop_reason,
            "LastFailureMessage": self.last_failure_message,
            "FullLoadProgressPercent": self.full_load_progress_percent,
            "StopDate": self.stop_date.isoformat() if self.stop_date else None,
            "ObservedAt": self.observed_at.isoformat(),
        }

    @classmethod
    def from_finish_record(cls, record: TaskFinishRecord) -> TaskSnapshot:
        return replace(cls.from_record(record), start_date=_parse_time(record["StartDate"]))

    def to_finish_record(self) -> TaskFinishRecord:
        return {**self.to_record(), "StartDate": self.start_date.isoformat() if self.start_date else None}

    @property
    def outcome(self) -> TaskOutcome:
        return classify_task_state(self.status, self.stop_reason)

    @property
    def startable(self) -> bool:
        """Whether DMS would accept StartReplicationTask for the task in this state."""
        return self.status.strip().lower() in _STARTABLE_STATUSES

    @property
    def run_under_way(self) -> bool:
        """Whether DMS shows a run in progress (a start it accepted, not yet finished)."""
        return self.status.strip().lower() in _RUN_UNDER_WAY_STATUSES

    def belongs_to_run(self, run_bound_at: datetime | None) -> bool:
        """Whether this state describes the run that began after ``run_bound_at`` (DMS's clock, before our start).

        A task that ran before keeps its previous run's StopDate and StopReason until it is started again, and that
        run's events can arrive late: such a state must never finish this run's wait. DMS stamps every run's
        ``StartDate`` (a fresh start or a resume, per the ReplicationTaskStats API reference), so a run that began
        before the bound is another run. Without a StartDate the StopDate decides; with neither, nothing ties the
        state to this run. ``None`` (a wait begun before runs were bound) accepts every state.
        """
        if run_bound_at is None:
            return True
        if self.start_date is not None:
            return self.start_date >= run_bound_at
        return self.stop_date is not None and self.stop_date > run_bound_at

    def failure_reason(self) -> str:
        """DMS's own words for why the task did not succeed."""
        parts = [f"replication task ended with status {self.status!r}"]
        if self.stop_reason:
            parts.append(f"stop reason {self.stop_reason!r}")
        if self.last_failure_message:
            parts.append(f"DMS says: {self.last_failure_message}")
        return "; ".join(parts)


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _optional_text(record: dict[str, Any], field: str) -> str | None:
    value = record.get(field)
    if value is not None and not isinstance(value, str):
        raise InvalidInputError(f"{field} must be a string or null, got {type(value).__name__}")
    return value


def _optional_time(record: dict[str, Any], field: str) -> datetime | None:
    text = _optional_text(record, field)
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(f"{field} is not an ISO 8601 time: {text[:100]!r}") from None
    if parsed.tzinfo is None:
        raise InvalidInputError(f"{field} has no time zone: {text[:100]!r}")
    return parsed


def parse_task_finish_record(text: object) -> TaskSnapshot:
    """Read a callback result (a JSON TaskFinishRecord) into a snapshot; errors name the field.

    Anyone allowed to send callbacks can send anything, so nothing is assumed about its shape.
    """
    if not isinstance(text, str):
        raise InvalidInputError(f"the callback result must be a JSON string, got {type(text).__name__}")
    try:
        record = json.loads(text)
    except ValueError:
        raise InvalidInputError(f"the callback result is not JSON: {text[:100]!r}") from None
    if not isinstance(record, dict):
        raise InvalidInputError(f"the callback result must be a JSON object, got {type(record).__name__}")
    status = record.get("Status")
    if not isinstance(status, str) or not status.strip():
        raise InvalidInputError("Status is required in the callback result")
    observed_at = _optional_time(record, "ObservedAt")
    if observed_at is None:
        raise InvalidInputError("ObservedAt is required in the callback result")
    progress = record.get("FullLoadProgressPercent")
    if progress is not None and (isinstance(progress, bool) or not isinstance(progress, int)):
        raise InvalidInputError(f"FullLoadProgressPercent must be a whole number or null, got {progress!r}")
    return TaskSnapshot(
        status=status,
        stop_reason=_optional_text(record, "StopReason"),
        last_failure_message=_optional_text(record, "LastFailureMessage"),
        full_load_progress_percent=progress,
        stop_date=_optional_time(record, "StopDate"),
        observed_at=observed_at,
        start_date=_optional_time(record, "StartDate"),
    )


def classify_task_state(status: str, stop_reason: str | None) -> TaskOutcome:
    """The one rule for "is the migration done, and did it work?", shared by every variant.

    An unknown status counts as still running: DMS adds statuses over time, and waiting (bounded by the
    maximum total wait) is safer than declaring a migration finished or failed on a word we do not know.
    """
    normalized = status.strip().lower()
    if normalized in _FAILED_STATUSES:
        return TaskOutcome.FAILED
    if normalized == "stopped":
        reason = (stop_reason or "").upper()
        if any(marker in reason for marker in _ERROR_STOP_REASON_MARKERS):
            return TaskOutcome.FAILED
        return TaskOutcome.SUCCEEDED
    return TaskOutcome.RUNNING


class MigrationResult(TypedDict):
    """The success output of every variant (the wire shape users script against)."""

    ReplicationTaskArn: str
    Variant: str
    Status: str
    StopReason: str | None
    FullLoadProgressPercent: int | None
    StartedAt: str
    TaskStoppedAt: str | None
    DetectedAt: str
    WaitSeconds: float
    DetectionLagSeconds: NotRequired[float | None]
    Polls: NotRequired[int]
    TransientErrors: NotRequired[int]
    SafetyNetChecks: NotRequired[int]


def build_result(
    request: MigrationRequest,
    variant: Variant,
    started_at: datetime,
    final: TaskSnapshot,
    **figures: Any,
) -> MigrationResult:
    """The shared result: the final DMS state, when it was detected and how long the wait took."""
    lag = (final.observed_at - final.stop_date).total_seconds() if final.stop_date else None
    result: MigrationResult = {
        "ReplicationTaskArn": request.replication_task_arn,
        "Variant": variant.value,
        "Status": final.status,
        "StopReason": final.stop_reason,
        "FullLoadProgressPercent": final.full_load_progress_percent,
        "StartedAt": started_at.isoformat(),
        "TaskStoppedAt": final.stop_date.isoformat() if final.stop_date else None,
        "DetectedAt": final.observed_at.isoformat(),
        "WaitSeconds": round((final.observed_at - started_at).total_seconds(), 3),
        "DetectionLagSeconds": round(max(lag, 0.0), 3) if lag is not None else None,
    }
    result.update(figures)  # type: ignore[typeddict-item]
    return result
