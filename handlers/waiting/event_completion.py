"""The completer's workflow: an event about some work in, the waiting execution's callback completed at most once.

Which events, and how to read the work they announce, is each kind's business, behind the ``WorkEvents`` port
(``job_kinds.dms_task.events.dms_task_events``, ``job_kinds.dms_serverless.events.dms_replication_events``); one
completer serves them all. Events arrive at least once, late, out of order or never. The completer therefore
believes nothing but the work's owner: a terminal event only prompts a fresh read, and the callback carries that
answer (a JSON WorkFinishRecord, with the outcome the kind classified). A finished state counts only for the run the
waiting execution started (its claim's ``RunBoundAt``): an earlier run's late event finishes nothing. Duplicates,
events nobody waits for and events for a task that is running again end quietly; the callback service refuses a
second completion anyway.

Nothing is dropped quietly: a malformed event raises ``InvalidDmsEventError`` and a fault that outlasts the
clients' retries raises too, so Lambda's asynchronous retries and then the dead-letter queue (alarmed) keep it.
The one race (an execution between its safety-net timeout and its re-registration) is handled by the delivery it
shares with CallbackApiFunction (``callback_delivery.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from aws_adapters.callback_sender import CallbackSender
from aws_adapters.correlation_store import CallbackRegistration, CorrelationStore
from waiting.callback_delivery import CallbackDelivery, DeliveryOutcome
from waiting.domain import WorkOutcome, WorkSnapshot
from waiting.errors import InvalidEventError, TaskNotFoundError
from waiting.settings import CompleterSettings
from waiting.work_events import WorkEvent, WorkEvents

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger


class CompletionOutcome(StrEnum):
    COMPLETED = "completed"
    IGNORED_NOT_TERMINAL = "ignored-not-terminal"
    IGNORED_NO_WAITING_EXECUTION = "ignored-no-waiting-execution"
    IGNORED_ALREADY_DELIVERED = "ignored-already-delivered"
    IGNORED_TASK_STILL_RUNNING = "ignored-task-still-running"
    IGNORED_TASK_NOT_FOUND = "ignored-task-not-found"
    IGNORED_EARLIER_RUN = "ignored-earlier-run"
    LEFT_FOR_NEXT_ROUND = "left-for-next-round"


class CompletionReport(TypedDict):
    """What the completer did with one event (its return value, and one log line)."""

    Outcome: str
    WorkArn: str | None
    Reason: NotRequired[str]
    Status: NotRequired[str]
    ExecutionArn: NotRequired[str]
    Round: NotRequired[int]


def _report(
    outcome: CompletionOutcome,
    task_arn: str | None,
    reason: str | None = None,
    snapshot: WorkSnapshot | None = None,
    registration: CallbackRegistration | None = None,
) -> CompletionReport:
    report: CompletionReport = {"Outcome": outcome.value, "WorkArn": task_arn}
    if reason:
        report["Reason"] = reason
    if snapshot:
        report["Status"] = snapshot.status
    if registration:
        report["ExecutionArn"] = registration.execution_arn
        report["Round"] = registration.round
    return report


@dataclass(frozen=True)
class EventCompleter:
    """Turns one event about some work into at most one callback completion."""

    store: CorrelationStore
    sources: tuple[WorkEvents, ...]
    sender: CallbackSender
    settings: CompleterSettings
    logger: Logger
    sleep: Callable[[float], None] = field(default=time.sleep)
    monotonic: Callable[[], float] = field(default=time.monotonic)

    def handle(self, raw_event: Any) -> CompletionReport:
        try:
            source = self._source_of(raw_event)
            event = source.parse(raw_event)
        except InvalidEventError as err:
            # Raised, not logged away: after Lambda's two asynchronous retries the event lands in the dead-letter
            # queue, whose alarm tells an operator (the EventBridge rule, the event bus or DMS sent something new).
            self.logger.error("Rejected a malformed event", extra={"Reason": str(err), "event": _preview(raw_event)})
            raise
        report = self._complete(source, event)
        self.logger.info("Handled an event", extra={**report, "EventType": event.event_type})
        return report

    def _source_of(self, raw_event: Any) -> WorkEvents:
        if not isinstance(raw_event, dict):
            raise InvalidEventError(f"the event must be a JSON object, got {type(raw_event).__name__}")
        for source in self.sources:
            if source.recognises(raw_event):
                return source
        raise InvalidEventError(
            f"no kind of work this function waits on sends this event (source {raw_event.get('source')!r}, "
            f"detail-type {raw_event.get('detail-type')!r})"
        )

    def _complete(self, source: WorkEvents, event: WorkEvent) -> CompletionReport:
        task_arn = event.key
        if not event.is_terminal:
            return _report(CompletionOutcome.IGNORED_NOT_TERMINAL, task_arn)
        registration = self.store.find(task_arn)
        if registration is None:
            return _report(CompletionOutcome.IGNORED_NO_WAITING_EXECUTION, task_arn)
        if registration.delivered:
            return _report(CompletionOutcome.IGNORED_ALREADY_DELIVERED, task_arn, registration=registration)
        try:
            snapshot = source.describe(task_arn)
        except TaskNotFoundError as err:
            # The work was deleted after it ended; the execution's safety net reports that to it.
            return _report(CompletionOutcome.IGNORED_TASK_NOT_FOUND, task_arn, reason=str(err))
        ignored = _not_this_runs_end(registration, snapshot)
        return ignored if ignored is not None else self._deliver(registration, snapshot)

    def _deliver(self, registration: CallbackRegistration, snapshot: WorkSnapshot) -> CompletionReport:
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
        if delivery.outcome is DeliveryOutcome.LEFT_FOR_NEXT_ROUND:
            return _report(
                CompletionOutcome.LEFT_FOR_NEXT_ROUND,
                task_arn,
                reason=(
                    "the callback is closed and no new one was registered within REREGISTRATION_GRACE_SECONDS: "
                    "the finished state waits on the correlation for the execution's next round"
                ),
                snapshot=snapshot,
                registration=current,
            )
        # The execution finished (its safety net saw the task done) and released the task.
        return _report(CompletionOutcome.IGNORED_NO_WAITING_EXECUTION, task_arn, snapshot=snapshot)


def _not_this_runs_end(registration: CallbackRegistration, snapshot: WorkSnapshot) -> CompletionReport | None:
    """Why DMS's answer finishes nothing (a report), or None when it is the end of the waiting execution's run."""
    task_arn = registration.replication_task_arn
    if snapshot.outcome is WorkOutcome.RUNNING:
        # A stale or out-of-order event (for example from an earlier run of the task): DMS says otherwise.
        return _report(CompletionOutcome.IGNORED_TASK_STILL_RUNNING, task_arn, snapshot=snapshot)
    if not snapshot.belongs_to_run(registration.run_bound_at):
        # DMS still shows an earlier run's end: the waiting execution has claimed the task but its run has not
        # begun to show (the late event of that earlier run arrived between the claim and the start).
        return _report(
            CompletionOutcome.IGNORED_EARLIER_RUN,
            task_arn,
            reason="the work's finished state belongs to a run that began before this wait's",
            snapshot=snapshot,
            registration=registration,
        )
    return None


def _preview(raw_event: Any) -> str:
    return repr(raw_event)[:1000]
