"""The Glue job run as waited work (StartJobRun, GetJobRuns, stamped with Glue's clock) and its events."""

from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from aws_durable_execution_sdk_python.types import OperationContext, StepContext
from botocore.exceptions import BotoCoreError, ClientError

from aws_adapters.clients import service_client
from aws_adapters.error_details import server_time, translate_client_error
from glue_job_run.rules import RUN_TAG_ARGUMENT, classify_job_run_state, job_run_snapshot, parse_job_run_input, run_tag
from waiting.domain import WorkOutcome, WorkRequest, WorkSnapshot
from waiting.errors import RequestRejectedError, RetryableError, StartNotConfirmedError
from waiting.work_events import WorkEvent, event_detail
from waiting.work_start import StartOutcome

# GetJobRuns answers newest first, at most 200 a page: a waiting execution's run is among the newest 200.
NEWEST_RUNS = 200
_now = partial(datetime.now, UTC)
_NOT_FOUND, _TRANSIENT = frozenset({"EntityNotFoundException"}), frozenset({"OperationTimeoutException"})


class RunNotShownError(RetryableError):
    """No run carrying the tag is among the job's newest runs (not listed yet, or never started)."""


@dataclass(frozen=True)
class GlueJobRunWork:
    """One run of a Glue job per execution, bound to it by its tag. ``attempts`` is botocore's per call: one inside
    durable steps, whose retry policies decide; more in the completer, which has no step behind it."""

    arguments: dict[str, str]
    attempts: int = 1
    client: Any = None
    look_step_name: str | None = "inspect-glue-job"

    def look(self, request: WorkRequest, execution_arn: str, context: StepContext) -> WorkSnapshot:
        runs, observed_at = self._newest_runs(request.key)
        snapshot = job_run_snapshot(runs[0] if runs else {"JobRunState": "NO_RUNS"}, observed_at)
        # The look's time is the run bound. Glue's Date header counts whole seconds, StartedOn milliseconds: the bound
        # must follow the start of every run the look saw, or one begun in the same second would pass for this wait's.
        after_newest = snapshot.start_date + timedelta(milliseconds=1) if snapshot.start_date else observed_at
        return replace(snapshot, observed_at=max(observed_at, after_newest))

    def start(
        self, request: WorkRequest, execution_arn: str, before: WorkSnapshot | None, context: StepContext
    ) -> StartOutcome:
        tag = run_tag(execution_arn)
        if context.attempt > 1:
            # An earlier attempt's answer was lost or its Lambda died: the run it may have started carries our tag.
            with suppress(RunNotShownError):
                run = self.find(request.key, tag)
                return StartOutcome(started_at=run.start_date or run.observed_at, adopted=True)
        try:
            response = self._call(request.key, "start_job_run", Arguments={**self.arguments, RUN_TAG_ARGUMENT: tag})
        except RequestRejectedError as err:
            if context.attempt == 1:
                raise
            # ConcurrentRunsExceededException may be our own run, not listed yet: the next attempt looks again.
            raise StartNotConfirmedError(f"{request.key}: Glue refused a retried start ({err})") from err
        return StartOutcome(started_at=server_time(response, _now))

    def describe(self, request: WorkRequest, execution_arn: str, context: OperationContext) -> WorkSnapshot:
        return self.find(request.key, run_tag(execution_arn))

    def find(self, job_name: str, tag: str | None) -> WorkSnapshot:
        """The newest run carrying ``tag`` (None: any execution's tag)."""
        runs, observed_at = self._newest_runs(job_name)
        for run in runs:
            if (found := run.get("Arguments", {}).get(RUN_TAG_ARGUMENT)) and tag in (None, found):
                return job_run_snapshot(run, observed_at)
        raise RunNotShownError(f"no run of Glue job {job_name!r} is tagged {tag or '(any)'}", observed_at)

    def _newest_runs(self, job_name: str) -> tuple[list[dict[str, Any]], datetime]:
        response = self._call(job_name, "get_job_runs", MaxResults=NEWEST_RUNS)
        runs = sorted(response.get("JobRuns", []), key=lambda run: run.get("StartedOn", _now()), reverse=True)
        return runs, server_time(response, _now)

    def _call(self, job_name: str, operation: str, **params: Any) -> dict[str, Any]:
        try:
            response: dict[str, Any] = getattr(self.client or service_client("glue", self.attempts), operation)(
                JobName=job_name, **params
            )
        except (BotoCoreError, ClientError) as err:
            what = f"Glue job {job_name!r}"
            raise translate_client_error(err, what, not_found=_NOT_FOUND, transient=_TRANSIENT, clock=_now) from err
        return response


def job_run_input(event: object) -> tuple[WorkRequest, GlueJobRunWork]:
    """The functions' input: the request (the job name is the key) and the work, with the run's arguments."""
    request, arguments = parse_job_run_input(event)
    return request, GlueJobRunWork(arguments)


GLUE_SOURCE, JOB_STATE_CHANGE = "aws.glue", "Glue Job State Change"


@dataclass(frozen=True)
class GlueJobEvents:
    """Glue announces SUCCEEDED, FAILED, TIMEOUT and STOPPED runs (``detail``: jobName, jobRunId, state, message)."""

    work: GlueJobRunWork

    def recognises(self, raw: dict[str, Any]) -> bool:
        return raw.get("source") == GLUE_SOURCE and raw.get("detail-type") == JOB_STATE_CHANGE

    def parse(self, raw: dict[str, Any]) -> WorkEvent:
        detail = event_detail(raw, "jobName", "jobRunId", "state")
        ended = classify_job_run_state(detail["state"]) is not WorkOutcome.RUNNING
        return WorkEvent(key=detail["jobName"], is_terminal=ended, event_type=detail["state"])

    def describe(self, key: str) -> WorkSnapshot:
        # The claim names the job, not the run: one wait per job at a time, so the newest run a wait tagged is the
        # claimant's, and an earlier wait's run began before the claim's run bound (the core ignores it).
        return self.work.find(key, tag=None)


def glue_event_sources() -> tuple[GlueJobEvents]:
    """The completer's one source; no step retry stands behind it, so its Glue reads retry themselves."""
    return (GlueJobEvents(GlueJobRunWork({}, attempts=5)),)
