"""The workflow every variant shares: start the work once (work_start.py), wait (what differs), classify, report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from waiting.domain import (
    MigrationResult,
    Variant,
    WorkOutcome,
    WorkRequest,
    WorkSnapshot,
    build_result,
)
from waiting.errors import ReplicationTaskFailedError

if TYPE_CHECKING:
    from aws_durable_execution_sdk_python import DurableContext


@dataclass(frozen=True)
class WaitOutcome:
    """How a wait ended: the task's final snapshot, when the task was started, and the variant's own figures."""

    final: WorkSnapshot
    started_at: datetime
    figures: dict[str, int] = field(default_factory=dict)


class TaskWaiter(Protocol):
    """The one part the variants do not share: how the execution learns that the task is done."""

    @property
    def variant(self) -> Variant: ...

    def start_and_wait(self, context: DurableContext, request: WorkRequest) -> WaitOutcome: ...


def run_migration_wait(context: DurableContext, request: WorkRequest, waiter: TaskWaiter) -> MigrationResult:
    """Start the task and wait for it; succeed with the shared result or fail with DMS's reason."""
    context.logger.info(
        "Waiting for replication task",
        extra={"ReplicationTaskArn": request.key, "Variant": waiter.variant.value},
    )
    outcome = waiter.start_and_wait(context, request)
    final = outcome.final
    if final.outcome is WorkOutcome.FAILED:
        context.logger.error(
            "Replication task failed",
            extra={"ReplicationTaskArn": request.key, "Status": final.status},
        )
        raise ReplicationTaskFailedError(f"{request.key}: {final.failure_reason()}")
    if final.outcome is not WorkOutcome.SUCCEEDED:
        raise ReplicationTaskFailedError(f"{request.key}: wait ended while the task is still {final.status!r}")
    context.logger.info(
        "Replication task finished",
        extra={"ReplicationTaskArn": request.key, "Status": final.status},
    )
    return build_result(request, waiter.variant, outcome.started_at, final, **outcome.figures)
