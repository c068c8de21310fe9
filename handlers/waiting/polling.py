"""The polling variant's wait: look, start (work_start.py), then wait_for_condition over the work's state.

Operation names, in order: ``inspect-replication-task``, ``start-replication-task``, ``wait-for-replication-task``.
A poll counts the task as finished only when DMS shows a finished run that began after the look (run-bound): a
task that ran before keeps its previous run's stopped state until DMS shows the new run.

Two schedules (``POLL_STRATEGY``): the capped backoff, and the progress-aware one (progress_schedule.py), which
falls back to the backoff, restarted when the percent last changed, whenever there is no progress to go by.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, NotRequired, TypedDict

from aws_durable_execution_sdk_python.config import Duration
from aws_durable_execution_sdk_python.waits import WaitForConditionConfig, WaitForConditionDecision

from waiting.checkpoint_format import CHECKPOINT_JSON
from waiting.domain import Variant, WorkOutcome, WorkRequest, WorkSnapshot, WorkSnapshotRecord
from waiting.errors import MigrationWaitTimedOutError, RetryableError
from waiting.progress_schedule import ProgressHistory, ProgressRecord, progress_delay
from waiting.settings import PollingSettings, PollStrategy
from waiting.work_start import WaitedWork, look_at_work, start_work
from waiting.workflow import WaitOutcome

if TYPE_CHECKING:
    from aws_durable_execution_sdk_python import DurableContext
    from aws_durable_execution_sdk_python.types import WaitForConditionCheckContext

WAIT_NAME = "wait-for-replication-task"
# AWS allows 3,000 durable operations per execution and bills wait_for_condition as 1 + polls: the polls get
# 2,900 and the rest is headroom for the start step's retries. A wait too long for the capped interval to fit
# stretches its interval instead of failing after ten days at the quota.
POLL_BUDGET = 2_900


class PollState(TypedDict):
    """The state checkpointed after every poll (kept small: it is written once per poll)."""

    StartedAt: str
    # The run bound (DMS's time at the look); a finished state of an earlier run is not this wait's end.
    RunBoundAt: NotRequired[str | None]
    Polls: int
    TransientErrors: int
    LastTransientError: str | None
    LastCheckedAt: str | None
    Snapshot: WorkSnapshotRecord | None
    # The progress-aware strategy's history (POLL_STRATEGY=progress only).
    Progress: NotRequired[ProgressRecord]


def poll_interval_seconds(settings: PollingSettings, polls_done: int) -> int:
    """Delay before the next poll: exponential from the initial interval, capped (the cap bounds the lag)."""
    delay = float(settings.initial_interval_seconds)
    # Grow step by step and stop at the cap: rate ** polls overflows a float after about a thousand polls.
    for _ in range(max(polls_done - 1, 0)):
        if delay >= settings.max_interval_seconds:
            break
        delay *= settings.backoff_rate
    return max(1, int(min(delay, settings.max_interval_seconds)))


def backoff_poll_offset(settings: PollingSettings, poll: int) -> int:
    """Seconds from the backoff's first poll to its ``poll``-th (1-based)."""
    offset, delay = 0, float(settings.initial_interval_seconds)
    for done in range(1, poll):
        if delay >= settings.max_interval_seconds or settings.backoff_rate == 1.0:
            return offset + (poll - done) * max(1, int(min(delay, settings.max_interval_seconds)))
        offset += max(1, int(delay))
        delay *= settings.backoff_rate
    return offset


def backoff_interval_after(settings: PollingSettings, elapsed: float) -> int:
    """The interval the backoff, started ``elapsed`` seconds ago, waits after its latest poll."""
    offset, delay = 0, float(settings.initial_interval_seconds)
    while delay < settings.max_interval_seconds and settings.backoff_rate != 1.0 and offset + int(delay) <= elapsed:
        offset += max(1, int(delay))
        delay *= settings.backoff_rate
    return max(1, int(min(delay, settings.max_interval_seconds)))


def _seconds_since(start: datetime, moment: datetime) -> int:
    return int((moment - start).total_seconds())


def next_interval(state: PollState, settings: PollingSettings, waited: int) -> int:
    """The strategy's delay before the next poll, ``waited`` seconds (DMS's clock) into the wait.

    The progress-aware strategy never makes its n-th poll before the backoff's n-th: whatever the progress does,
    it makes at most as many polls as the backoff would have by then.
    """
    if settings.strategy is PollStrategy.BACKOFF:
        return poll_interval_seconds(settings, state["Polls"])
    history = ProgressHistory.from_record(state.get("Progress"))
    snapshot = state["Snapshot"]
    status, percent = (snapshot["Status"], snapshot["FullLoadProgressPercent"]) if snapshot else (None, None)
    delay = progress_delay(history, status, percent, waited, settings)
    if delay is None:
        delay = backoff_interval_after(settings, waited - history.changed_at)
    return max(delay, backoff_poll_offset(settings, state["Polls"] + 1) - waited)


def finished_in_run(state: PollState) -> bool:
    """Whether the last poll saw this run finished (a stale finished state of an earlier run does not count)."""
    record = state["Snapshot"]
    if record is None:
        return False
    snapshot = WorkSnapshot.from_record(record)
    bound = state.get("RunBoundAt")
    return snapshot.outcome is not WorkOutcome.RUNNING and snapshot.belongs_to_run(
        datetime.fromisoformat(bound) if bound else None
    )


def decide_next_poll(state: PollState, settings: PollingSettings) -> WaitForConditionDecision:
    """Stop when the task is done; otherwise wait the next interval, unless the maximum total wait is spent.

    The interval is the capped backoff, stretched only when the rest of the wait would not fit in the polls left
    even at the cap (so the whole wait, however long, stays within POLL_BUDGET polls).
    """
    snapshot = state["Snapshot"]
    if snapshot is not None and finished_in_run(state):
        return WaitForConditionDecision.stop_polling()
    started_at = datetime.fromisoformat(state["StartedAt"])
    checked_at = datetime.fromisoformat(state["LastCheckedAt"]) if state["LastCheckedAt"] else started_at
    waited = (checked_at - started_at).total_seconds()
    if waited >= settings.max_wait_seconds:
        status = snapshot["Status"] if snapshot else "unknown"
        raise MigrationWaitTimedOutError(
            f"gave up after {int(waited)} s and {state['Polls']} polls (MAX_WAIT_SECONDS="
            f"{settings.max_wait_seconds}); the task is still {status!r}"
        )
    remaining_wait = settings.max_wait_seconds - waited
    remaining_polls = POLL_BUDGET - state["Polls"]
    if remaining_polls <= 0:
        raise MigrationWaitTimedOutError(
            f"gave up after {state['Polls']} polls, the most one execution may make ({POLL_BUDGET}); "
            f"the task is still {snapshot['Status'] if snapshot else 'unknown'!r}"
        )
    delay = next_interval(state, settings, int(waited))
    if math.ceil(remaining_wait / settings.max_interval_seconds) > remaining_polls:
        # Even at the cap the rest of the wait would need more polls than are left: spread what is left evenly.
        delay = max(delay, math.ceil(remaining_wait / remaining_polls))
    delay = min(delay, max(1, math.ceil(remaining_wait)))
    return WaitForConditionDecision.continue_waiting(Duration.from_seconds(delay))


@dataclass(frozen=True)
class PollingWaiter:
    """Looks at the work, starts it (reconciling any ambiguous attempt), then polls it until this run is done."""

    work: WaitedWork
    settings: PollingSettings
    variant: Variant = Variant.POLLING

    def start_and_wait(self, context: DurableContext, request: WorkRequest) -> WaitOutcome:
        execution_arn = context.execution_context.durable_execution_arn
        before = look_at_work(context, self.work, request, execution_arn)
        started = start_work(context, self.work, request, execution_arn, before)

        def check(state: PollState, check_context: WaitForConditionCheckContext) -> PollState:
            return self._poll_once(state, check_context, request, execution_arn)

        initial: PollState = {
            "StartedAt": started.started_at.isoformat(),
            "RunBoundAt": started.run_bound_at.isoformat() if started.run_bound_at else None,
            "Polls": 0,
            "TransientErrors": 0,
            "LastTransientError": None,
            "LastCheckedAt": None,
            "Snapshot": None,
        }
        final_state: PollState = context.wait_for_condition(
            check,
            WaitForConditionConfig(
                wait_strategy=lambda state, _attempt: decide_next_poll(state, self.settings),
                initial_state=initial,
                serdes=CHECKPOINT_JSON,
            ),
            name=WAIT_NAME,
        )
        snapshot = final_state["Snapshot"]
        if snapshot is None:  # pragma: no cover - the strategy only stops on a terminal snapshot
            raise MigrationWaitTimedOutError("polling stopped without a DMS answer")
        return WaitOutcome(
            final=WorkSnapshot.from_record(snapshot),
            started_at=started.started_at,
            figures={"Polls": final_state["Polls"], "TransientErrors": final_state["TransientErrors"]},
        )

    def _poll_once(
        self,
        state: PollState,
        check_context: WaitForConditionCheckContext,
        request: WorkRequest,
        execution_arn: str,
    ) -> PollState:
        # A transient DMS fault must not fail the wait (an exception in a check fails it for good): it is
        # recorded in the state and the next poll tries again. Terminal errors propagate and fail fast.
        task_arn = request.key
        polls = state["Polls"] + 1
        try:
            snapshot = self.work.describe(request, execution_arn, check_context)
        except RetryableError as err:
            check_context.logger.warning(
                "Transient DMS error while polling", extra={"ReplicationTaskArn": task_arn, "error": str(err)}
            )
            return {
                **state,
                "Polls": polls,
                "TransientErrors": state["TransientErrors"] + 1,
                "LastTransientError": str(err)[:500],
                # Keeps the total-wait bound moving through a long outage of transient errors.
                "LastCheckedAt": err.observed_at.isoformat() if err.observed_at else state["LastCheckedAt"],
            }
        check_context.logger.info(
            "Polled replication task",
            extra={
                "ReplicationTaskArn": task_arn,
                "Status": snapshot.status,
                "FullLoadProgressPercent": snapshot.full_load_progress_percent,
                "Poll": polls,
            },
        )
        polled: PollState = {
            **state,
            "Polls": polls,
            "LastCheckedAt": snapshot.observed_at.isoformat(),
            "Snapshot": snapshot.to_record(),
        }
        if self.settings.strategy is PollStrategy.PROGRESS:
            at = _seconds_since(datetime.fromisoformat(state["StartedAt"]), snapshot.observed_at)
            history = ProgressHistory.from_record(state.get("Progress"))
            polled["Progress"] = history.observe(snapshot.status, snapshot.full_load_progress_percent, at).to_record()
        return polled
