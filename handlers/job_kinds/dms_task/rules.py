"""DMS's words, read once: replication task ARNs, start types, the task input, and what each status means.

``classify_task_state`` is the one rule for "is the migration done, and did it work?" for every kind that reports in
DMS's words (a replication task, and the third party's job status document, which uses them by contract).
"""

from __future__ import annotations

import re
from enum import StrEnum

from waiting.domain import WorkOutcome, WorkRequest, WorkSnapshot
from waiting.errors import InvalidInputError

TASK_ARN_FIELD = "ReplicationTaskArn"
TASK_START_TYPE_FIELD = "StartReplicationTaskType"
# Partition, region and account are checked; the resource id is whatever DMS generated or the user named.
_TASK_ARN_PATTERN = re.compile(r"^arn:aws(-[a-z]+)*:dms:[a-z]{2}(-[a-z]+)+-\d:\d{12}:task:[A-Za-z0-9-]{1,255}$")

# Stop reasons that mean the task stopped because something went wrong (DMS documents them as
# "Stop Reason RECOVERABLE_ERROR", "Stop Reason FATAL_ERROR", "...STOPPED_DUE_TO_LOW_MEMORY" and so on).
_ERROR_STOP_REASON_MARKERS = ("ERROR", "LOW_MEMORY", "LOW_DISK", "LIMITS_REACHED")
_FAILED_STATUSES = frozenset({"failed", "failed-move", "deleting"})
# DMS accepts StartReplicationTask only from these (API reference, StartReplicationTask; "ready" for a first run).
_STARTABLE_STATUSES = frozenset({"ready", "stopped", "failed"})
# What DMS shows once it accepted a start and the run is under way.
_RUN_UNDER_WAY_STATUSES = frozenset({"starting", "running", "stopping"})


class StartReplicationTaskType(StrEnum):
    START_REPLICATION = "start-replication"
    RESUME_PROCESSING = "resume-processing"
    RELOAD_TARGET = "reload-target"


def parse_dms_arn(value: object, field: str, pattern: re.Pattern[str], what: str) -> str:
    """``value`` if it matches ``pattern`` (a kind of DMS ARN, described by ``what``); else raise naming ``field``."""
    if not isinstance(value, str) or not value:
        raise InvalidInputError(f"{field} must be a non-empty string, got {type(value).__name__}")
    if not pattern.match(value):
        raise InvalidInputError(f"{field} is not a {what}: {value[:300]!r}")
    return value


def parse_replication_task_arn(value: object, field: str = TASK_ARN_FIELD) -> str:
    """Return ``value`` if it is a DMS replication task ARN; otherwise raise naming ``field``."""
    return parse_dms_arn(
        value, field, _TASK_ARN_PATTERN, "DMS replication task ARN (arn:aws:dms:REGION:ACCOUNT:task:ID)"
    )


def parse_start_type(event: dict[str, object], field: str) -> str:
    """The start type under ``field`` (start-replication when absent); errors name the field and the choices."""
    raw = event.get(field, StartReplicationTaskType.START_REPLICATION.value)
    try:
        return StartReplicationTaskType(str(raw) if isinstance(raw, str) else "").value
    except ValueError:
        allowed = ", ".join(t.value for t in StartReplicationTaskType)
        raise InvalidInputError(f"{field} must be one of {allowed}; got {raw!r}") from None


def reject_unknown_fields(event: dict[str, object], known: set[str]) -> None:
    unknown = sorted(set(event) - known)
    if unknown:
        raise InvalidInputError(f"unknown input field(s): {', '.join(unknown)}")


def parse_task_request(event: object) -> WorkRequest:
    """The replication task input ``{"ReplicationTaskArn", "StartReplicationTaskType"}``; errors name the field."""
    if not isinstance(event, dict):
        raise InvalidInputError(f"input must be a JSON object, got {type(event).__name__}")
    if TASK_ARN_FIELD not in event:
        raise InvalidInputError(f"{TASK_ARN_FIELD} is required")
    arn = parse_replication_task_arn(event[TASK_ARN_FIELD])
    start_type = parse_start_type(event, TASK_START_TYPE_FIELD)
    reject_unknown_fields(event, {TASK_ARN_FIELD, TASK_START_TYPE_FIELD})
    return WorkRequest(key=arn, start_type=start_type, key_field=TASK_ARN_FIELD, start_type_field=TASK_START_TYPE_FIELD)


def classify_task_state(status: str, stop_reason: str | None) -> WorkOutcome:
    """The one rule for "is the migration done, and did it work?", shared by every variant.

    An unknown status counts as still running: DMS adds statuses over time, and waiting (bounded by the
    maximum total wait) is safer than declaring a migration finished or failed on a word we do not know.
    """
    normalized = status.strip().lower()
    if normalized in _FAILED_STATUSES:
        return WorkOutcome.FAILED
    if normalized == "stopped":
        return WorkOutcome.FAILED if is_error_stop_reason(stop_reason) else WorkOutcome.SUCCEEDED
    return WorkOutcome.RUNNING


def is_error_stop_reason(stop_reason: str | None) -> bool:
    """Whether a stopped run's StopReason says something went wrong (a task's and a serverless replication's)."""
    reason = (stop_reason or "").upper()
    return any(marker in reason for marker in _ERROR_STOP_REASON_MARKERS)


def is_startable(snapshot: WorkSnapshot) -> bool:
    """Whether DMS would accept a start for the work in this state."""
    return snapshot.status.strip().lower() in _STARTABLE_STATUSES


def run_under_way(snapshot: WorkSnapshot) -> bool:
    """Whether DMS shows a run in progress (a start it accepted, not yet finished)."""
    return snapshot.status.strip().lower() in _RUN_UNDER_WAY_STATUSES
