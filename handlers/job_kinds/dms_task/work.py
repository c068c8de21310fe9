"""The DMS replication task as waited work: look, start (reconciling a retry with DMS), describe.

Both DMS variants wait on it: the polling variant directly, the callback variant between its claim and its wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_adapters.dms_gateway import DmsGateway
from job_kinds.dms_task.rules import is_startable, run_under_way
from waiting import work_start
from waiting.domain import WorkRequest, WorkSnapshot
from waiting.work_start import StartOutcome, reconcile_then_start

if TYPE_CHECKING:
    from aws_durable_execution_sdk_python.types import OperationContext, StepContext

LOOK_STEP_NAME = "inspect-replication-task"


def start_took_effect(before: WorkSnapshot, now: WorkSnapshot) -> bool:
    """Whether DMS shows a run of the task that began after the look (``work_start.start_took_effect``)."""
    return work_start.start_took_effect(before, now, startable=is_startable, under_way=run_under_way)


@dataclass(frozen=True)
class DmsTaskWork:
    """A DMS replication task: StartReplicationTask once, DescribeReplicationTasks to reconcile and to check."""

    gateway: DmsGateway
    look_step_name: str | None = LOOK_STEP_NAME

    def look(self, request: WorkRequest, execution_arn: str, context: StepContext) -> WorkSnapshot:
        return self.gateway.describe_task(request.key)

    def start(
        self, request: WorkRequest, execution_arn: str, before: WorkSnapshot | None, context: StepContext
    ) -> StartOutcome:
        return reconcile_then_start(
            key=request.key,
            before=before,
            attempt=context.attempt,
            describe=lambda: self.gateway.describe_task(request.key),
            start=lambda: self.gateway.start_task(request.key, request.start_type),
            startable=is_startable,
            under_way=run_under_way,
        )

    def describe(self, request: WorkRequest, execution_arn: str, context: OperationContext) -> WorkSnapshot:
        return self.gateway.describe_task(request.key)
