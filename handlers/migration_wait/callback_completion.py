"""The completer's workflow: a DMS task event in, the waiting execution's callback completed at most once.

Events arrive at least once, late, out of order or never. The completer therefore believes nothing but DMS: a
terminal event only prompts a fresh DescribeReplicationTasks, and the callback carries that answer (a JSON
TaskFinishRecord) for the execution to classify with the shared rule. Duplicates, events nobody waits for and
events for a task that is running again end quietly; the callback service refuses a second completion anyway.

The one race (an execution between its safety-net timeout and its re-registration) is handled by the delivery it
shares with CallbackApiFunction (``callback_delivery.py``): it follows the re-registration for a short grace
period, or leaves the task to the execution's next safety-net check.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from migration_wait.callback_delivery import CallbackDelivery, DeliveryOutcome
from migration_wait.callback_sender import CallbackSender
from migration_wait.correlation_store import CallbackRegistration, CorrelationStore
from migration_wait.dms_events import DmsTaskEvent, parse_dms_task_event
from migration_wait.dms_gateway import DmsGateway
from migration_wait.domain import TaskOutcome, TaskSnapshot
from migration_wait.errors import InvalidDmsEventError, TaskNotFoundError
from migration_wait.settings import CompleterSettings

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger


class CompletionOutcome(StrEnum):
    COMPLETED = "completed"
    REJECTED_MALFORMED = "rejected-malformed-event"
    IGNORED_NOT_TERMINAL = "ignored-not-terminal"
    IGNORED_NO_WAITING_EXECUTION = "ignored-no-waiting-execution"
    IGNORED_ALREADY_DELIVERED = "ignored-already-delivered"
    IGNORED_TASK_STILL_RUNNING = "ignored-task-still-running"
    IGNORED_TASK_NOT_FOUND = "ignored-task-not-found"
    LEFT_TO_SAFETY_NET = "left-to-safety-net"


class CompletionReport(TypedDict):
    """What the completer did with one event (its return value, and one log line)."""

    Outcome: str
    ReplicationTaskArn: str | None
    Reason: NotRequired[str]
    Status: NotRequired[str]
    ExecutionArn: NotRequired[str]
    Round: NotRequired[int]


def _report(
    outcome: CompletionOutcome,
    task_arn: str | None,
    reason: str | None = None,
    snapshot: TaskSnapshot | None = None,
    registration: CallbackRegistration | None = None,
) -> CompletionReport:
    report: CompletionReport = {"Outcome": outcome.value, "ReplicationTaskArn": task_arn}
    if reason:
        report["Reason"] = reason
    if snapshot:
        report["Status"] = snapshot.status
    if registration:
        report["ExecutionArn"] = registration.execution_arn
        report["Round"] = registration.round
    return report


@dataclass(frozen=True)
class TaskEventCompleter:
    """Turns one DMS task event into at most one callback completion."""

    store: CorrelationStore
    gateway: DmsGateway
    sender: CallbackSender
    settings: CompleterSettings
    logger: Logger
    sleep: Callable[[float], None] = field(default=time.sleep)
    monotonic: Callable[[], float] = field(default=time.monotonic)

    def handle(self, raw_event: Any) -> CompletionReport:
        try:
            event = parse_dms_task_event(raw_event)
        except InvalidDmsEventError as err:
            # Retrying cannot fix a malformed event, so it is not raised (no retry loop): it is logged with the
            # reason and completes nothing. Executions waiting on a lost event are finished by their safety net.
            report = _report(CompletionOutcome.REJECTED_MALFORMED, None, reason=str(err))
            self.logger.error("Rejected a malformed DMS event", extra={**report, "event": _preview(raw_event)})
            return report
        report = self._complete(event)
        self.logger.info("Handled a DMS task event", extra={**report, "EventType": event.event_type})
        return report

    def _complete(self, event: DmsTaskEvent) -> CompletionReport:
        task_arn = event.replication_task_arn
        if not event.is_terminal:
            return _report(CompletionOutcome.IGNORED_NOT_TERMINAL, task_arn)
        registration = self.store.find(task_arn)
        if registration is None:
            return _report(CompletionOutcome.IGNORED_NO_WAITING_EXECUTION, task_arn)
        if registration.delivered:
            return _report(CompletionOutcome.IGNORED_ALREADY_DELIVERED, task_arn, registration=registration)
        try:
            snapshot = self.gateway.describe_task(task_arn)
        except TaskNotFoundError as err:
            # The task was deleted after it ended; the execution's safety net reports that to it.
            return _report(CompletionOutcome.IGNORED_TASK_NOT_FOUND, task_arn, reason=str(err))
        if snapshot.outcome is TaskOutcome.RUNNING:
            # A stale or out-of-order event (for example from an earlier run of the task): DMS says otherwise.
            return _report(CompletionOutcome.IGNORED_TASK_STILL_RUNNING, task_arn, snapshot=snapshot)
        return self._deliver(registration, snapshot)

    def _deliver(self, registration: CallbackRegistration, snapshot: TaskSnapshot) -> CompletionReport:
        task_arn = registration.replication_task_arn
        delivery = CallbackDelivery(
            store=self.store,
            sender=self.sender,
            grace_seconds=self.settings.reregistration_grace_seconds,
            logger=self.logger,
            sleep=self.sleep,
            monotonic=self.monotonic,
        ).deliver(registration, snapshot)
        current = delivery.registration
        if delivery.outcome is DeliveryOutcome.COMPLETED:
            return _report(CompletionOutcome.COMPLETED, task_arn, snapshot=snapshot, registration=current)
        if delivery.outcome is DeliveryOutcome.ALREADY_DELIVERED:
            return _report(CompletionOutcome.IGNORED_ALREADY_DELIVERED, task_arn, registration=current)
        if delivery.outcome is DeliveryOutcome.LEFT_TO_SAFETY_NET:
            return _report(
                CompletionOutcome.LEFT_TO_SAFETY_NET,
                task_arn,
                reason="the callback is closed and no new one was registered within REREGISTRATION_GRACE_SECONDS",
                snapshot=snapshot,
                registration=current,
            )
        # The execution finished (its safety net saw the task done) and released the task.
        return _report(CompletionOutcome.IGNORED_NO_WAITING_EXECUTION, task_arn, snapshot=snapshot)


def _preview(raw_event: Any) -> str:
    return repr(raw_event)[:1000]
