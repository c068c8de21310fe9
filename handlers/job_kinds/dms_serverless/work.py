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
from waiting import work_start
from waiting.domain import WorkRequest, WorkSnapshot
from waiting.work_start import StartOutcome, reconcile_then_start

if TYPE_CHECKING:
    from aws_durable_execution_sdk_python.types import OperationContext, StepContext

LOOK_STEP_NAME = "inspect-replication"


def start_took_effect(before: WorkSnapshot, now: WorkSnapshot) -> bool:
    """Whether DMS shows a run of the replication that began after the look (``work_start.start_took_effect``)."""
    return work_start.start_took_effect(before, now, startable=is_startable, under_way=run_under_way)


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
        return reconcile_then_start(
            key=request.key,
            before=before,
            attempt=context.attempt,
            describe=lambda: self.gateway.describe_replication(request.key),
            start=lambda: self.gateway.start_replication(request.key, request.start_type),
            startable=is_startable,
            under_way=run_under_way,
        )

    def describe(self, request: WorkRequest, execution_arn: str, context: OperationContext) -> WorkSnapshot:
        return self.gateway.describe_replication(request.key)
