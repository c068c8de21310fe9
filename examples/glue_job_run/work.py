"""The Glue job run as waited work, and its adapter: StartJobRun and GetJobRuns, stamped with Glue's clock."""

from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache, partial
from typing import Any

import boto3
from aws_durable_execution_sdk_python.types import OperationContext, StepContext
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from aws_adapters.dms_gateway import server_time
from aws_adapters.error_details import error_details, is_transient
from glue_job_run.rules import RUN_TAG_ARGUMENT, job_run_snapshot, run_tag
from waiting.domain import WorkRequest, WorkSnapshot
from waiting.errors import RetryableError, StartNotConfirmedError, TaskNotFoundError, TerminalError
from waiting.work_start import StartOutcome

# GetJobRuns answers newest first, at most 200 a page: a waiting execution's run is among the newest 200.
NEWEST_RUNS = 200
_now = partial(datetime.now, UTC)


class GlueRejectedError(TerminalError):
    """Glue refused the request for a reason retrying will not change (e.g. ConcurrentRunsExceededException)."""


class RunNotShownError(RetryableError):
    """No run carrying the tag is among the job's newest runs (not listed yet, or never started)."""


@cache
def glue_client(total_max_attempts: int) -> Any:
    retries: Any = {"mode": "standard", "total_max_attempts": total_max_attempts}
    return boto3.client("glue", config=Config(connect_timeout=5, read_timeout=10, retries=retries))


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
        except GlueRejectedError as err:
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
            response: dict[str, Any] = getattr(self.client or glue_client(self.attempts), operation)(
                JobName=job_name, **params
            )
        except BotoCoreError as err:
            raise RetryableError(f"Glue unreachable for job {job_name!r}: {err}", _now()) from err
        except ClientError as err:
            code, message, _ = error_details(err)
            what = f"Glue answered {code} for job {job_name!r}: {message}"
            if code == "EntityNotFoundException":
                raise TaskNotFoundError(what) from err
            if is_transient(err) or code == "OperationTimeoutException":
                raise RetryableError(what, server_time(err.response, _now)) from err
            raise GlueRejectedError(what) from err
        return response
