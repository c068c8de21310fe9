"""The callback variants' wait: a completer finishes the execution's callback; a safety net covers lost events.

The operations, in order (their names and order are a stored contract; see the README on rolling out an upgrade):

- the look (``inspect-replication-task`` for DMS, none for the third-party job): the work before it is touched; its
  time is the run bound (``work_start.py``);
- round 0: the callback ``wait-for-task-event-0`` (its id checkpointed at once), the step ``claim-replication-task``
  (the conditional claim in the correlation table, carrying the run bound, taken over only from an execution Lambda
  says no longer runs), then ``start-replication-task`` (at most once per attempt, reconciling every retry), then the
  wait for the callback's result;
- with no result before the round's timeout, ``check-replication-task-<n>`` looks at the work once: a finished run
  ends the wait; a running one starts round n+1: the callback ``wait-for-task-event-<n+1>`` and the step
  ``reregister-callback-<n+1>`` (atomic: only if the item still holds this execution's previous round). If a
  completer found the previous callback closed and left the finished state on the item, the re-registration returns
  it and the wait ends at once;
- ``release-task-correlation`` at the end, whatever the outcome.

Every finished state, from a callback, the item or the safety net, counts only if its run began after the run bound
(``WorkSnapshot.belongs_to_run``): an earlier run's late event never finishes this wait.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol, TypedDict

from aws_durable_execution_sdk_python.config import CallbackConfig, Duration
from aws_durable_execution_sdk_python.exceptions import (
    CallbackExternalError,
    CallbackTimeoutError,
    DurableOperationError,
    StepError,
)

from aws_adapters.correlation_store import CallbackRegistration, CorrelationStore
from waiting.domain import (
    Variant,
    WorkFinishRecord,
    WorkOutcome,
    WorkRequest,
    WorkSnapshot,
    parse_finish_record,
)
from waiting.durable_policies import RETRY_TRANSIENT_STEP
from waiting.errors import (
    InvalidInputError,
    MigrationWaitError,
    MigrationWaitTimedOutError,
    TaskAlreadyAwaitedError,
    WaitFailedFromOutsideError,
)
from waiting.settings import CallbackSettings
from waiting.work_start import StartedWork, WaitedWork, look_at_work, start_work
from waiting.workflow import WaitOutcome

if TYPE_CHECKING:
    from aws_durable_execution_sdk_python import DurableContext
    from aws_durable_execution_sdk_python.types import StepContext

WAIT_ROUND_NAME = "wait-for-task-event-{round}"
CLAIM_STEP_NAME = "claim-replication-task"
REREGISTER_STEP_NAME = "reregister-callback-{round}"
CHECK_ROUND_NAME = "check-replication-task-{round}"
RELEASE_STEP_NAME = "release-task-correlation"
# An item outlives its round by a day: a slow safety-net check never finds its own item expired and taken.
CORRELATION_GRACE = timedelta(days=1)


def round_timeout_seconds(settings: CallbackSettings, waited_seconds: float) -> int:
    """The safety-net period for the next round, shortened so the rounds never exceed the maximum total wait."""
    remaining = settings.max_wait_seconds - waited_seconds
    return max(1, min(settings.callback_timeout_seconds, math.ceil(remaining)))


class ExecutionLiveness(Protocol):
    """Whether a durable execution still runs (Lambda's GetDurableExecution); used to take over a dead claim."""

    def is_running(self, execution_arn: str) -> bool: ...


class ClaimRecord(TypedDict):
    """What the claim step checkpoints."""

    TookOverFrom: str | None


class ReregisterRecord(TypedDict):
    """What a re-registration step checkpoints: a finished state a completer left on the item, if any."""

    PendingFinish: str | None


def _log(task_arn: str, round_number: int) -> dict[str, object]:
    return {"ReplicationTaskArn": task_arn, "Round": round_number}


@dataclass(frozen=True)
class CallbackWaiter:
    """Claims the work, starts it, and waits for its completer (or the safety net) to report this run finished."""

    store: CorrelationStore
    work: WaitedWork
    settings: CallbackSettings
    variant: Variant = Variant.CALLBACK
    # Without it a claim held by a dead execution is refused until its item expires (the round timeout plus a day).
    liveness: ExecutionLiveness | None = None

    def start_and_wait(self, context: DurableContext, request: WorkRequest) -> WaitOutcome:
        execution_arn = context.execution_context.durable_execution_arn
        try:
            final, checks, started = self._wait_rounds(context, request, execution_arn)
        except (DurableOperationError, MigrationWaitError):
            # Whatever failed, the task must not stay claimed by an execution that no longer waits.
            self._release(context, request.key, execution_arn)
            raise
        self._release(context, request.key, execution_arn)
        return WaitOutcome(
            final=final,
            # DMS's StartDate for this run when it reports one; otherwise when the start step saw it start.
            started_at=final.start_date or started.started_at,
            figures={"SafetyNetChecks": checks},
        )

    def _wait_rounds(
        self, context: DurableContext, request: WorkRequest, execution_arn: str
    ) -> tuple[WorkSnapshot, int, StartedWork]:
        task_arn = request.key
        before = look_at_work(context, self.work, request, execution_arn)
        bound = before.observed_at if before is not None else None
        waited = 0.0
        checks = 0
        last: WorkSnapshot | None = None
        started: StartedWork | None = None
        for round_number in range(self.settings.max_rounds):
            timeout = round_timeout_seconds(self.settings, waited)
            lifetime = timedelta(seconds=timeout) + CORRELATION_GRACE
            callback = context.create_callback(
                name=WAIT_ROUND_NAME.format(round=round_number),
                config=CallbackConfig(timeout=Duration.from_seconds(timeout)),
            )
            final: WorkSnapshot | None = None
            if started is None:
                self._claim(
                    context,
                    task_arn,
                    callback_id=callback.callback_id,
                    execution_arn=execution_arn,
                    lifetime=lifetime,
                    bound=bound,
                )
                started = start_work(context, self.work, request, execution_arn, before)
            else:
                final = self._reregister(
                    context,
                    task_arn,
                    callback_id=callback.callback_id,
                    execution_arn=execution_arn,
                    round_number=round_number,
                    lifetime=lifetime,
                    bound=bound,
                )
            if final is None:
                final = self._await_result(context, callback.result, task_arn, round_number, bound)
            if final is None:
                final = self._check_task(context, request, execution_arn, round_number, bound)
                checks += 1
            if final.outcome is not WorkOutcome.RUNNING:
                return final, checks, started
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

    def _claim(
        self,
        context: DurableContext,
        task_arn: str,
        *,
        callback_id: str,
        execution_arn: str,
        lifetime: timedelta,
        bound: datetime | None,
    ) -> None:
        """The claim comes before the start: a task that finishes at once must find someone listening."""

        def claim(step_context: StepContext) -> ClaimRecord:
            try:
                self.store.register(task_arn, callback_id, execution_arn, lifetime, bound)
                took_over_from = None
            except TaskAlreadyAwaitedError as err:
                holder = err.holder
                if not isinstance(holder, CallbackRegistration) or not self._no_longer_runs(holder, execution_arn):
                    raise
                # The holder ended (stopped, timed out, failed) without releasing: take its claim, atomically.
                self.store.take_over(
                    task_arn,
                    holder,
                    callback_id=callback_id,
                    execution_arn=execution_arn,
                    lifetime=lifetime,
                    run_bound_at=bound,
                )
                took_over_from = holder.execution_arn
                step_context.logger.warning(
                    "Took over the claim of an execution that no longer runs",
                    extra={"ReplicationTaskArn": task_arn, "PreviousExecutionArn": holder.execution_arn},
                )
            step_context.logger.info("Claimed the task; starting it", extra=_log(task_arn, 0))
            return {"TookOverFrom": took_over_from}

        context.step(claim, name=CLAIM_STEP_NAME, config=RETRY_TRANSIENT_STEP)

    def _no_longer_runs(self, holder: CallbackRegistration, execution_arn: str) -> bool:
        if self.liveness is None or holder.execution_arn == execution_arn:
            return False
        return not self.liveness.is_running(holder.execution_arn)

    def _reregister(
        self,
        context: DurableContext,
        task_arn: str,
        *,
        callback_id: str,
        execution_arn: str,
        round_number: int,
        lifetime: timedelta,
        bound: datetime | None,
    ) -> WorkSnapshot | None:
        """Point the item at this round's callback; a finished state left on it ends the wait at once."""
        log = _log(task_arn, round_number)

        def reregister(step_context: StepContext) -> ReregisterRecord:
            registration = self.store.reregister(task_arn, callback_id, execution_arn, round_number, lifetime)
            step_context.logger.info("Re-registered the callback for the next round", extra=log)
            return {"PendingFinish": registration.pending_finish}

        record: ReregisterRecord = context.step(
            reregister, name=REREGISTER_STEP_NAME.format(round=round_number), config=RETRY_TRANSIENT_STEP
        )
        pending = record["PendingFinish"]
        if pending is None:
            return None
        context.logger.info("A completer left the finished state on the correlation; using it", extra=log)
        return self._finished_in_run(context, pending, log, bound)

    def _await_result(
        self,
        context: DurableContext,
        result: Callable[[], object],
        task_arn: str,
        round_number: int,
        bound: datetime | None,
    ) -> WorkSnapshot | None:
        """Wait for the round's callback. None: no usable finished state arrived; check the work itself."""
        log = _log(task_arn, round_number)
        try:
            raw = result()
        except CallbackTimeoutError:
            context.logger.warning("No callback within the safety-net period; checking the task itself", extra=log)
            return None
        except CallbackExternalError as err:
            return self._failure_sent(context, task_arn, err, bound)
        return self._finished_in_run(context, raw, log, bound)

    def _finished_in_run(
        self, context: DurableContext, raw: object, log: dict[str, object], bound: datetime | None
    ) -> WorkSnapshot | None:
        try:
            snapshot = parse_finish_record(raw)
        except InvalidInputError as err:
            context.logger.warning(
                "Unreadable finished state; checking the task itself", extra={**log, "reason": str(err)}
            )
            return None
        if snapshot.outcome is WorkOutcome.RUNNING:
            context.logger.warning("The finished state says still running; checking the task itself", extra=log)
            return None
        if not snapshot.belongs_to_run(bound):
            context.logger.warning(
                "The finished state is an earlier run's; checking the task itself",
                extra={**log, "StartDate": snapshot.start_date.isoformat() if snapshot.start_date else None},
            )
            return None
        return snapshot

    def _failure_sent(
        self, context: DurableContext, task_arn: str, err: CallbackExternalError, bound: datetime | None
    ) -> WorkSnapshot | None:
        """A failed callback: the completer's carries the work's record; anyone else's fails the wait."""
        try:
            snapshot = parse_finish_record(err.data)
        except InvalidInputError:
            snapshot = None
        if snapshot is not None and snapshot.outcome is WorkOutcome.FAILED:
            if snapshot.belongs_to_run(bound):
                return snapshot
            context.logger.warning(
                "The failure sent is an earlier run's; checking the task itself",
                extra={"ReplicationTaskArn": task_arn},
            )
            return None
        context.logger.error("The callback was failed from outside", extra={"ReplicationTaskArn": task_arn})
        raise WaitFailedFromOutsideError(f"{task_arn}: the wait was failed from outside: {err.message}")

    def _check_task(
        self,
        context: DurableContext,
        request: WorkRequest,
        execution_arn: str,
        round_number: int,
        bound: datetime | None,
    ) -> WorkSnapshot:
        task_arn = request.key

        def check(step_context: StepContext) -> WorkFinishRecord:
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

        record: WorkFinishRecord = context.step(
            check, name=CHECK_ROUND_NAME.format(round=round_number), config=RETRY_TRANSIENT_STEP
        )
        snapshot = WorkSnapshot.from_finish_record(record)
        if snapshot.outcome is not WorkOutcome.RUNNING and not snapshot.belongs_to_run(bound):
            # DMS still shows an earlier run's end: this run has not begun to show; wait another round.
            # Its dates are the earlier run's: they must not count towards this wait's length either.
            return replace(snapshot, outcome=WorkOutcome.RUNNING, start_date=None, stop_date=None)
        return snapshot

    def _release(self, context: DurableContext, task_arn: str, execution_arn: str) -> None:
        def release(step_context: StepContext) -> bool:
            released = self.store.release(task_arn, execution_arn)
            step_context.logger.info(
                "Released the task's correlation", extra={"ReplicationTaskArn": task_arn, "Released": released}
            )
            return released

        try:
            context.step(release, name=RELEASE_STEP_NAME, config=RETRY_TRANSIENT_STEP)
        except StepError as err:
            # The wait's outcome stands; the item's TTL removes it later.
            context.logger.warning(
                "Could not release the task's correlation", extra={"ReplicationTaskArn": task_arn, "error": str(err)}
            )
