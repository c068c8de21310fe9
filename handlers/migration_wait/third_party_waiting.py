"""The third-party job variant's work: what CallbackWaiter waits on when a third party runs the migration.

Round 0's submitter claims the task in the correlation table (the same claim, re-registration and release as the DMS
callback variant), issues a fresh callback token, and only then asks the third party to start the job, handing it
``<CALLBACK_API_URL>/callbacks/<token>``. The job's id is derived from the execution, so a retried submitter finds
the job its first attempt created instead of starting another. The safety net reads the job status endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from migration_wait.callback_tokens import CallbackTokenStore, hash_token, new_callback_token
from migration_wait.correlation_store import CorrelationStore
from migration_wait.domain import MigrationRequest, TaskSnapshot
from migration_wait.third_party_jobs import ThirdPartyJobs, job_id_for

if TYPE_CHECKING:
    from aws_durable_execution_sdk_python.types import OperationContext, WaitForCallbackContext

CALLBACK_PATH = "/callbacks/"


@dataclass(frozen=True)
class ThirdPartyJobWork:
    """A migration job run by a third party that takes a callback URL and publishes no events."""

    store: CorrelationStore
    tokens: CallbackTokenStore
    jobs: ThirdPartyJobs
    callback_api_url: str
    # A token must outlive the longest wait: the callback may come on the last day.
    token_lifetime: timedelta

    def register_and_start(
        self,
        request: MigrationRequest,
        callback_id: str,
        execution_arn: str,
        lifetime: timedelta,
        context: WaitForCallbackContext,
    ) -> None:
        task_arn = request.replication_task_arn
        job_id = job_id_for(execution_arn)
        log = {"ReplicationTaskArn": task_arn, "JobId": job_id, "Round": 0}
        # Claim, then the token, then the job: a job that finishes at once must find its URL leading somewhere.
        self.store.register(task_arn, callback_id, execution_arn, lifetime)
        token = new_callback_token()
        self.tokens.issue(hash_token(token), task_arn, execution_arn, job_id, self.token_lifetime)
        context.logger.info("Registered the callback and issued its URL; starting the job", extra=log)
        self.jobs.start_job(job_id, request, f"{self.callback_api_url.rstrip('/')}{CALLBACK_PATH}{token}")
        context.logger.info("Started the third party's job", extra=log)

    def describe(self, request: MigrationRequest, execution_arn: str, context: OperationContext) -> TaskSnapshot:
        return self.jobs.describe_job(job_id_for(execution_arn), request.replication_task_arn)
