"""The callback variant's wait: a DMS event completes the execution's callback; a safety net covers lost events.

Each round is a ``wait_for_callback`` named ``wait-for-task-event-<round>``. Round 0's submitter claims the task in
the correlation table and only then starts it, so even a task that finishes at once has someone listening. With no
event before the round's timeout, step ``check-replication-task-<round>`` looks at DMS once: a finished task ends
the wait; a running one starts the next round, whose submitter re-registers atomically (only if the item still
holds this execution's previous round). The names and their order are a stored contract.

What is waited on sits behind a small port, ``WaitedWork``: how round 0 registers and starts the work, and how the
safety net reads its state. ``DmsReplicationWork`` is the DMS callback variant's (claim, then StartReplicationTask;
DescribeReplicationTasks); the third-party job variant brings its own (``third_party_waiting.ThirdPartyJobWork``).
Everything else, the rounds, the re-registration, the release and the result, is the same code for both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from aws_durable_execution_sdk_python.config import Duration, StepConfig, WaitForCallbackConfig
from aws_durable_execution_sdk_python.exceptions import (
    CallbackExternalError,
    CallbackTimeoutError,
    DurableOperationError,
    StepError,
)

from migration_wait.correlation_store import CorrelationStore
from migration_wait.dms_gateway import DmsGateway
from migration_wait.domain import (
    MigrationRequest,
    TaskFinishRecord,
    TaskOutcome,
    TaskSnapshot,
    Variant,
    parse_task_finish_record,
)
from migration_wait.durable_policies import retry_transient_errors
from migration_wait.errors import (
    InvalidInputError,
    MigrationWaitError,
    MigrationWaitTimedOutError,
    WaitFailedFromOutsideError,
)
from migration_wait.settings import CallbackSettings
from migration_wait.workflow import WaitOutcome, start_replication_task

if TYPE_CHECKING:
    from aws_durable_execution_sdk_python import DurableContext
    from aws_durable_execution_sdk_python.types import OperationContext, StepContext, WaitForCallbackContext

WAIT_ROUND_NAME = "wait-for-task-event-{round}"
CHECK_ROUND_NAME = "check-replication-task-{round}"
RELEASE_STEP_NAME = "release-task-correlation"
# An item outlives its round by a day: a slow safety-net check never finds its own item expired and taken.
CORRELATION_GRACE = timedelta(days=1)
_RETRY_TRANSIENT = StepConfig(retry_strategy=retry_transient_errors)


def round_timeout_seconds(settings: CallbackSettings, waited_seconds: float) -> int:
    """The safety-net period for the next round, shortened so the rounds never exceed the maximum total wait."""
    remaining = settings.max_wait_seconds - waited_seconds
    return max(1, min(settings.callback_timeout_seconds, math.ceil(remaining)))


class WaitedWork(Protocol):
    """The port: what a callback wait waits on, seen from the waiter."""

    def register_and_start(
        self,
        request: MigrationRequest,
        callback_id: str,
        execution_arn: str,
        lifetime: timedelta,
        context: WaitForCallbackContext,
    ) -> None:
        """Round 0's submitter: make the callback reachable (claim the task first), then start the work."""
        ...

    def describe(self, request: MigrationRequest, execution_arn: str, context: OperationContext) -> TaskSnapshot:
        """The safety net: the work's state as its owner reports it now."""
        ...


@dataclass(frozen=True)
class DmsReplicationWork:
    """The DMS callback variant's work: a replication task, claimed in the correlation table, then started."""

    store: CorrelationStore
    gateway: DmsGateway

    def register_and_start(
        self,
        request: MigrationRequest,
        callback_id: str,
        execution_arn: str,
        lifetime: timedelta,
        context: WaitForCallbackContext,
    ) -> None:
        task_arn = request.replication_task_arn
        # The claim comes first: a task that finishes at once must find someone listening.
        self.store.register(task_arn, callback_id, execution_arn, lifetime)
        context.logger.info("Registered the callback; starting the task", extra=_round_log(task_arn, 0))
        start_replication_task(self.gateway, request)
        context.logger.info("Started replication task", extra=_round_log(task_arn, 0))

    def describe(self, request: MigrationRequest, execution_arn: str, context: OperationContext) -> TaskSnapshot:
        return self.gateway.describe_task(request.replication_task_arn)


def _round_log(task_arn: str, round_number: int) -> dict[str, object]:
    return {"ReplicationTaskArn": task_arn, "Round": round_number}


@dataclass(frozen=True)
class CallbackWaiter:
    """Registers a callback for the work, starts it, and waits for its completer (or the safety net) to finish."""

    store: CorrelationStore
    work: WaitedWork
    settings: CallbackSettings
    variant: Variant = Variant.CALLBACK

    def start_and_wait(self, context: DurableContext, request: MigrationRequest) -> WaitOutcome:
        execution_arn = context.execution_context.durable_execution_arn
        try:
            final, checks = self._wait_rounds(context, request, execution_arn)
        except (DurableOperationError, MigrationWaitError):
            # Whatever failed, the task must not stay claimed by an execution that no longer waits.
            self._release(context, request.replication_task_arn, execution_arn)
            raise
        self._release(context, request.replication_task_arn, execution_arn)
        return WaitOutcome(
            final=final,
            # DMS reports StartDate for every task that ran; without it the wait's start is unknown.
            started_at=final.start_date or final.observed_at,
            figures={"SafetyNetChecks": checks},
        )

    def _wait_rounds(
        self, context: DurableContext, request: MigrationRequest, execution_arn: str
    ) -> tuple[TaskSnapshot, int]:
        task_arn = request.replication_task_arn
        waited = 0.0
        checks = 0
        last: TaskSnapshot | None = None
        for round_number in range(self.settings.max_rounds):
            timeout = round_timeout_seconds(self.settings, waited)
            final = self._wait_for_event(context, request, execution_arn, round_number, timeout)
            if final is None:
                final = self._check_task(context, request, execution_arn, round_number)
                checks += 1
            if final.outcome is not TaskOutcome.RUNNING:
                return final, checks
            last = final
            # DMS's own clock measures the wait, as in the polling variant; the rounds' length is the fallback.
            waited = (final.observed_at - final.start_date).total_seconds() if final.start_date else waited + timeout
            if waited >= self.settings.max_wait_seconds:
                break
        status = last.status if last else "unknown"
        context.logger.error(
            "Gave up waiting for the replication task",
            extra={"ReplicationTaskArn": task_arn, "Status": status, "SafetyNetChecks": checks},
        )
        raise MigrationWaitTimedOutError(
            f"gave up after {int(waited)} s and {checks} safety-net checks (MAX_WAIT_SECONDS="
            f"{self.settings.max_wait_seconds}, CALLBACK_TIMEOUT_SECONDS={self.settings.callback_timeout_seconds}); "
            f"the task is still {status!r}"
        )

    def _wait_for_event(
        self,
        context: DurableContext,
        request: MigrationRequest,
        execution_arn: str,
        round_number: int,
        timeout: int,
    ) -> TaskSnapshot | None:
        """One round: register the callback (and, in round 0, start the work), then wait. None: check it."""
        task_arn = request.replication_task_arn
        lifetime = timedelta(seconds=timeout) + CORRELATION_GRACE
        log = {"ReplicationTaskArn": task_arn, "Round": round_number}

        def register_and_start(callback_id: str, submit_context: WaitForCallbackContext) -> None:
            self.work.register_and_start(request, callback_id, execution_arn, lifetime, submit_context)

        def reregister(callback_id: str, submit_context: WaitForCallbackContext) -> None:
            self.store.reregister(task_arn, callback_id, execution_arn, round_number, lifetime)
            submit_context.logger.info("Re-registered the callback for the next round", extra=log)

        try:
            raw = context.wait_for_callback(
                register_and_start if round_number == 0 else reregister,
                name=WAIT_ROUND_NAME.format(round=round_number),
                config=WaitForCallbackConfig(
                    timeout=Duration.from_seconds(timeout), retry_strategy=retry_transient_errors
                ),
            )
        except CallbackTimeoutError:
            context.logger.warning("No callback within the safety-net period; checking the task itself", extra=log)
            return None
        except CallbackExternalError as err:
            return self._failure_sent(context, task_arn, err)
        try:
            snapshot = parse_task_finish_record(raw)
        except InvalidInputError as err:
            context.logger.warning(
                "Unreadable callback result; checking the task itself", extra={**log, "reason": str(err)}
            )
            return None
        if snapshot.outcome is TaskOutcome.RUNNING:
            context.logger.warning("Callback result says still running; checking the task itself", extra=log)
            return None
        return snapshot

    def _failure_sent(self, context: DurableContext, task_arn: str, err: CallbackExternalError) -> TaskSnapshot:
        """A failed callback: the completer's carries DMS's record; anyone else's fails the wait with its message."""
        try:
            snapshot = parse_task_finish_record(err.data)
        except InvalidInputError:
            snapshot = None
        if snapshot is not None and snapshot.outcome is TaskOutcome.FAILED:
            return snapshot
        context.logger.error("The callback was failed from outside", extra={"ReplicationTaskArn": task_arn})
        raise WaitFailedFromOutsideError(f"{task_arn}: the wait was failed from outside: {err.message}")

    def _check_task(
        self, context: DurableContext, request: MigrationRequest, execution_arn: str, round_number: int
    ) -> TaskSnapshot:
        task_arn = request.replication_task_arn

        def check(step_context: StepContext) -> TaskFinishRecord:
            snapshot = self.work.describe(request, execution_arn, step_context)
            step_context.logger.info(
                "Safety-net check",
                extra={
                    "ReplicationTaskArn": task_arn,
                    "Round": round_number,
                    "Status": snapshot.status,
                    "FullLoadProgressPercent": snapshot.full_load_progress_percent,
                },
            )
            return snapshot.to_finish_record()

        record: TaskFinishRecord = context.step(
            check, name=CHECK_ROUND_NAME.format(round=round_number), config=_RETRY_TRANSIENT
        )
        return TaskSnapshot.from_finish_record(record)

    def _release(self, context: DurableContext, task_arn: str, execution_arn: str) -> None:
        def release(step_context: StepContext) -> bool:
            released = self.store.release(task_arn, execution_arn)
            step_context.logger.info(
                "Released the task's correlation", extra={"ReplicationTaskArn": task_arn, "Released": released}
            )
            return released

        try:
            context.step(release, name=RELEASE_STEP_NAME, config=_RETRY_TRANSIENT)
        except StepError as err:
            # The wait's outcome stands; the item's TTL removes it later.
            context.logger.warning(
                "Could not release the task's correlation", extra={"ReplicationTaskArn": task_arn, "error": str(err)}
            )
