"""The local runner's privates the harness relies on (its clock, the SDK waits and threads a fast local run shortens)
still behave as assumed."""

from __future__ import annotations

import contextvars
import inspect
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import aws_durable_execution_sdk_python.execution as sdk_execution
import aws_durable_execution_sdk_python.state as durable_state
import aws_durable_execution_sdk_python_testing.clock as runner_clock
import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration
from aws_durable_execution_sdk_python.waits import WaitForConditionConfig, WaitForConditionDecision

from aws_adapters.telemetry import TELEMETRY_DIRECTORY_VARIABLE, durable_execution_with_telemetry
from local_aws.comparison.telemetry import count_recorded_operations
from local_aws.durable_runner import (
    FAST_BLOCKED_CALLER_WAIT_SECONDS,
    PLUGIN_THREAD_MODULES,
    ExecutionMeasurements,
    fast_local_invocations,
    frozen_real_time,
    local_durable_runner,
)
from local_aws.invocation_threads import ThreadingOnPark
from local_aws.telemetry_records import read_records

SIX_HOURS = 6 * 3600


@durable_execution
def _waits_six_hours(event: Any, context: DurableContext) -> str:
    context.wait(Duration.from_seconds(SIX_HOURS), name="six-hours")
    return "done"


def test_the_virtual_clock_jumps_by_the_skipped_wait_and_nothing_real_waits() -> None:
    with local_durable_runner(_waits_six_hours) as local:
        before = local.clock()
        wall_before = time.monotonic()

        measured = local.run({})

        assert measured.status == "SUCCEEDED", measured.error
        skipped = local.clock() - before
        assert skipped >= timedelta(seconds=SIX_HOURS), (
            f"the runner clock moved {skipped} across a 6 h wait: the testing SDK no longer skips time through "
            "DurableFunctionTestRunner._clock, and the DMS simulation would stop advancing"
        )
        assert time.monotonic() - wall_before < 60, "a skipped wait took real time"


def test_on_the_frozen_clock_simulated_time_moves_only_by_the_skipped_waits() -> None:
    stock_real_now = runner_clock.real_now
    with frozen_real_time(), local_durable_runner(_waits_six_hours) as local:
        arn = local.start({})
        local.wait(arn)
        execution = local.store.load(arn).operations[0]

    assert execution.start_timestamp is not None
    assert execution.end_timestamp is not None
    assert execution.end_timestamp - execution.start_timestamp == timedelta(seconds=SIX_HOURS), (
        "on the frozen clock the execution should last exactly its skipped wait: the runner's clock no longer "
        "reads aws_durable_execution_sdk_python_testing.clock.real_now"
    )
    assert runner_clock.real_now is stock_real_now, "frozen_real_time left the runner's clock frozen"


POLLS = 5
_handler_threads: list[tuple[threading.Thread, str]] = []
_context_seen_at_start: list[str | None] = []
_PROBE: contextvars.ContextVar[str] = contextvars.ContextVar("probe")


_threads_alive: set[threading.Thread] = set()


def _counter(event: Any, context: DurableContext) -> int:
    # Test instrumentation outside any step, on purpose: it records every invocation, replays included.
    _handler_threads.append((threading.current_thread(), threading.current_thread().name))
    _threads_alive.update(threading.enumerate())
    _context_seen_at_start.append(_PROBE.get(None))
    _PROBE.set("set by an earlier invocation")
    context.step(lambda _ctx: "looked", name="look")
    return context.wait_for_condition(
        lambda state, _ctx: state + 1,
        WaitForConditionConfig(
            wait_strategy=lambda state, _attempt: (
                WaitForConditionDecision.stop_polling()
                if state >= POLLS
                else WaitForConditionDecision.continue_waiting(Duration.from_seconds(60))
            ),
            initial_state=0,
        ),
        name="poll",
    )


_polls_a_counter = durable_execution(_counter)
_polls_a_counter_with_telemetry = durable_execution_with_telemetry(_counter)


def _run_counter(fast: bool, handler: Any = _polls_a_counter) -> ExecutionMeasurements:
    _handler_threads.clear()
    _context_seen_at_start.clear()
    _threads_alive.clear()
    with local_durable_runner(handler, fast=fast) as local:
        return local.run({})


def test_fast_local_invocations_finds_every_sdk_private_it_shortens_and_puts_them_back() -> None:
    stock = {
        "_STOP_SIGNAL_POLL_SECONDS": durable_state._STOP_SIGNAL_POLL_SECONDS,
        "_BLOCKED_CALLER_WAIT_SECONDS": durable_state._BLOCKED_CALLER_WAIT_SECONDS,
        "ExecutionState.stop_checkpointing": durable_state.ExecutionState.stop_checkpointing,
        "execution.ThreadPoolExecutor": sdk_execution.ThreadPoolExecutor,
        **{f"{m.__name__}.threading": m.threading for m in PLUGIN_THREAD_MODULES},
    }
    for module in PLUGIN_THREAD_MODULES:
        assert module.threading is threading, f"{module.__name__} no longer starts its threads through 'threading'"
        assert "threading.Thread(" in inspect.getsource(module), (
            f"{module.__name__} no longer builds threading.Thread objects: update PLUGIN_THREAD_MODULES"
        )
    assert stock["execution.ThreadPoolExecutor"] is ThreadPoolExecutor, (
        "the SDK no longer runs each invocation on a concurrent.futures.ThreadPoolExecutor: "
        "update local_aws/durable_runner.py (_invocation_executor_on)"
    )
    assert durable_state._Signal.REFRESH_WAKE is not None, "the checkpoint queue's wake signal is gone"

    with fast_local_invocations():
        assert stock["_STOP_SIGNAL_POLL_SECONDS"] == durable_state._STOP_SIGNAL_POLL_SECONDS, (
            "the checkpoint thread's poll keeps its stock period: the end of an invocation wakes it"
        )
        assert durable_state._BLOCKED_CALLER_WAIT_SECONDS == FAST_BLOCKED_CALLER_WAIT_SECONDS
        assert durable_state.ExecutionState.stop_checkpointing is not stock["ExecutionState.stop_checkpointing"]
        assert sdk_execution.ThreadPoolExecutor is not ThreadPoolExecutor
        for module in PLUGIN_THREAD_MODULES:
            assert isinstance(module.threading, ThreadingOnPark), f"{module.__name__} still starts real threads"

    after = {
        "_STOP_SIGNAL_POLL_SECONDS": durable_state._STOP_SIGNAL_POLL_SECONDS,
        "_BLOCKED_CALLER_WAIT_SECONDS": durable_state._BLOCKED_CALLER_WAIT_SECONDS,
        "ExecutionState.stop_checkpointing": durable_state.ExecutionState.stop_checkpointing,
        "execution.ThreadPoolExecutor": sdk_execution.ThreadPoolExecutor,
        **{f"{m.__name__}.threading": m.threading for m in PLUGIN_THREAD_MODULES},
    }
    assert after == stock, "fast_local_invocations left the SDK patched after the block"


def test_the_fast_runner_measures_exactly_what_the_stock_runner_measures() -> None:
    fast = _run_counter(fast=True)
    stock = _run_counter(fast=False)

    assert fast.status == stock.status == "SUCCEEDED", (fast.error, stock.error)

    def shape(measured: ExecutionMeasurements) -> dict[str, Any]:
        return {
            "result": measured.result,
            "invocations": measured.invocations,
            "history_events": measured.history_events,
            "operations": measured.operations,
            "checkpointed_updates": measured.checkpointed_updates,
            "bytes_written": measured.bytes_written,
        }

    assert shape(fast) == shape(stock), "the fast local runner changed what an execution measurably did"
    assert fast.invocations == POLLS, "one invocation per poll"


def test_fast_invocations_run_on_parked_threads_that_look_fresh_to_the_handler() -> None:
    measured = _run_counter(fast=True)

    assert measured.invocations == POLLS, measured
    assert len(_handler_threads) == measured.invocations
    assert len({thread for thread, _ in _handler_threads}) <= 2, (
        "each invocation started a new handler thread: the park is not used"
    )
    assert {name for _, name in _handler_threads} == {"dex-handler_0"}, "the handler thread lost the SDK's thread name"
    assert _context_seen_at_start == [None] * measured.invocations, (
        "a context variable set by one invocation was visible to the next: a reused thread must start each task "
        "in an empty context, as a new thread does"
    )


def test_with_the_telemetry_plugin_the_fast_runner_measures_the_same_and_starts_no_thread_per_invocation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plugin host's change dispatcher and the exporter's worker run on parked threads: same record, same run."""
    monkeypatch.setenv(TELEMETRY_DIRECTORY_VARIABLE, str(tmp_path))
    started: list[str] = []
    real_start = threading.Thread.start

    def counted_start(thread: threading.Thread) -> None:
        started.append(thread.name)
        real_start(thread)

    monkeypatch.setattr(threading.Thread, "start", counted_start)
    stock = _run_counter(fast=False, handler=_polls_a_counter_with_telemetry)
    stock_starts, started[:] = list(started), []
    fast = _run_counter(fast=True, handler=_polls_a_counter_with_telemetry)
    fast_starts = list(started)

    assert fast.status == stock.status == "SUCCEEDED", (fast.error, stock.error)
    assert (fast.result, fast.invocations, fast.operations) == (stock.result, stock.invocations, stock.operations)
    records = [r for r in read_records(tmp_path) if r.get("status") == "SUCCEEDED"]
    assert len(records) == 2, f"one final telemetry record per run, found {len(records)}"
    assert count_recorded_operations(records[0]) == count_recorded_operations(records[1])
    assert sum(name == "plugin-change" for name in stock_starts) >= POLLS, (
        "the stock SDK no longer starts a plugin-change thread per invocation: this test proves nothing"
    )
    plugin_threads = [n for n in fast_starts if n == "plugin-change" or n.startswith("durable-execution-telemetry")]
    assert not plugin_threads, f"the fast runner started the plugins' own threads: {plugin_threads}"
    # At most one parked thread for each of an invocation's four (handler, batcher, change dispatcher, exporter).
    assert fast_starts.count("parked") <= 4, f"the park grew with every invocation: {fast_starts}"
