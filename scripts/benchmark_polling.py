"""Benchmark the polling variant on the local runner: polls, invocations, detection lag and wall time.

python scripts/benchmark_polling.py            # the default strategy over 15m..72h, and a 24 h migration
                                               # polled every minute (1,440 polls)
python scripts/benchmark_polling.py --stock    # the same 24 h run with the SDK's stock 0.1 s invocation tail
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import polling_handler
from local_aws.comparison.variants import FIXED_ONE_MINUTE
from local_aws.dms_simulation import TaskPlan
from local_aws.environment import local_environment
from scripts.cli import CommandLineParser
from scripts.durations import format_duration, parse_durations

DEFAULT_DURATIONS = "15m,1h,6h,24h,72h"


@dataclass(frozen=True)
class BenchmarkRow:
    label: str
    duration: timedelta
    polls: int
    invocations: int
    detection_lag_seconds: float
    wall_seconds: float


def run_one(label: str, duration: timedelta, settings: dict[str, str], stock: bool = False) -> BenchmarkRow:
    quiet = {"POWERTOOLS_LOG_LEVEL": "WARNING", **settings}
    with local_environment(polling_handler.handler, quiet, fast=not stock) as env:
        arn = env.dms.add_task("benchmark", TaskPlan(duration=duration))
        started = time.perf_counter()
        measured = env.runner.run({"ReplicationTaskArn": arn}, timeout=900)
        wall = time.perf_counter() - started
    if measured.status != "SUCCEEDED":
        raise RuntimeError(f"{label} {format_duration(duration)} did not succeed: {measured.error}")
    return BenchmarkRow(
        label=label,
        duration=duration,
        polls=measured.result["Polls"],
        invocations=measured.invocations,
        detection_lag_seconds=measured.result["DetectionLagSeconds"],
        wall_seconds=wall,
    )


def render(rows: Sequence[BenchmarkRow]) -> str:
    lines = [
        "| strategy | migration | polls | invocations | detection lag (s) | wall (s) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r.label} | {format_duration(r.duration)} | {r.polls} | {r.invocations} | "
        f"{r.detection_lag_seconds:.0f} | {r.wall_seconds:.2f} |"
        for r in rows
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = CommandLineParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--durations", default=DEFAULT_DURATIONS, help="default-strategy migrations (e.g. 15m,1h,6h)")
    parser.add_argument("--stock", action="store_true", help="also run the 24 h / 1 min case on the stock runner")
    args = parser.parse_args(argv)
    try:
        durations = parse_durations(args.durations)
    except ValueError as err:
        parser.error(str(err))
    rows = [run_one("default (30 s x2, cap 5 min)", d, {}) for d in durations]
    rows.append(run_one("fixed 1 min", timedelta(hours=24), FIXED_ONE_MINUTE))
    if args.stock:
        rows.append(run_one("fixed 1 min, stock runner", timedelta(hours=24), FIXED_ONE_MINUTE, stock=True))
    print(render(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
