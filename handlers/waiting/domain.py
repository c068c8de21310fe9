"""The waiting core's domain: the request, the work's snapshot and outcome, run binding, the result. No DMS here.

A kind of work (``job_kinds``) parses its own input into a ``WorkRequest`` and describes its work as a
``WorkSnapshot`` in its own words (``status``, ``stop_reason``) together with the ``outcome`` it classifies them as:
the core decides on ``outcome`` alone, and reports the kind's words as they are.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, NotRequired, TypedDict

from waiting.errors import InvalidInputError


class Variant(StrEnum):
    POLLING = "polling"
    CALLBACK = "callback"
    THIRD_PARTY = "third-party"


class WorkOutcome(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class WorkRequest:
    """What an execution was asked to do: start one piece of work, named by its ARN, and wait for it to finish.

    ``key`` is the work's ARN: the correlation key and the result's identity, reported under ``key_field``.
    """

    key: str
    start_type: str
    key_field: str = "ReplicationTaskArn"
    start_type_field: str = "StartReplicationTaskType"

    def as_input(self) -> dict[str, str]:
        return {self.key_field: self.key, self.start_type_field: self.start_type}


class WorkSnapshotRecord(TypedDict):
    """The work as its owner reported it once, in checkpointable form (the kind's words and its classification)."""

    Status: str
    Outcome: str
    StopReason: str | None
    LastFailureMessage: str | None
    FullLoadProgressPercent: int | None
    StopDate: str | None
    ObservedAt: str


class WorkFinishRecord(WorkSnapshotRecord):
    """What a completion carries (a callback, a finish left on the correlation): the snapshot and this run's start."""

    StartDate: str | None


@dataclass(frozen=True)
class WorkSnapshot:
    """The work as its owner reported it at ``observed_at`` (the owner's clock), in the kind's own words.

    ``outcome`` is the kind's classification of those words (running, succeeded, failed): the only thing the core
    decides on. ``start_date`` is when this run began (a fresh start or a resume), the basis of run binding.
    """

    status: str
    stop_reason: str | None
    last_failure_message: str | None
    full_load_progress_percent: int | None
    stop_date: datetime | None
    observed_at: datetime
    start_date: datetime | None = None
    outcome: WorkOutcome = field(kw_only=True)

    @classmethod
    def from_record(cls, record: WorkSnapshotRecord) -> WorkSnapshot:
        return cls(
            status=record["Status"],
            outcome=WorkOutcome(record["Outcome"]),
            stop_reason=record["StopReason"],
            last_failure_message=record["LastFailureMessage"],
            full_load_progress_percent=record["FullLoadProgressPercent"],
            stop_date=_parse_time(record["StopDate"]),
            observed_at=datetime.fromisoformat(record["ObservedAt"]),
        )

    def to_record(self) -> WorkSnapshotRecord:
        return {
            "Status": self.status,
            "Outcome": self.outcome.value,
            "StopReason": self.stop_reason,
            "LastFailureMessage": self.last_failure_message,
            "FullLoadProgressPercent": self.full_load_progress_percent,
            "StopDate": self.stop_date.isoformat() if self.stop_date else None,
            "ObservedAt": self.observed_at.isoformat(),
        }

    @classmethod
    def from_finish_record(cls, record: WorkFinishRecord) -> WorkSnapshot:
        return replace(cls.from_record(record), start_date=_parse_time(record["StartDate"]))

    def to_finish_record(self) -> WorkFinishRecord:
        return {**self.to_record(), "StartDate": self.start_date.isoformat() if self.start_date else None}

    def belongs_to_run(self, run_bound_at: datetime | None) -> bool:
        """Whether this state describes the run that began after ``run_bound_at`` (DMS's clock, before our start).

        Work that ran before keeps its previous run's StopDate and StopReason until it is started again, and that
        run's events can arrive late: such a state must never finish this run's wait. DMS stamps every run's
        ``StartDate`` (a fresh start or a resume, per the ReplicationTaskStats API reference), and every kind reports
        one, so a run that began before the bound is another run. Without a StartDate the StopDate decides; with
        neither, nothing ties the state to this run. ``None`` (a wait begun before runs were bound) accepts every
        state.
        """
        if run_bound_at is None:
            return True
        if self.start_date is not None:
            return self.start_date >= run_bound_at
        return self.stop_date is not None and self.stop_date > run_bound_at

    def failure_reason(self) -> str:
        """The owner's own words for why the work did not succeed."""
        parts = [f"the work ended with status {self.status!r}"]
        if self.stop_reason:
            parts.append(f"stop reason {self.stop_reason!r}")
        if self.last_failure_message:
            parts.append(f"its owner says: {self.last_failure_message}")
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


Classifier = Callable[[str, str | None], WorkOutcome]


def parse_finish_record(text: object, classify: Classifier | None = None) -> WorkSnapshot:
    """Read a completion (a JSON WorkFinishRecord) into a snapshot; errors name the field.

    Anyone allowed to send callbacks can send anything, so nothing is assumed about its shape. With ``classify``
    (a document from outside, such as a third party's job status) the outcome is classified here from its status
    and any ``Outcome`` it carries is ignored; without, the record must carry the ``Outcome`` its writer classified.
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
    stop_reason = _optional_text(record, "StopReason")
    if classify is not None:
        outcome = classify(status, stop_reason)
    else:
        try:
            outcome = WorkOutcome(str(record.get("Outcome")))
        except ValueError:
            allowed = ", ".join(o.value for o in WorkOutcome)
            raise InvalidInputError(f"Outcome must be one of {allowed} in the callback result") from None
    return WorkSnapshot(
        status=status,
        outcome=outcome,
        stop_reason=stop_reason,
        last_failure_message=_optional_text(record, "LastFailureMessage"),
        full_load_progress_percent=progress,
        stop_date=_optional_time(record, "StopDate"),
        observed_at=observed_at,
        start_date=_optional_time(record, "StartDate"),
    )


class MigrationResult(TypedDict):
    """The success output of every variant (the wire shape users script against).

    The work's ARN under its kind's key: ``ReplicationTaskArn`` for a DMS task (and the third-party job, which is
    asked to migrate one), ``ReplicationConfigArn`` for a DMS Serverless replication.
    """

    ReplicationTaskArn: NotRequired[str]
    ReplicationConfigArn: NotRequired[str]
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
    request: WorkRequest,
    variant: Variant,
    started_at: datetime,
    final: WorkSnapshot,
    **figures: Any,
) -> MigrationResult:
    """The shared result: the work's final state, when it was detected and how long the wait took."""
    lag = (final.observed_at - final.stop_date).total_seconds() if final.stop_date else None
    result: MigrationResult = {
        request.key_field: request.key,  # type: ignore[misc]
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
