"""EventBridge's part in the stand-in: every DMS task run that reaches its final state is published once and routed to
the completer (DmsEventsFunction), invoked asynchronously, as the stack's ``ReplicationTaskEnded`` rule does.

With time skipping, the clock also jumps ahead when nothing else would move it: when every running execution waits on
a callback and no invocation is in flight, the clock moves to whichever comes first, the next task's end (its event
is then routed) or a callback's timeout (the safety net, fired as the runner's own timer would). Polling executions
need no help: the runner skips their waits itself.

Also: an execution the runner owes an invocation and forgot (a testing-runner race, ``sdk_internals``) is invoked,
as Lambda would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from aws_durable_execution_sdk_python.lambda_service import OperationStatus, OperationType
from aws_durable_execution_sdk_python_testing.runner import WebRunner

from local_aws.dms_simulation import SimulatedDms
from local_aws.durable_runner import fire_callback_timeout
from local_aws.simulated_timeline import waiting_callbacks
from local_aws.standin import sdk_internals

_TICK_SECONDS = 0.05
# How long nothing must have run before the clock jumps: longer than the gap between a skipped wait and its
# invocation on the runner's scheduler.
_IDLE_SECONDS = 0.3
# How long an execution must sit owed an invocation before the stand-in makes it (the runner's own hand-off from a
# completed wait to its invocation takes milliseconds).
_FORGOTTEN_SECONDS = 1.0


class EventRouter:
    """A background thread: routes finished runs' events; with ``skip_time``, moves the clock over idle stretches."""

    def __init__(
        self,
        dms: SimulatedDms,
        runner: WebRunner,
        deliver: Callable[[dict[str, Any]], None],
        *,
        skip_time: bool,
        idle_for: Callable[[], float],
    ) -> None:
        self.dms = dms
        self.runner = runner
        self.deliver = deliver
        self.skip_time = skip_time
        self.idle_for = idle_for
        self.routed: list[str] = []
        self.resumed: list[str] = []  # executions invoked because the runner forgot them
        self._forgotten: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="standin-eventbridge", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(_TICK_SECONDS):
            self.route_finished_runs()
            self.resume_forgotten_executions()
            if self.skip_time and self.idle_for() >= _IDLE_SECONDS:
                self.skip_idle_stretch()

    def resume_forgotten_executions(self) -> None:
        """Invoke an execution the runner owes an invocation and forgot (``sdk_internals.forgotten_resumption``),
        once it has sat so for ``_FORGOTTEN_SECONDS``: long past any hand-off the runner makes by itself."""
        now = time.monotonic()
        still: dict[str, float] = {}
        for execution in sdk_internals.executions(self.runner):
            arn = execution.durable_execution_arn
            if not sdk_internals.forgotten_resumption(self.runner, execution):
                continue
            since = self._forgotten.get(arn, now)
            if now - since >= _FORGOTTEN_SECONDS:
                self.resumed.append(arn)
                sdk_internals.resume(self.runner, arn)
            else:
                still[arn] = since
        self._forgotten = still

    def route_finished_runs(self) -> None:
        for arn in self.dms.task_arns():
            for event in self.dms.finished_run_events(arn):
                if event["id"] not in self.routed:
                    self.routed.append(event["id"])
                    self.deliver(event)

    def skip_idle_stretch(self) -> None:
        running = [e for e in sdk_internals.executions(self.runner) if not e.is_complete]
        waits = [(e.durable_execution_arn, waiting_callbacks(e)) for e in running]
        if not running or any(not callbacks for _, callbacks in waits) or any(map(_invocation_due, running)):
            return
        now = sdk_internals.clock(self.runner)()
        ends = [t for t in (self._run_end(arn) for arn in self.dms.task_arns()) if t is not None and t > now]
        timeouts = [(c.times_out_at, arn, c.callback_id) for arn, cs in waits for c in cs if c.times_out_at]
        next_end = min(ends, default=None)
        next_timeout = min(timeouts, default=None)
        if next_timeout is not None and (next_end is None or next_timeout[0] < next_end):
            at, arn, callback_id = next_timeout
            sdk_internals.advance_clock(self.runner, at)
            fire_callback_timeout(cast(Any, self.runner), arn, callback_id)
        elif next_end is not None:
            sdk_internals.advance_clock(self.runner, next_end)
        time.sleep(_TICK_SECONDS)

    def _run_end(self, arn: str) -> datetime | None:
        return self.dms.task(arn).finishes_at


def _invocation_due(execution: Any) -> bool:
    """An invocation is about to run (a step waiting for its retry, a crashed invocation about to be retried, a step
    started and not ended): simulated time must not jump past it, or a safety-net timeout fires before the start."""
    if getattr(execution, "consecutive_failed_invocation_attempts", 0):
        return True
    return any(
        op.status is OperationStatus.PENDING
        or (op.operation_type is OperationType.STEP and op.status is OperationStatus.STARTED)
        for op in execution.operations
    )
