"""Benchmark the callback variant on the local runner: its cost does not grow with the migration, and the completer
keeps up with a burst of events.

python scripts/benchmark_callback.py                  # 15 min vs 72 h, then 1,000 events for 1,000 executions
python scripts/benchmark_callback.py --burst 200 --concurrency 8

Everything is real but AWS: the callback handler on the SDK's local runner, DMS simulated on the runner's clock,
the correlation table in moto, and every event handed to the real completer (``dms_events_handler.handler``),
whose boto3 lambda client completes callbacks through the local callback endpoint.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aws_durable_execution_sdk_python.lambda_service import OperationStatus, OperationType

from local_aws.callback_environment import CallbackEnvironment, callback_environment
from local_aws.comparison.measure import quiet_sdk_logging
from local_aws.comparison.operations import count_durable_operations
from local_aws.cpu_affinity import runs_on_one_cpu
from local_aws.dms_simulation import TaskPlan
from local_aws.simulated_timeline import CallbackTimeline
from scripts.cli import CommandLineParser
from scripts.durations import format_duration, parse_durations

QUIET = {"POWERTOOLS_LOG_LEVEL": "CRITICAL"}  # the report carries every outcome; a log line would only interleave
DEFAULT_DURATIONS = "15m,72h"
BURST_TASK = TaskPlan(duration=timedelta(hours=1))
REAL_TIMEOUT_SECONDS = 600


class BenchmarkError(RuntimeError):
    """A run did not do what the callback variant promises, so its numbers would mean nothing."""


@dataclass(frozen=True)
class DurationRow:
    duration: timedelta
    invocations: int
    durable_operations: int
    checkpointed_updates: int
    safety_net_checks: int
    completer_outcomes: str
    wall_seconds: float


@dataclass(frozen=True)
class BurstResult:
    executions: int
    concurrency: int
    deliver_seconds: float
    all_done_seconds: float
    outcomes: dict[str, int]
    callbacks_accepted: int
    callbacks_refused: int
    executions_succeeded: int
    executions_with_one_completed_callback: int
    duplicate_outcomes: dict[str, int]
    duplicate_callbacks_accepted: int
    correlations_left: int

    @property
    def events_per_second(self) -> float:
        return self.executions / self.deliver_seconds

    @property
    def exactly_once(self) -> bool:
        return (
            self.outcomes == {"completed": self.executions}
            and self.callbacks_accepted == self.executions
            and self.executions_succeeded == self.executions
            and self.executions_with_one_completed_callback == self.executions
            and self.duplicate_callbacks_accepted == 0
            and self.correlations_left == 0
        )


def run_duration(duration: timedelta) -> DurationRow:
    """One migration of ``duration``, its DMS event delivered through the completer when the task stops."""
    outcomes: Counter[str] = Counter()
    with quiet_sdk_logging(), callback_environment(QUIET) as env:
        task_arn = env.dms.add_task("benchmark", TaskPlan(duration=duration))

        def deliver(event: dict[str, Any]) -> None:
            outcomes[env.deliver(event)["Outcome"]] += 1

        started = time.perf_counter()
        execution_arn = env.runner.start({"ReplicationTaskArn": task_arn})
        CallbackTimeline(env.runner, env.dms, task_arn, deliver).drive(execution_arn, REAL_TIMEOUT_SECONDS)
        measured = env.runner.wait(execution_arn, timeout=REAL_TIMEOUT_SECONDS)
        wall = time.perf_counter() - started
        execution = env.runner.store.load(execution_arn)
    if measured.status != "SUCCEEDED":
        raise BenchmarkError(f"{format_duration(duration)}: the execution ended {measured.status}: {measured.error}")
    return DurationRow(
        duration=duration,
        invocations=measured.invocations,
        durable_operations=count_durable_operations(execution).total,
        checkpointed_updates=measured.checkpointed_updates,
        safety_net_checks=measured.result["SafetyNetChecks"],
        completer_outcomes=", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items())),
        wall_seconds=wall,
    )


def _completed_callbacks(env: CallbackEnvironment, execution_arn: str) -> int:
    operations = env.runner.store.load(execution_arn).operations
    return sum(
        1 for op in operations if op.operation_type is OperationType.CALLBACK and op.status is OperationStatus.SUCCEEDED
    )


def run_burst(executions: int, concurrency: int) -> BurstResult:
    """``executions`` executions wait; their tasks all stop; every event reaches the completer at once."""
    with quiet_sdk_logging(), callback_environment(QUIET) as env:
        tasks = [env.dms.add_task(f"burst-{index:05d}", BURST_TASK) for index in range(executions)]
        execution_arns = [
            env.runner.start({"ReplicationTaskArn": arn}, execution_timeout=REAL_TIMEOUT_SECONDS, name=f"burst-{i}")
            for i, arn in enumerate(tasks)
        ]
        for execution_arn in execution_arns:
            env.wait_for_callback(execution_arn, timeout=REAL_TIMEOUT_SECONDS)
        # Every task ends; DMS publishes one event per task, all at once.
        env.runner.advance_clock_to(env.runner.clock() + BURST_TASK.duration + timedelta(minutes=1))
        events = [env.dms.terminal_event(arn) for arn in tasks]

        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            started = time.perf_counter()
            reports = list(pool.map(env.deliver, events))
            deliver_seconds = time.perf_counter() - started
            results = [env.runner.wait(arn, timeout=REAL_TIMEOUT_SECONDS) for arn in execution_arns]
            all_done_seconds = time.perf_counter() - started
            accepted_before_duplicates = env.endpoint.accepted["succeed"]
            duplicates = list(pool.map(env.deliver, events))

        return BurstResult(
            executions=executions,
            concurrency=concurrency,
            deliver_seconds=deliver_seconds,
            all_done_seconds=all_done_seconds,
            outcomes=dict(Counter(report["Outcome"] for report in reports)),
            callbacks_accepted=accepted_before_duplicates,
            callbacks_refused=env.endpoint.refused["succeed"],
            executions_succeeded=sum(1 for result in results if result.status == "SUCCEEDED"),
            executions_with_one_completed_callback=sum(
                1 for arn in execution_arns if _completed_callbacks(env, arn) == 1
            ),
            duplicate_outcomes=dict(Counter(report["Outcome"] for report in duplicates)),
            duplicate_callbacks_accepted=env.endpoint.accepted["succeed"] - accepted_before_duplicates,
            correlations_left=sum(1 for arn in tasks if env.registration(arn) is not None),
        )


def render_durations(rows: Sequence[DurationRow]) -> str:
    lines = [
        "| migration | invocations | durable operations | checkpointed updates | safety-net checks | completer "
        "| wall (s) |",
        "|---|---:|---:|---:|---:|---|---:|",
    ]
    lines += [
        f"| {format_duration(r.duration)} | {r.invocations} | {r.durable_operations} | {r.checkpointed_updates} | "
        f"{r.safety_net_checks} | {r.completer_outcomes} | {r.wall_seconds:.2f} |"
        for r in rows
    ]
    return "\n".join(lines)


def render_burst(burst: BurstResult) -> str:
    outcomes = ", ".join(f"{n} {o}" for o, n in sorted(burst.outcomes.items()))
    duplicates = ", ".join(f"{n} {o}" for o, n in sorted(burst.duplicate_outcomes.items()))
    return "\n".join(
        [
            "| burst | value |",
            "|---|---:|",
            f"| waiting executions, one event each | {burst.executions:,} |",
            f"| completer calls in parallel | {burst.concurrency} |",
            f"| events handled per second | {burst.events_per_second:,.0f} |",
            f"| all events handled (s) | {burst.deliver_seconds:.2f} |",
            f"| all executions finished (s) | {burst.all_done_seconds:.2f} |",
            f"| completer outcomes | {outcomes} |",
            f"| callbacks accepted / refused | {burst.callbacks_accepted:,} / {burst.callbacks_refused:,} |",
            f"| executions SUCCEEDED, each with exactly one completed callback | "
            f"{burst.executions_succeeded:,}, {burst.executions_with_one_completed_callback:,} |",
            f"| the same {burst.executions:,} events again | {duplicates}; "
            f"{burst.duplicate_callbacks_accepted} callbacks accepted |",
            f"| correlation items left | {burst.correlations_left} |",
        ]
    )


@runs_on_one_cpu
def main(argv: Sequence[str] | None = None) -> int:
    parser = CommandLineParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--durations", default=DEFAULT_DURATIONS, help="migrations to compare (e.g. 15m,6h,72h)")
    parser.add_argument("--burst", type=int, default=1000, help="waiting executions in the burst (0: skip it)")
    parser.add_argument("--concurrency", type=int, default=16, help="completer invocations in parallel")
    args = parser.parse_args(argv)
    try:
        durations = parse_durations(args.durations)
    except ValueError as err:
        parser.error(str(err))
    if args.burst < 0:
        parser.error(f"--burst must be 0 or more, got {args.burst}")
    if args.concurrency < 1:
        parser.error(f"--concurrency must be at least 1, got {args.concurrency}")
    try:
        rows = [run_duration(duration) for duration in durations]
        print(render_durations(rows))
        if len({(r.invocations, r.durable_operations) for r in rows}) != 1:
            print("FAILED: invocations or durable operations depend on the migration's duration", file=sys.stderr)
            return 1
        if args.burst:
            burst = run_burst(args.burst, args.concurrency)
            print()
            print(render_burst(burst))
            if not burst.exactly_once:
                print("FAILED: the burst did not complete every execution exactly once", file=sys.stderr)
                return 1
    except BenchmarkError as err:
        print(f"FAILED: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
