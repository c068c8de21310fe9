"""The DMS Serverless replication as waited work: look, start (reconciling a retry with DMS), describe.

Both DMS variants wait on it as on a task. Its look is the step ``inspect-replication``, not the task's
``inspect-replication-task``: operation names are a stored contract per execution, compared on replay; a
serverless wait is a new execution shape (its input names a ReplicationConfigArn), so no execution recorded before
this kind existed can replay into it, and the name tells a reader of the history which kind was waited on. The
steps that follow are the waiting core's and keep their names for every kind (as the third-party job's do).

A replication provisions capacity for tens of minutes before any data moves (``initializing`` ...
``replication_starting``): those statuses are a run under way, so a retried start adopts them, and the wait keeps
waiting through them. Run binding uses ``ReplicationStats.StartDate``, stamped by DMS at every accepted start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_adapters.dms_gateway import DmsGateway
from job_kinds.dms_serverless.rules import is_startable, run_under_way
from waiting.domain import WorkRequest, WorkSnapshot
from waiting.errors import DmsRequestRejectedError, StartNotConfirmedError
from waiting.work_start import StartOutcome

if TYPE_CHECKING:
    from aws_durable_execution_sdk_python.types import OperationContext, StepContext

LOOK_STEP_NAME = "inspect-replication"


def start_took_effect(before: WorkSnapshot, now: WorkSnapshot) -> bool:
    """Whether DMS shows a run that began after the look: the start of an earlier attempt took effect.

    A replication that was startable at the look and now shows a run under way (provisioning, running, stopping), or
    a run whose StartDate is not before the look, was started since: by this execution, which holds the replication
    (the callback variant's claim) or is the only one told to start it.
    """
    if not is_startable(before):
        return False
    if now.start_date is not None:
        return now.belongs_to_run(before.observed_at)
    return run_under_way(now)


@dataclass(frozen=True)
class DmsReplicationWork:
    """A DMS Serverless replication: StartReplication once, DescribeReplications to reconcile and to check."""

    gateway: DmsGateway
    look_step_name: str | None = LOOK_STEP_NAME

    def look(self, request: WorkRequest, execution_arn: str, context: StepContext) -> WorkSnapshot:
        return self.gateway.describe_replication(request.key)

    def start(
        self, request: WorkRequest, execution_arn: str, before: WorkSnapshot | None, context: StepContext
    ) -> StartOutcome:
        config_arn = request.key
        retry = context.attempt > 1
        if retry and before is not None:
            now = self.gateway.describe_replication(config_arn)
            if start_took_effect(before, now):
                return StartOutcome(started_at=now.start_date or now.observed_at, adopted=True)
        try:
            return StartOutcome(started_at=self.gateway.start_replication(config_arn, request.start_type))
        except DmsRequestRejectedError as err:
            if retry:
                # Refused on a retry (InvalidResourceStateFault: "currently initializing"): the earlier attempt's
                # start may have taken effect while DMS does not show it yet. The next attempt looks again; only
                # when the retries run out does the refusal stand.
                raise StartNotConfirmedError(
                    f"{config_arn}: DMS refused a retried start and does not show this execution's run yet ({err})"
                ) from err
            raise

    def describe(self, request: WorkRequest, execution_arn: str, context: OperationContext) -> WorkSnapshot:
        return self.gateway.describe_replication(request.key)
