"""Where a local run's time goes, per handler invocation: the runner, the SDK and our code, telemetry, the DMS call.

Measured, not sampled, with no profiler to install: wall time around the Lambda handler the runner invokes (the
SDK's ``durable_execution`` wrapper, everything the function does in one invocation) and around every DMS call the
handler makes (botocore's serialising and parsing plus the simulated DMS). The telemetry plugin's share is the
difference to the same run with a handler built without it (an ablation made for this table only). Each is run a few
times, alternating, and the median of each is reported. The run is the time from the start request to the
execution's result; reading its history afterwards is reported apart. Invocations are sequential, so the parts add up
to the run's wall time:

- **the local runner**: the run's wall time outside the handler (the testing SDK's executor and scheduler, the
  thread hand-offs between them);
- **the durable SDK and our code**: the handler's time without the DMS call and the telemetry plugin (replaying
  the checkpointed operations, the checkpoint calls, answered by the testing SDK's checkpoint API while the handler
  waits, the plugin host, the hand-offs between the invocation's threads, the waiting core);
- **the telemetry plugin** (the SDK team's DurableExecutionTelemetry exporter, on every deployed function);
- **the DMS call**: one DescribeReplicationTasks per poll.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.client import BaseClient

DMS_SERVICE_NAME = "dms"
# The parts of ``TimeBreakdown.parts``, in order, as report.json-style keys.
PART_KEYS = ("runner", "sdk_and_our_code", "telemetry_plugin", "dms_call")
# The one method every boto3 client operation goes through (botocore's, not in its type stubs).
_API_CALL = "_make_api_call"


@dataclass
class Stopwatch:
    """Total seconds spent in the calls it timed, and how many."""

    calls: int = 0
    seconds: float = 0.0

    def time(self, call: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.calls += 1

        return timed


@contextmanager
def timed_dms_calls(stopwatch: Stopwatch) -> Iterator[None]:
    """Time every DMS API call any boto3 client makes in this block (its whole botocore path)."""
    original = getattr(BaseClient, _API_CALL)

    def make_api_call(client: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name != DMS_SERVICE_NAME:
            return original(client, operation_name, api_params)
        return stopwatch.time(original)(client, operation_name, api_params)

    setattr(BaseClient, _API_CALL, make_api_call)
    try:
        yield
    finally:
        setattr(BaseClient, _API_CALL, original)


@dataclass(frozen=True)
class TimeBreakdown:
    """One run's wall time split per invocation (milliseconds), with the ablation run's wall time."""

    invocations: int
    run_seconds: float
    handler_seconds: float
    dms_seconds: float
    run_without_telemetry_seconds: float
    history_read_seconds: float = 0.0
    repeats: int = 1  # the median of this many runs (and ablation runs) is reported

    @property
    def telemetry_seconds(self) -> float:
        return max(0.0, self.run_seconds - self.run_without_telemetry_seconds)

    def parts(self) -> list[tuple[str, float]]:
        """(part, seconds) in the order of the table; they sum to the run's wall time."""
        runner = self.run_seconds - self.handler_seconds
        sdk_and_ours = max(0.0, self.handler_seconds - self.dms_seconds - self.telemetry_seconds)
        return [
            ("the local runner outside the handler (testing SDK executor, scheduler, thread hand-offs)", runner),
            (
                "the durable SDK in the handler (replay, checkpoint calls, plugin host, its threads) and our code",
                sdk_and_ours,
            ),
            ("the telemetry plugin (by ablation: the same run without it)", self.telemetry_seconds),
            ("the DMS call (botocore serialising and parsing, the simulated DMS)", self.dms_seconds),
        ]

    def to_json(self) -> dict[str, Any]:
        per = 1000 / self.invocations
        return {
            "invocations": self.invocations,
            "run_seconds": round(self.run_seconds, 3),
            "repeats": self.repeats,
            "history_read_seconds": round(self.history_read_seconds, 3),
            "parts": [
                {"key": key, "part": part, "seconds": round(seconds, 3), "ms_per_invocation": round(seconds * per, 3)}
                for key, (part, seconds) in zip(PART_KEYS, self.parts(), strict=True)
            ],
        }

    def render(self) -> str:
        per = 1000 / self.invocations
        lines = [
            "| where the time went | ms per invocation | share |",
            "|---|---:|---:|",
        ]
        for part, seconds in self.parts():
            lines.append(f"| {part} | {seconds * per:.2f} | {100 * seconds / self.run_seconds:.0f} % |")
        lines.append(
            f"| **the run: {self.invocations} invocations in {self.run_seconds:.2f} s** | "
            f"**{self.run_seconds * per:.2f}** | 100 % |"
        )
        lines += [""]
        if self.repeats > 1:
            lines.append(f"The median of {self.repeats} runs, and of {self.repeats} runs without the telemetry plugin.")
        lines += [
            f"After the run, reading the execution's history (to count its events) took "
            f"{self.history_read_seconds:.2f} s more, not counted above.",
        ]
        return "\n".join(lines)
