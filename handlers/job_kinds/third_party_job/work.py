"""The third-party job variant's work: what CallbackWaiter waits on when a third party runs the migration.

The waiting core claims the task in the correlation table (the same claim, re-registration and release as the DMS
callback variant); this work's start then issues a fresh callback token and asks the third party to start the job,
handing it ``<CALLBACK_API_URL>/callbacks/<token>``. A run is bound by its identity, not by a look: the job's id is
derived from the execution and its token is single-use, so no other run's callback can reach this wait. The start is
idempotent: a retried attempt (after a lost answer or a crash) issues another token, and the third party answers the
same job id with the job the first attempt created, whose first URL stays valid. The safety net reads the job status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from callback_api.tokens import CallbackTokenStore, hash_token, new_callback_token
from job_kinds.dms_task.rules import parse_task_request
from job_kinds.third_party_job.jobs_api import ThirdPartyJobs, job_id_for
from waiting.callback_rounds import CORRELATION_GRACE
from waiting.domain import WorkRequest, WorkSnapshot
from waiting.settings import CallbackSettings, ThirdPartySettings
from waiting.work_start import StartOutcome

if TYPE_CHECKING:
    from aws_durable_execution_sdk_python.types import OperationContext, StepContext

CALLBACK_PATH = "/callbacks/"


@dataclass(frozen=True)
class ThirdPartyJobWork:
    """A migration job run by a third party that takes a callback URL and publishes no events."""

    tokens: CallbackTokenStore
    jobs: ThirdPartyJobs
    callback_api_url: str
    # A token must outlive the longest wait: the callback may come on the last day.
    token_lifetime: timedelta
    look_step_name: str | None = None

    def look(self, request: WorkRequest, execution_arn: str, context: StepContext) -> WorkSnapshot:
        raise NotImplementedError("a third-party job has no look: its run is bound by its job id and token")

    def start(
        self, request: WorkRequest, execution_arn: str, before: WorkSnapshot | None, context: StepContext
    ) -> StartOutcome:
        task_arn = request.key
        job_id = job_id_for(execution_arn)
        log = {"ReplicationTaskArn": task_arn, "JobId": job_id, "Attempt": context.attempt}
        # The token before the job: a job that finishes at once must find its URL leading somewhere.
        token = new_callback_token()
        self.tokens.issue(hash_token(token), task_arn, execution_arn, job_id, self.token_lifetime)
        context.logger.info("Issued the callback URL; starting the job", extra=log)
        job = self.jobs.start_job(job_id, request, f"{self.callback_api_url.rstrip('/')}{CALLBACK_PATH}{token}")
        context.logger.info("Started the third party's job", extra=log)
        return StartOutcome(started_at=_start_date(job) or datetime.now(UTC))

    def describe(self, request: WorkRequest, execution_arn: str, context: OperationContext) -> WorkSnapshot:
        return self.jobs.describe_job(job_id_for(execution_arn), request.key)


def _start_date(job: dict[str, Any]) -> datetime | None:
    """The job's StartDate as the third party reports it, if it is a time with a zone."""
    value = job.get("StartDate")
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def third_party_input(event: object) -> tuple[WorkRequest, ThirdPartyJobWork]:
    """ThirdPartyJobFunction's input (a replication task for the third party to migrate) and the work it names."""
    request = parse_task_request(event)
    settings, third_party = CallbackSettings.from_env(), ThirdPartySettings.from_env()
    return request, ThirdPartyJobWork(
        tokens=CallbackTokenStore(third_party.token_table_name),
        jobs=ThirdPartyJobs(third_party.api_url, third_party.request_timeout_seconds),
        callback_api_url=third_party.callback_api_url,
        token_lifetime=timedelta(seconds=settings.max_wait_seconds) + CORRELATION_GRACE,
    )
