"""Glue Job State Change events from EventBridge, as the completer sees them; errors name the field."""

from dataclasses import dataclass
from typing import Any

from glue_job_run.rules import classify_job_run_state
from glue_job_run.work import GlueJobRunWork
from waiting.domain import WorkOutcome, WorkSnapshot
from waiting.errors import InvalidEventError
from waiting.event_completion import WorkEvent

GLUE_SOURCE, JOB_STATE_CHANGE = "aws.glue", "Glue Job State Change"


@dataclass(frozen=True)
class GlueJobEvents:
    """Glue announces SUCCEEDED, FAILED, TIMEOUT and STOPPED runs (``detail``: jobName, jobRunId, state, message)."""

    work: GlueJobRunWork

    def recognises(self, raw: dict[str, Any]) -> bool:
        return raw.get("source") == GLUE_SOURCE and raw.get("detail-type") == JOB_STATE_CHANGE

    def parse(self, raw: dict[str, Any]) -> WorkEvent:
        detail = raw.get("detail")
        if not isinstance(detail, dict):
            raise InvalidEventError("detail must be a JSON object")
        for name in ("jobName", "jobRunId", "state"):
            if not isinstance(detail.get(name), str) or not detail[name]:
                raise InvalidEventError(f"detail.{name} must be a non-empty string")
        ended = classify_job_run_state(detail["state"]) is not WorkOutcome.RUNNING
        return WorkEvent(key=detail["jobName"], is_terminal=ended, event_type=detail["state"])

    def describe(self, key: str) -> WorkSnapshot:
        # The claim names the job, not the run: one wait per job at a time, so the newest run a wait tagged is the
        # claimant's, and an earlier wait's run began before the claim's run bound (the core ignores it).
        return self.work.find(key, tag=None)
