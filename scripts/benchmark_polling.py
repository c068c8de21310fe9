"""Benchmark the polling variant on the local runner: polls, invocations, detection lag and wall time.

python scripts/benchmark_polling.py            # the default and the progress-aware strategy over every progress
                                               # profile, 15m..72h; the issue-11 goals at 24 h; and a 24 h
                                               # migration polled every minute (1,440 polls)
python scripts/benchmark_polling.py --profiles linear,stall --durations 24h
python scripts/benchmark_polling.py --stock    # also the 24 h / 1 min run with the SDK's stock 0.1 s invocation tail
python scripts/benchmark_polling.py --phases 16 --durations 24h --cap 3600
                                               # the progress strategy only, each task ending at 16 different
                                               # moments (1 + i x 0.19 % of its duration): the spread of polls and lag
python scripts/benchmark_polling.py --repeats 5  # the 1-minute run's time breakdown as the median of 5 runs (default 3)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

from aws_durable_execution_sdk_python import durable_execution

import polling_handler
import waiting.entry_points.polling as polling_entry_point
from job_kinds.dms_inputs import dms_input
from local_aws.comparison.variants import FIXED_ONE_MINUTE
from local_aws.cpu_affinity import runs_on_one_cpu
from local_aws.dms_simulation import TaskPlan
from local_aws.environment import local_environment
from local_aws.progress_profiles import LINEAR, PROFILES, ProgressProfile, progress_profile
from local_aws.time_breakdown import Stopwatch, TimeBreakdown, timed_dms_calls
from scripts.cli import CommandLineParser
from scripts.durations import format_duration, parse_durations
from waiting.errors import InvalidSettingError
from waiting.settings import PollingSettings

DEFAULT_DURATIONS = "15m,1h,6h,24h,72h"
DEFAULT_LABEL = "default (30 s x2, cap 5 min)"
PROGRESS = {"POLL_STRATEGY": "progress"}
GOAL_DURATION = timedelta(hours=24)
# The timed 1-minute run and its ablation are each run this many times; the median of each is reported.
BREAKDOWN_REPEATS = 3
# With --phases, the i-th run of a migration lasts (1 + i x PHASE_STEP) times its nominal duration.
PHASE_STEP = 0.0019


def progress_label(cap_seconds: int) -> str:
    return f"progress (cap {format_duration(timedelta(seconds=cap_seconds))})"


def _is_progress(row: BenchmarkRow) -> bool:
    return row.label.startswith("progress")


@dataclass(frozen=True)
class BenchmarkRow:
    label: str
    profile: str
    duration: timedelta
    polls: int
    invocations: int
    detection_lag_seconds: float
    wall_seconds: float  # the run, start request to result
    history_read_seconds: float = 0.0  # reading the finished execution's history, after the run


def run_one(
    label: str,
    duration: timedelta,
    settings: dict[str, str],
    *,
    stock: bool = False,
    profile: ProgressProfile = LINEAR,
    handler: Callable[..., Any] = polling_handler.handler,
) -> BenchmarkRow:
    quiet = {"POWERTOOLS_LOG_LEVEL": "WARNING", **settings}
    with local_environment(handler, quiet, fast=not stock) as env:
        arn = env.dms.add_task("benchmark", TaskPlan(duration=duration, progress=profile))
        # The run: from the start request to the execution's result. Reading its history afterwards (to count
        # what it did) is reported apart, as history_read_seconds.
        started = time.perf_counter()
        execution_arn = env.runner.start({"ReplicationTaskArn": arn})
        env.runner.runner.wait_for_result(execution_arn, timeout=900)
        wall = time.perf_counter() - started
        measured = env.runner.measure(execution_arn)
        history_read = time.perf_counter() - started - wall
    if measured.status != "SUCCEEDED":
        raise RuntimeError(f"{label} {profile.name} {format_duration(duration)} did not succeed: {measured.error}")
    return BenchmarkRow(
        label=label,
        profile=profile.name,
        duration=duration,
        polls=measured.result["Polls"],
        invocations=measured.invocations,
        detection_lag_seconds=measured.result["DetectionLagSeconds"],
        wall_seconds=wall,
        history_read_seconds=history_read,
    )


def polling_handler_without_telemetry() -> Callable[..., Any]:
    """The polling handler built without the telemetry plugin: the ablation of ``time_breakdown`` (never deployed)."""
    with patch.object(polling_entry_point, "durable_execution_with_telemetry", durable_execution):
        return polling_entry_point.polling_function(dms_input)


def one_minute_polling_with_breakdown(
    duration: timedelta = GOAL_DURATION, repeats: int = BREAKDOWN_REPEATS
) -> tuple[BenchmarkRow, TimeBreakdown]:
    """The 1-minute polling run, timed by part (handler, DMS calls), and its ablation without telemetry.

    Each is run ``repeats`` times, alternating; the median run of each is reported, the lower middle one for an
    even count (the host's speed drifts, and the telemetry share is a difference of two runs: one pair alone is
    mostly noise)."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    timed: list[tuple[BenchmarkRow, Stopwatch, Stopwatch]] = []
    ablations: list[BenchmarkRow] = []
    for _ in range(repeats):
        handler_time, dms_time = Stopwatch(), Stopwatch()
        with timed_dms_calls(dms_time):
            row = run_one("fixed 1 min", duration, FIXED_ONE_MINUTE, handler=handler_time.time(polling_handler.handler))
        timed.append((row, handler_time, dms_time))
        ablation = run_one("fixed 1 min", duration, FIXED_ONE_MINUTE, handler=polling_handler_without_telemetry())
        if (ablation.polls, ablation.invocations) != (row.polls, row.invocations):
            raise RuntimeError(f"the run without telemetry polled differently: {ablation} against {row}")
        ablations.append(ablation)
    row, handler_time, dms_time = sorted(timed, key=lambda run: run[0].wall_seconds)[(repeats - 1) // 2]
    ablation_wall = statistics.median_low(a.wall_seconds for a in ablations)
    breakdown = TimeBreakdown(
        invocations=row.invocations,
        run_seconds=row.wall_seconds,
        handler_seconds=handler_time.seconds,
        dms_seconds=dms_time.seconds,
        run_without_telemetry_seconds=ablation_wall,
        history_read_seconds=row.history_read_seconds,
        repeats=repeats,
    )
    return row, breakdown


def render(rows: Sequence[BenchmarkRow]) -> str:
    lines = [
        "| strategy | profile | migration | polls | invocations | detection lag (s) | wall (s) |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r.label} | {r.profile} | {format_duration(r.duration)} | {r.polls} | {r.invocations} | "
        f"{r.detection_lag_seconds:.0f} | {r.wall_seconds:.2f} |"
        for r in rows
    ]
    return "\n".join(lines)


def render_side_by_side(rows: Sequence[BenchmarkRow]) -> str:
    """Default against progress-aware, per migration and profile: polls and lag."""
    default = {(r.duration, r.profile): r for r in rows if r.label == DEFAULT_LABEL}
    progress = {(r.duration, r.profile): r for r in rows if _is_progress(r)}
    lines = [
        "| migration | profile | default polls | default lag (s) | progress polls | progress lag (s) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for key, new in progress.items():
        old = default.get(key)
        old_cells = f"{old.polls} | {old.detection_lag_seconds:.0f}" if old else "- | -"
        lines.append(
            f"| {format_duration(key[0])} | {key[1]} | {old_cells} | {new.polls} | {new.detection_lag_seconds:.0f} |"
        )
    return "\n".join(lines)


def render_goals(rows: Sequence[BenchmarkRow], cap: int) -> str:
    """The issue-11 goals for a 24-hour migration, checked against the rows (empty without 24-hour rows)."""
    progress = {r.profile: r for r in rows if _is_progress(r) and r.duration == GOAL_DURATION}
    default = {r.profile: r for r in rows if r.label == DEFAULT_LABEL and r.duration == GOAL_DURATION}
    if not progress:
        return ""
    steady = {p: progress[p].polls for p in ("linear", "front-loaded") if p in progress}
    not_worse = {p: (progress[p].polls, default[p].polls) for p in progress if p in default}
    lags = {p: r.detection_lag_seconds for p, r in progress.items()}
    median = statistics.median(lags.values())
    worst = max(lags.values())

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    lines = [
        "Goals, 24 h migration (progress-aware strategy):",
        f"- {verdict(all(v <= 30 for v in steady.values()))} at most 30 polls on linear and front-loaded: "
        + ", ".join(f"{p} {v}" for p, v in steady.items()),
        f"- {verdict(all(new <= old for new, old in not_worse.values()))} never more polls than the default: "
        + ", ".join(f"{p} {new} <= {old}" for p, (new, old) in not_worse.items()),
        f"- {verdict(median <= 180)} median detection lag across profiles at most 180 s: {median:.0f} s "
        f"({', '.join(f'{p} {v:.0f}' for p, v in lags.items())})",
        f"- {verdict(worst <= cap)} worst-case lag within POLL_PROGRESS_MAX_INTERVAL_SECONDS ({cap} s): {worst:.0f} s",
    ]
    return "\n".join(lines)


def render_phases(
    durations: Sequence[timedelta], profiles: Sequence[ProgressProfile], phases: int, settings: dict[str, str], cap: int
) -> str:
    """The progress strategy at ``phases`` end moments per migration and profile: the spread of polls and lag."""
    lines = [
        "| migration | profile | polls (min-max) | lag median (s) | lag max (s) |",
        "|---|---|---:|---:|---:|",
    ]
    summaries = []
    for duration in durations:
        runs = {
            profile.name: [
                run_one(progress_label(cap), duration * (1 + i * PHASE_STEP), settings, profile=profile)
                for i in range(phases)
            ]
            for profile in profiles
        }
        for name, rows in runs.items():
            polls = [r.polls for r in rows]
            lags = [r.detection_lag_seconds for r in rows]
            lines.append(
                f"| {format_duration(duration)} | {name} | {min(polls)}-{max(polls)} | "
                f"{statistics.median(lags):.0f} | {max(lags):.0f} |"
            )
        per_phase = [statistics.median(rows[i].detection_lag_seconds for rows in runs.values()) for i in range(phases)]
        summaries.append(
            f"{format_duration(duration)}: median lag across profiles, per phase (s): "
            f"{', '.join(f'{m:.0f}' for m in per_phase)}; worst phase {max(per_phase):.0f} s"
        )
    return "\n".join([*lines, "", *summaries])


@runs_on_one_cpu
def main(argv: Sequence[str] | None = None) -> int:
    parser = CommandLineParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--durations", default=DEFAULT_DURATIONS, help="migrations (default %(default)s)")
    parser.add_argument("--profiles", default=",".join(PROFILES), help="progress profiles (default: all)")
    parser.add_argument("--stock", action="store_true", help="also run the 24 h / 1 min case on the stock runner")
    parser.add_argument("--cap", type=int, help="POLL_PROGRESS_MAX_INTERVAL_SECONDS for the progress strategy")
    parser.add_argument("--phases", type=int, help="only the progress strategy, at this many end moments per run")
    parser.add_argument("--json", type=Path, help="also write the rows and the time breakdown as JSON here")
    parser.add_argument(
        "--repeats",
        type=int,
        default=BREAKDOWN_REPEATS,
        help="runs of the timed 1-minute polling, and of its ablation; the median is reported (default %(default)s)",
    )
    args = parser.parse_args(argv)
    try:
        durations = parse_durations(args.durations)
        profiles = [progress_profile(name.strip()) for name in args.profiles.split(",") if name.strip()]
    except ValueError as err:
        parser.error(str(err))
    if not profiles:
        parser.error("no progress profiles given")
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    if args.phases is not None and args.phases < 1:
        parser.error(f"--phases must be at least 1, got {args.phases}")
    progress = {**PROGRESS, "POLL_PROGRESS_MAX_INTERVAL_SECONDS": str(args.cap)} if args.cap is not None else PROGRESS
    try:
        cap = PollingSettings.from_env(progress).progress_max_interval_seconds
    except InvalidSettingError as err:
        parser.error(f"--cap: {err}")
    if args.phases:
        print(render_phases(durations, profiles, args.phases, progress, cap))
        return 0
    rows = []
    for duration in durations:
        for profile in profiles:
            rows.append(run_one(DEFAULT_LABEL, duration, {}, profile=profile))
            rows.append(run_one(progress_label(cap), duration, progress, profile=profile))
    one_minute, breakdown = one_minute_polling_with_breakdown(repeats=args.repeats)
    rows.append(one_minute)
    if args.stock:
        rows.append(run_one("fixed 1 min, stock runner", timedelta(hours=24), FIXED_ONE_MINUTE, stock=True))
    print(render(rows))
    print()
    print(render_side_by_side(rows))
    goals = render_goals(rows, cap)
    if goals:
        print()
        print(goals)
    print()
    print(f"Where the time went, polling a {format_duration(GOAL_DURATION)} migration every minute:")
    print()
    print(breakdown.render())
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(benchmark_json(rows, breakdown), indent=2) + "\n")
    return 0


def benchmark_json(rows: Sequence[BenchmarkRow], breakdown: TimeBreakdown) -> dict[str, Any]:
    """The rows and the 1-minute run's time breakdown (the README's speed line is filled from it)."""
    return {
        "rows": [
            {
                "label": r.label,
                "profile": r.profile,
                "duration_seconds": r.duration.total_seconds(),
                "polls": r.polls,
                "invocations": r.invocations,
                "detection_lag_seconds": r.detection_lag_seconds,
                "wall_seconds": round(r.wall_seconds, 3),
            }
            for r in rows
        ],
        "one_minute_polling": breakdown.to_json(),
    }


if __name__ == "__main__":
    sys.exit(main())
