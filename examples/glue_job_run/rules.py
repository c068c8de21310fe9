"""A Glue job run's words: the input, what a JobRun says, and the tag binding a run to its execution."""

import hashlib
from datetime import UTC, datetime
from typing import Any

from waiting.domain import WorkOutcome, WorkRequest, WorkSnapshot
from waiting.errors import InvalidInputError

# StartJobRun takes no idempotency token, but GetJobRuns returns each run's Arguments: this one names the execution
# that started the run, so a retried start finds its own run and a describe reads no other.
RUN_TAG_ARGUMENT = "--migration-wait-execution"
_FAILED = frozenset({"FAILED", "ERROR", "TIMEOUT", "STOPPED", "EXPIRED"})


def parse_job_run_input(event: object) -> tuple[WorkRequest, dict[str, str]]:
    """The input ``{"JobName", "Arguments"?}`` (the job name is the correlation key); errors name the field."""
    if not isinstance(event, dict) or set(event) - {"JobName", "Arguments"}:
        raise InvalidInputError(f"input must be a JSON object of JobName and Arguments, got {str(event)[:200]}")
    name, arguments = event.get("JobName"), event.get("Arguments", {})
    if not isinstance(name, str) or not 1 <= len(name) <= 255:
        raise InvalidInputError("JobName must be a string of 1 to 255 characters")
    if not isinstance(arguments, dict) or not all(isinstance(value, str) for value in arguments.values()):
        raise InvalidInputError("Arguments must be a JSON object of strings")
    if RUN_TAG_ARGUMENT in arguments:
        raise InvalidInputError(f"Arguments must not set {RUN_TAG_ARGUMENT}: the wait sets it")
    return WorkRequest(name, "start-job-run", key_field="JobName", start_type_field="StartAction"), arguments


def run_tag(execution_arn: str) -> str:
    """The execution's tag: short, and one-way (Glue may log job arguments)."""
    return hashlib.sha256(execution_arn.encode()).hexdigest()[:32]


def classify_job_run_state(state: str) -> WorkOutcome:
    """STARTING, RUNNING, STOPPING, WAITING and any state Glue adds later are still running (the wait is bounded)."""
    if state in _FAILED:
        return WorkOutcome.FAILED
    return WorkOutcome.SUCCEEDED if state == "SUCCEEDED" else WorkOutcome.RUNNING


def job_run_snapshot(run: dict[str, Any], observed_at: datetime) -> WorkSnapshot:
    """A JobRun as Glue reported it at ``observed_at``, ErrorMessage as the reason; DMS's fields stay empty."""
    state, started, ended = (
        run["JobRunState"],
        run.get("StartedOn"),
        run.get("CompletedOn") or run.get("LastModifiedOn"),
    )
    outcome = classify_job_run_state(state)
    # Only a finished run has ended (moto stamps CompletedOn on a run it just started).
    stop_date = ended.astimezone(UTC) if ended and outcome is not WorkOutcome.RUNNING else None
    start_date = started.astimezone(UTC) if started else None
    return WorkSnapshot(state, None, run.get("ErrorMessage"), None, stop_date, observed_at, start_date, outcome=outcome)
