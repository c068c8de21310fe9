"""Drives a callback execution along a migration's simulated timeline: the DMS event, or the safety net, on time.

The local runner skips waits and poll delays, but arms callback timeouts on the real clock: a 6-hour safety net
would take six real hours. ``CallbackTimeline`` plays the timeline instead. Whenever the execution is idle and
waiting on a callback, it looks at the two things that can happen next on the simulated clock:

- the DMS terminal event, published when the simulated task stops (unless the scenario loses it), which it hands
  to ``deliver`` (the real completer handler, in the comparison); for a DMS Serverless replication (its
  replication-config ARN), the ``DMS Replication State Change`` event of its latest run's end;
- the callback's own timeout, at the callback's start plus its configured timeout (the safety net).

It moves the runner's virtual clock to whichever comes first and makes it happen: delivers the event, or fires the
timeout exactly as the runner's timer would (cancelling that real-clock timer). The DMS simulation reads the same
clock, so a safety-net check sees the task exactly as far along as it would be. Nothing here touches the handlers;
the runner internals it needs live in ``local_aws.durable_runner``, behind a contract test.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aws_durable_execution_sdk_python.lambda_service import OperationAction, OperationStatus, OperationType

from local_aws.dms_simulation import SimulatedDms
from local_aws.durable_runner import LocalDurableRunner

EventSink = Callable[[dict[str, Any]], None]


class TimelineError(RuntimeError):
    """The execution is stuck, or waits on something the timeline cannot make happen."""


@dataclass(frozen=True)
class TimelineStep:
    """One thing the timeline made happen, at a simulated time."""

    at: datetime
    kind: str  # "event-delivered" or "callback-timed-out"
    callback_name: str | None


@dataclass
class TimelineLog:
    steps: list[TimelineStep] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for step in self.steps if step.kind == kind)


@dataclass
class CallbackTimeline:
    """Plays one task's timeline for one execution; ``deliver=None`` loses the DMS event."""

    runner: LocalDurableRunner
    dms: SimulatedDms
    task_arn: str
    deliver: EventSink | None
    delivery_delay: timedelta = timedelta(0)
    idle_poll_seconds: float = 0.001
    # The runner releases an invocation's gate a moment before it records a failed invocation for retry: the
    # execution must look idle, with nothing new checkpointed, for this long before simulated time moves on.
    settle_seconds: float = 0.005

    def drive(self, execution_arn: str, real_timeout_seconds: float = 120.0) -> TimelineLog:
        """Return when the execution is complete; raise TimelineError if it stalls for ``real_timeout_seconds``."""
        log = TimelineLog()
        delivered = False
        deadline = time.monotonic() + real_timeout_seconds
        idle: tuple[int, float] | None = None  # (checkpointed updates, since when) while the execution looks idle
        while True:
            execution = self.runner.store.load(execution_arn)
            if execution.is_complete:
                return log
            if time.monotonic() > deadline:
                raise TimelineError(
                    f"execution {execution_arn} made no progress within {real_timeout_seconds} s of real time "
                    f"(timeline so far: {[(s.kind, s.at.isoformat()) for s in log.steps]})"
                )
            if self.runner.invocation_in_flight(execution_arn):
                # Cheap, and the common case: look at the execution's callbacks only once it may be idle (reading
                # them walks every update, and polling that while the handler runs slowed the handler down).
                idle = None
                time.sleep(self.idle_poll_seconds)
                continue
            waiting = _waiting_callbacks(execution)
            if not waiting or self.runner.invocation_pending(execution_arn):
                idle = None
                time.sleep(self.idle_poll_seconds)
                continue
            updates, now = len(execution.updates), time.monotonic()
            if idle is None or idle[0] != updates:
                idle = (updates, now)
            if now - idle[1] < self.settle_seconds:
                time.sleep(self.idle_poll_seconds)
                continue
            idle = None
            if len(waiting) > 1:
                raise TimelineError(f"the execution waits on {len(waiting)} callbacks at once; the timeline plays one")
            callback = waiting[0]
            deliver = None if delivered else self.deliver
            event_at = self._event_time() if deliver is not None else None
            timeout_at = callback.times_out_at
            if deliver is not None and event_at is not None and (timeout_at is None or event_at < timeout_at):
                self.runner.advance_clock_to(event_at)
                deliver(self._terminal_event())
                delivered = True
                log.steps.append(TimelineStep(event_at, "event-delivered", callback.name))
            elif timeout_at is not None:
                self.runner.advance_clock_to(timeout_at)
                self.runner.fire_callback_timeout(execution_arn, callback.callback_id)
                log.steps.append(TimelineStep(timeout_at, "callback-timed-out", callback.name))
            else:
                raise TimelineError(f"callback {callback.name!r} has no timeout and no event will complete it")

    @property
    def _waits_on_a_replication(self) -> bool:
        return is_replication_config_arn(self.task_arn)

    def _terminal_event(self) -> dict[str, Any]:
        if self._waits_on_a_replication:
            return self.dms.terminal_replication_event(self.task_arn)
        return self.dms.terminal_event(self.task_arn)

    def _event_time(self) -> datetime | None:
        work = self.dms.replication(self.task_arn) if self._waits_on_a_replication else self.dms.task(self.task_arn)
        finishes_at = work.finishes_at
        return finishes_at + self.delivery_delay if finishes_at is not None else None


def is_replication_config_arn(arn: str) -> bool:
    """Whether ``arn`` names a DMS Serverless replication config (the simulation's other works are tasks)."""
    return ":replication-config:" in arn


def waiting_callbacks(execution: Any) -> list[_WaitingCallback]:
    """The callbacks ``execution`` (the runner's Execution) waits on, each with the moment it times out."""
    return _waiting_callbacks(execution)


@dataclass(frozen=True)
class _WaitingCallback:
    callback_id: str
    name: str | None
    times_out_at: datetime | None


def _waiting_callbacks(execution: Any) -> list[_WaitingCallback]:
    """Callbacks created and still open, with the simulated moment each times out (None: no timeout)."""
    timeouts: dict[str, int] = {}
    for update in execution.updates:
        if (
            update.operation_type is OperationType.CALLBACK
            and update.action is OperationAction.START
            and update.callback_options is not None
        ):
            timeouts[update.operation_id] = update.callback_options.timeout_seconds
    waiting = []
    for op in execution.operations:
        if op.operation_type is not OperationType.CALLBACK or op.status is not OperationStatus.STARTED:
            continue
        if op.callback_details is None or not op.callback_details.callback_id or op.start_timestamp is None:
            continue
        seconds = timeouts.get(op.operation_id, 0)
        times_out_at = op.start_timestamp + timedelta(seconds=seconds) if seconds > 0 else None
        waiting.append(_WaitingCallback(op.callback_details.callback_id, op.name, times_out_at))
    return waiting
