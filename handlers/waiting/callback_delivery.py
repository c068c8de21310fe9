"""Delivering a finished task's state to the execution waiting for it, at most once, through the re-registration race.

Shared by both completers (``DmsEventsFunction`` for DMS events, ``CallbackApiFunction`` for third-party callbacks).
The state travels as a JSON ``WorkFinishRecord``: a success callback, or a failure callback whose ``ErrorData`` holds
the record, for the execution to classify with the shared rule.

The race: an execution whose safety-net period just ended has a closed callback and is about to register the next
one. Finding the callback closed, the delivery re-reads the correlation for a short grace period and delivers to the
new callback once it appears. If none appears, it leaves the finished state on the item (``PendingFinish``, only
while the item still points at the closed callback): the execution's next re-registration returns it and the wait
ends at once, not a safety-net period later. It never sends to the same callback twice, and it marks the item
delivered, so a duplicate ends at once. A fault it cannot get past (throttling that outlasts the retries, DynamoDB
unreachable) raises: the caller's retry (Lambda's async retries, then the dead-letter queue; the third party's
retry of its callback) takes over, and nothing is logged away.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from aws_adapters.callback_sender import CallbackSender, SendOutcome
from aws_adapters.correlation_store import CallbackRegistration, CorrelationStore
from waiting.domain import WorkOutcome, WorkSnapshot
from waiting.errors import CallbackClosedError

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

REPLICATION_TASK_FAILED = "ReplicationTaskFailed"
_FIRST_REREAD_DELAY_SECONDS = 0.05
_MAX_REREAD_DELAY_SECONDS = 1.0


class DeliveryOutcome(StrEnum):
    COMPLETED = "completed"
    ALREADY_DELIVERED = "ignored-already-delivered"
    NO_WAITING_EXECUTION = "ignored-no-waiting-execution"
    LEFT_FOR_NEXT_ROUND = "left-for-next-round"


@dataclass(frozen=True)
class Delivery:
    outcome: DeliveryOutcome
    registration: CallbackRegistration | None


def _always(_registration: CallbackRegistration) -> bool:
    return True


@dataclass(frozen=True)
class CallbackDelivery:
    """Sends one finished snapshot to the callback the correlation item points at, following re-registrations."""

    store: CorrelationStore
    sender: CallbackSender
    grace_seconds: float
    logger: Logger
    sleep: Callable[[float], None] = field(default=time.sleep)
    monotonic: Callable[[], float] = field(default=time.monotonic)

    def deliver(
        self,
        registration: CallbackRegistration,
        snapshot: WorkSnapshot,
        same_wait: Callable[[CallbackRegistration], bool] = _always,
    ) -> Delivery:
        """Deliver to ``registration`` or its successor; ``same_wait`` rejects an item another wait has taken over."""
        task_arn = registration.replication_task_arn
        deadline = self.monotonic() + self.grace_seconds
        delay = _FIRST_REREAD_DELAY_SECONDS
        current: CallbackRegistration | None = registration
        tried: str | None = None
        while current is not None and same_wait(current):
            if current.delivered:
                return Delivery(DeliveryOutcome.ALREADY_DELIVERED, current)
            if current.callback_id != tried:
                tried = current.callback_id
                try:
                    sent = self._send(current, snapshot)
                except CallbackClosedError:
                    self.logger.info(
                        "The callback is closed; re-reading the correlation",
                        extra={"ReplicationTaskArn": task_arn, "Round": current.round},
                    )
                else:
                    self.store.mark_delivered(task_arn, current.callback_id)
                    if sent is SendOutcome.FOUND_DELIVERED:
                        return Delivery(DeliveryOutcome.ALREADY_DELIVERED, current)
                    return Delivery(DeliveryOutcome.COMPLETED, current)
            elif self.monotonic() >= deadline:
                if self.store.leave_pending(task_arn, current.callback_id, _finish_record(snapshot)):
                    return Delivery(DeliveryOutcome.LEFT_FOR_NEXT_ROUND, current)
                # The item moved on (a new round, or released) while we waited: follow it.
            else:
                # The execution timed this callback out and is about to register the next one.
                self.sleep(delay)
                delay = min(delay * 2, _MAX_REREAD_DELAY_SECONDS)
            current = self.store.find(task_arn)
        # The execution finished (its safety net saw the task done) and released the task, or another took it.
        return Delivery(DeliveryOutcome.NO_WAITING_EXECUTION, None)

    def _send(self, registration: CallbackRegistration, snapshot: WorkSnapshot) -> SendOutcome:
        # The execution's ARN lets the sender tell "closed by our own earlier, ambiguous attempt" from "closed".
        record = _finish_record(snapshot)
        callback_id, execution_arn = registration.callback_id, registration.execution_arn
        if snapshot.outcome is WorkOutcome.FAILED:
            return self.sender.fail(
                callback_id, REPLICATION_TASK_FAILED, snapshot.failure_reason(), record, execution_arn
            )
        return self.sender.succeed(callback_id, record, execution_arn)


def _finish_record(snapshot: WorkSnapshot) -> str:
    return json.dumps(snapshot.to_finish_record(), separators=(",", ":"))
