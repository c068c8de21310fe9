"""The SDK's local durable runner, with time skipping, its virtual clock, and the measurements we read from it.

The testing runner (1.4.0) keeps its clock, its executor and its callback timers private, and the SDK (3.0.0) its
checkpoint batching waits and invocation threads. This module is the single place that reaches in
(``runner_virtual_clock``, ``advance_virtual_clock``, ``invocation_in_flight``, ``fire_callback_timeout``,
``execution_history_event_count``, ``retry_failed_invocations_after``, ``fast_local_invocations``,
``frozen_real_time``);
``tests/test_runner_contract.py``, ``tests/test_runner_timeline_contract.py`` and ``tests/test_fault_injection.py``
fail loudly if an upgrade moves any of it.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aws_durable_execution_sdk_python.execution as durable_execution
import aws_durable_execution_sdk_python.plugin as durable_plugin
import aws_durable_execution_sdk_python.state as durable_state
import aws_durable_execution_sdk_python_telemetry_exporter._export_scheduler as telemetry_export
import aws_durable_execution_sdk_python_testing.clock as runner_clock
from aws_durable_execution_sdk_python.lambda_service import OperationStatus
from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner
from aws_durable_execution_sdk_python_testing.stores.memory import InMemoryExecutionStore
from aws_durable_execution_sdk_python_testing.worker.status import InvocationState

from local_aws.invocation_threads import ReusedThreadsExecutor, ThreadingOnPark, ThreadPark

# The SDK's checkpoint thread polls its queue every 0.1 s (``_STOP_SIGNAL_POLL_SECONDS``) and used to notice an
# invocation's end only at its next poll, which dominated a local run of many short invocations. The end now wakes
# it at once (``_stop_checkpointing_and_wake``), so the poll keeps its stock period: lowering it to 1 ms as well
# made no measurable difference once the wake was there, and is one SDK private less to change.
# How long the checkpoint thread keeps a blocked caller's batch open for sibling branch threads to join it
# (0.001 s by default): every synchronous checkpoint pays it. With no wait the batch goes at once; a sibling's
# update then travels in the next batch. Which updates are sent, and in what order, is unchanged: only the number
# of checkpoint calls can differ, and that number is not a result (batching already makes it vary run to run).
FAST_BLOCKED_CALLER_WAIT_SECONDS = 0.0


class RunnerContractError(RuntimeError):
    """The installed testing runner no longer exposes what this harness relies on."""


def runner_virtual_clock(runner: DurableFunctionTestRunner) -> Callable[[], datetime]:
    """The runner's clock: real time plus every wait it has skipped (timezone-aware UTC)."""
    clock = getattr(runner, "_clock", None)
    now = getattr(clock, "now", None)
    if not callable(now):
        raise RunnerContractError(
            "DurableFunctionTestRunner has no '_clock.now()': the pinned testing SDK changed; "
            "update runner_virtual_clock"
        )
    probe = now()
    if not isinstance(probe, datetime) or probe.tzinfo is None:
        raise RunnerContractError(f"runner clock returned {probe!r}, expected an aware datetime")
    return now  # type: ignore[no-any-return]


def _private(owner: object, name: str, what: str) -> Any:
    value = getattr(owner, name, None)
    if value is None:
        raise RunnerContractError(
            f"{type(owner).__name__} has no {name!r} ({what}): the pinned testing SDK changed; "
            "update local_aws/durable_runner.py"
        )
    return value


def advance_virtual_clock(runner: DurableFunctionTestRunner, to: datetime) -> None:
    """Move the runner's clock forward to ``to`` (never backwards), as if the time in between had passed.

    The clock's own ``arm`` does this when the runner skips a wait: it adds the gap to the time skipped so far.
    """
    clock = _private(runner, "_clock", "the virtual clock")
    arm = getattr(clock, "arm", None)
    if not callable(arm):
        raise RunnerContractError("the runner clock has no arm(wake): the pinned testing SDK changed")
    arm(to)


def invocation_in_flight(runner: DurableFunctionTestRunner, execution_arn: str) -> bool:
    """Whether a handler invocation of this execution is running right now (the executor's invocation gate)."""
    executor = _private(runner, "_executor", "the executor")
    gate = getattr(executor, "_invocation_gate", None)
    if not callable(gate):
        raise RunnerContractError("Executor has no _invocation_gate(arn): the pinned testing SDK changed")
    return gate(execution_arn) is InvocationState.INVOKING


def fire_callback_timeout(runner: DurableFunctionTestRunner, execution_arn: str, callback_id: str) -> None:
    """Time the callback out now, exactly as the runner's own timer would, and cancel that real-clock timer.

    The runner arms callback timeouts on the real clock (skip_time does not cover them); a simulated timeline fires
    them itself at the right simulated moment instead of waiting hours.
    """
    executor = _private(runner, "_executor", "the executor")
    timers = getattr(executor, "_callback_timeouts", None)
    on_timeout = getattr(executor, "_on_callback_timeout", None)
    if not isinstance(timers, dict) or not callable(on_timeout):
        raise RunnerContractError(
            "Executor has no _callback_timeouts / _on_callback_timeout: the pinned testing SDK changed"
        )
    timer = timers.pop(callback_id, None)
    if timer is None:
        raise RunnerContractError(f"no callback timeout timer is armed for callback {callback_id[:40]}...")
    timer.cancel()
    on_timeout(execution_arn, callback_id)


def retry_failed_invocations_after(runner: DurableFunctionTestRunner, seconds: float) -> None:
    """Re-invoke a failed invocation (an exception from the invoker, e.g. ``faults.LambdaInvocationCrashed``) after
    ``seconds`` of real time instead of the executor's ``RETRY_BACKOFF_SECONDS`` (5 s; time skipping does not cover
    it). The retry budget, ``MAX_CONSECUTIVE_FAILED_ATTEMPTS``, is unchanged."""
    executor = _private(runner, "_executor", "the executor")
    if not isinstance(getattr(type(executor), "RETRY_BACKOFF_SECONDS", None), int | float):
        raise RunnerContractError("Executor has no RETRY_BACKOFF_SECONDS: the pinned testing SDK changed")
    if seconds < 0:
        raise ValueError(f"a retry backoff cannot be negative, got {seconds}")
    # An instance attribute shadows the class's for this runner only; _retry_invocation reads it per retry.
    executor.RETRY_BACKOFF_SECONDS = seconds


def stop_execution(runner: DurableFunctionTestRunner, execution_arn: str) -> None:
    """Stop an execution as StopDurableExecution does (the testing runner serves it only over its web API)."""
    executor = _private(runner, "_executor", "the executor")
    stop = getattr(executor, "stop_execution", None)
    if not callable(stop):
        raise RunnerContractError("Executor has no stop_execution(arn): the pinned testing SDK changed")
    stop(execution_arn)


def execution_history_event_count(runner: DurableFunctionTestRunner, execution_arn: str) -> int:
    """Every event of the execution's history; the runner's own ``get_execution_history`` returns only page one."""
    executor = _private(runner, "_executor", "the executor")
    count = 0
    marker: str | None = None
    while True:
        # The executor rebuilds the whole history for every page: ask for it in as few pages as possible.
        page = executor.get_execution_history(execution_arn, marker=marker, max_items=1_000_000)
        count += len(page.events)
        marker = page.next_marker
        if not marker:
            return count


def _sdk_state_private(name: str, what: str) -> Any:
    if not hasattr(durable_state, name):
        raise RunnerContractError(
            f"aws_durable_execution_sdk_python.state.{name} ({what}) is gone: the pinned SDK changed; "
            "update local_aws/durable_runner.py"
        )
    return getattr(durable_state, name)


def _stop_checkpointing_and_wake() -> Callable[[Any], None]:
    """``ExecutionState.stop_checkpointing`` that also wakes the checkpoint thread, instead of leaving it to notice
    the stop at its next poll (``_STOP_SIGNAL_POLL_SECONDS`` later): the invocation ends as soon as its work is done.

    The wake is the SDK's own ``_Signal.REFRESH_WAKE``, the item the thread already takes to mean "look again": it
    re-reads the stop flag and returns. Nothing is sent that would not have been; a stopped state schedules no
    refresh, so the signal's bookkeeping (``_refresh_wake_enqueued``) is never read again.
    """
    state_class = _sdk_state_private("ExecutionState", "the per-invocation state")
    stop = getattr(state_class, "stop_checkpointing", None)
    wake = getattr(_sdk_state_private("_Signal", "the checkpoint queue's control items"), "REFRESH_WAKE", None)
    if not callable(stop) or wake is None:
        raise RunnerContractError(
            "ExecutionState.stop_checkpointing or _Signal.REFRESH_WAKE is gone: the pinned SDK changed; "
            "update local_aws/durable_runner.py"
        )

    def stop_and_wake(state: Any) -> None:
        stop(state)
        queue = getattr(state, "_checkpoint_queue", None)
        if queue is None:
            raise RunnerContractError("ExecutionState has no _checkpoint_queue: the pinned SDK changed")
        queue.put(wake)

    return stop_and_wake


# The name durable_execution's wrapper builds each invocation's two threads with, looked up in its module per call.
_INVOCATION_EXECUTOR = "ThreadPoolExecutor"


def _invocation_executor_on(park: ThreadPark) -> Callable[..., ReusedThreadsExecutor]:
    """What ``durable_execution``'s wrapper builds its per-invocation ``ThreadPoolExecutor`` with, on parked threads.

    The wrapper looks the name up in its module on every invocation; only the two arguments it passes are accepted,
    so an SDK that starts passing others (an initializer) fails here instead of being half served.
    """
    current = getattr(durable_execution, _INVOCATION_EXECUTOR, None)
    if current is not ThreadPoolExecutor and not getattr(current, "reuses_threads", False):
        raise RunnerContractError(
            "aws_durable_execution_sdk_python.execution no longer builds its invocation threads with "
            f"concurrent.futures.ThreadPoolExecutor (found {current!r}): the pinned SDK changed; "
            "update local_aws/durable_runner.py"
        )

    def invocation_executor(max_workers: int | None = None, thread_name_prefix: str = "") -> ReusedThreadsExecutor:
        if max_workers is None:
            raise RunnerContractError("the SDK's invocation executor no longer names its max_workers")
        return ReusedThreadsExecutor(park, max_workers, thread_name_prefix)

    invocation_executor.reuses_threads = True  # type: ignore[attr-defined]
    return invocation_executor


# The modules that start a short-lived thread of their own in every invocation, through their ``threading`` global:
# the SDK's plugin host (the plugin-change dispatcher) and the telemetry exporter (its export worker).
PLUGIN_THREAD_MODULES = (durable_plugin, telemetry_export)


def _threading_of(module: Any) -> Any:
    current = getattr(module, "threading", None)
    if current is not threading and not isinstance(current, ThreadingOnPark):
        raise RunnerContractError(
            f"{module.__name__} no longer starts its threads through a 'threading' global (found {current!r}): "
            "the pinned SDK changed; update local_aws/durable_runner.py (PLUGIN_THREAD_MODULES)"
        )
    return current


@contextmanager
def fast_local_invocations() -> Iterator[None]:
    """Take the SDK's idle waits and thread starts out of each invocation for a local run (never in handler code).

    Two waits, neither of which decides anything: the checkpoint thread's wait for the end of the invocation (woken
    at once instead) and the time it holds a blocked caller's batch open. And
    the four threads each invocation starts and joins (the handler's, the checkpoint batcher's, the plugin-change
    dispatcher's, the telemetry export worker's) are borrowed from a park of idle threads instead
    (``local_aws.invocation_threads``): starting them was a fifth of a short invocation's time.
    """
    state_class = _sdk_state_private("ExecutionState", "the per-invocation state")
    constants = {"_BLOCKED_CALLER_WAIT_SECONDS": FAST_BLOCKED_CALLER_WAIT_SECONDS}
    previous = {name: _sdk_state_private(name, "a checkpoint-batching wait") for name in constants}
    original_stop = state_class.stop_checkpointing
    park = ThreadPark()
    invocation_executor = _invocation_executor_on(park)
    original_executor = getattr(durable_execution, _INVOCATION_EXECUTOR)
    plugin_threading = {module: _threading_of(module) for module in PLUGIN_THREAD_MODULES}
    for name, value in constants.items():
        setattr(durable_state, name, value)
    state_class.stop_checkpointing = _stop_checkpointing_and_wake()
    setattr(durable_execution, _INVOCATION_EXECUTOR, invocation_executor)
    for module in plugin_threading:
        module.threading = ThreadingOnPark(park)  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for module, original in plugin_threading.items():
            module.threading = original  # type: ignore[attr-defined]
        setattr(durable_execution, _INVOCATION_EXECUTOR, original_executor)
        park.close()
        state_class.stop_checkpointing = original_stop
        for name, value in previous.items():
            setattr(durable_state, name, value)


# Set (to "1") in a process, and in the worker processes it starts, to run every local runner on a frozen clock.
FROZEN_CLOCK_VARIABLE = "LOCAL_AWS_FROZEN_CLOCK"
_FROZEN_REAL_TIME = datetime(2026, 1, 1, tzinfo=UTC)


@contextmanager
def frozen_real_time() -> Iterator[None]:
    """The runner's virtual clock without its real-time part: it moves only by the waits the runner skips.

    The runner's clock is real time plus every skipped wait, so the real time a run takes leaks into its simulated
    timeline (execution times, detection lags, by a few milliseconds per invocation): two runs never agree exactly,
    and a faster harness shifts them. Frozen, two runs of the same code agree to the byte, which is how a change to
    the harness is shown to change no result. Timestamps inside one invocation are then equal.
    """
    real_now = getattr(runner_clock, "real_now", None)
    if not callable(real_now):
        raise RunnerContractError(
            "aws_durable_execution_sdk_python_testing.clock.real_now is gone: the pinned testing SDK changed; "
            "update local_aws/durable_runner.py"
        )
    runner_clock.real_now = lambda: _FROZEN_REAL_TIME
    try:
        yield
    finally:
        runner_clock.real_now = real_now


@dataclass(frozen=True)
class ExecutionMeasurements:
    """What one execution did, read from the runner's history and store."""

    status: str
    result: Any
    error: dict[str, Any] | None
    invocations: int
    history_events: int
    operations: int
    checkpointed_updates: int
    bytes_written: int


class LocalDurableRunner:
    """A DurableFunctionTestRunner with time skipping, an inspectable store and the virtual clock."""

    def __init__(self, handler: Callable[..., Any], poll_interval: float = 0.01) -> None:
        self.store = InMemoryExecutionStore()
        self.runner = DurableFunctionTestRunner(handler, skip_time=True, poll_interval=poll_interval, store=self.store)
        self.clock = runner_virtual_clock(self.runner)

    def close(self) -> None:
        self.runner.close()  # type: ignore[no-untyped-call]

    def start(self, payload: Any, execution_timeout: int = 3600, name: str = "execution") -> str:
        return self.runner.run_async(
            input=json.dumps(payload), execution_timeout=execution_timeout, execution_name=name
        )

    def wait(self, execution_arn: str, timeout: int = 120) -> ExecutionMeasurements:
        self.runner.wait_for_result(execution_arn, timeout=timeout)
        return self.measure(execution_arn)

    def run(self, payload: Any, timeout: int = 120) -> ExecutionMeasurements:
        return self.wait(self.start(payload), timeout=timeout)

    def advance_clock_to(self, moment: datetime) -> None:
        advance_virtual_clock(self.runner, moment)

    def invocation_in_flight(self, execution_arn: str) -> bool:
        return invocation_in_flight(self.runner, execution_arn)

    def invocation_pending(self, execution_arn: str) -> bool:
        """An invocation runs now, or one is about to (a crash's retry, a step's): the execution is not idle.

        The runner re-invokes a failed invocation after a real-clock backoff; until that retry ran cleanly the
        stored execution counts its consecutive failed attempts. A timeline must not skip simulated time past it.
        """
        if self.invocation_in_flight(execution_arn):
            return True
        execution = self.store.load(execution_arn)
        attempts = getattr(execution, "consecutive_failed_invocation_attempts", None)
        if not isinstance(attempts, int):
            raise RunnerContractError("Execution has no consecutive_failed_invocation_attempts: the pinned SDK changed")
        # A step waiting for its retry (PENDING) is re-invoked by the runner itself, time skipped: not idle either.
        return attempts > 0 or any(op.status is OperationStatus.PENDING for op in execution.operations)

    def fire_callback_timeout(self, execution_arn: str, callback_id: str) -> None:
        fire_callback_timeout(self.runner, execution_arn, callback_id)

    def stop(self, execution_arn: str) -> None:
        stop_execution(self.runner, execution_arn)

    def retry_failed_invocations_after(self, seconds: float) -> None:
        retry_failed_invocations_after(self.runner, seconds)

    def measure(self, execution_arn: str) -> ExecutionMeasurements:
        execution = self.store.load(execution_arn)
        outcome = execution.result
        status = execution.close_status.value if execution.close_status is not None else "RUNNING"
        error = None
        if outcome is not None and outcome.error is not None:
            error = {"ErrorType": outcome.error.type, "ErrorMessage": outcome.error.message}
        result = json.loads(outcome.result) if outcome is not None and outcome.result else None
        return ExecutionMeasurements(
            status=status,
            result=result,
            error=error,
            # One InvocationCompleted per invocation; the execution keeps them all (history is paginated).
            invocations=len(execution.invocation_completions),
            history_events=execution_history_event_count(self.runner, execution_arn),
            operations=len(execution.operations),
            checkpointed_updates=len(execution.updates),
            bytes_written=sum(_update_payload_bytes(u) for u in execution.updates),
        )


def _update_payload_bytes(update: Any) -> int:
    size = len((update.payload or "").encode())
    if update.error is not None:
        size += len(json.dumps(update.error.to_dict()).encode())
    return size


@contextmanager
def local_durable_runner(handler: Callable[..., Any], fast: bool = True) -> Iterator[LocalDurableRunner]:
    """``fast=False`` keeps the SDK's stock invocation costs (to measure what the shortcuts save); the clock is
    frozen (``frozen_real_time``) when ``LOCAL_AWS_FROZEN_CLOCK=1``."""
    with ExitStack() as stack:
        if fast:
            stack.enter_context(fast_local_invocations())
        if os.environ.get(FROZEN_CLOCK_VARIABLE) == "1":
            stack.enter_context(frozen_real_time())
        local = LocalDurableRunner(handler)
        try:
            yield local
        finally:
            local.close()
