"""Run the waiting variants locally over simulated migrations, measure every execution, price it and compare.

    python scripts/compare.py                        # the default matrix: 15m,1h,6h,24h,3d + a failure, every variant
    python scripts/compare.py --quick                # two durations (15m, 6h)
    python scripts/compare.py --variants polling-default,sfn-poll-loop-default --durations 1h,24h
    python scripts/compare.py --out out/comparison   # also write report.json, report.md and the PNG charts
    python scripts/compare.py --prices my-prices.json
    python scripts/compare.py --frozen-clock --out a   # reproducible to the byte (wall times aside): run it before
                                                      # and after a change to the harness and diff the report.json

Exit codes: 0 done; 1 a self-check failed (the measured shapes are not what they should be); 2 bad input.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from local_aws.comparison.function_config import TemplateError
from local_aws.comparison.matrix import (
    DEFAULT_DURATIONS,
    DEFAULT_FAILURE_DURATION,
    QUICK_DURATIONS,
    MatrixInputError,
    MatrixPlan,
    all_variant_ids,
    plan_matrix,
    run_comparison,
)
from local_aws.comparison.prices import DEFAULT_PRICES_FILE, PriceFileError, load_prices
from local_aws.comparison.report import build_report, render_heading, render_table, write_outputs
from local_aws.comparison.summary import recommendation
from local_aws.durable_runner import FROZEN_CLOCK_VARIABLE
from scripts.cli import FAILED, CommandLineParser, output_directory_problem, usage_error
from scripts.durations import format_duration, parse_duration, parse_durations

SELF_CHECK_FAILED = FAILED


class ProgressBar:
    """A bar redrawn in place on a terminal; one line per finished run otherwise (logs, CI)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.interactive = stream.isatty()
        self.started = time.perf_counter()

    def __call__(self, done: int, total: int, what: str) -> None:
        width = 30
        filled = int(width * done / total) if total else width
        bar = "#" * filled + "." * (width - filled)
        elapsed = time.perf_counter() - self.started
        text = f"[{bar}] {done}/{total} {elapsed:5.1f}s  {what}"
        if self.interactive:
            self.stream.write("\r" + text.ljust(100)[:120])
            if done == total:
                self.stream.write("\n")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


def _parser() -> argparse.ArgumentParser:
    parser = CommandLineParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--durations", help=f"migration durations (default {DEFAULT_DURATIONS})")
    parser.add_argument("--quick", action="store_true", help=f"two durations only ({QUICK_DURATIONS})")
    parser.add_argument("--variants", help=f"comma-separated, default all: {','.join(all_variant_ids())}")
    parser.add_argument(
        "--failure-duration",
        default=format_duration(DEFAULT_FAILURE_DURATION),
        help="duration of the failure scenario run for every measured variant; 'none' to skip (default 1h)",
    )
    parser.add_argument("--prices", type=Path, default=DEFAULT_PRICES_FILE, help="price file (default: bundled)")
    parser.add_argument("--out", type=Path, help="write report.json, report.md and the charts into this directory")
    parser.add_argument("--wide", action="store_true", help="every column in the terminal table (report.md has them)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="worker processes")
    parser.add_argument(
        "--frozen-clock",
        action="store_true",
        help="simulated time moves only by the waits the runner skips, not also by the real time a run takes: "
        "two runs then agree exactly (to show that a harness change changed no result)",
    )
    return parser


@contextmanager
def _frozen_clock(frozen: bool) -> Iterator[None]:
    """Every local runner, here and in the worker processes (which inherit the environment), on a frozen clock."""
    previous = os.environ.get(FROZEN_CLOCK_VARIABLE)
    if frozen:
        os.environ[FROZEN_CLOCK_VARIABLE] = "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(FROZEN_CLOCK_VARIABLE, None)
        else:
            os.environ[FROZEN_CLOCK_VARIABLE] = previous


def _plan(args: argparse.Namespace) -> MatrixPlan:
    """Every input checked before any run: a mistake found after ten minutes of work is a mistake found late."""
    if args.quick and args.durations:
        raise ValueError("--quick and --durations are exclusive")
    if args.jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {args.jobs}")
    try:
        durations = parse_durations(args.durations or (QUICK_DURATIONS if args.quick else DEFAULT_DURATIONS))
    except ValueError as err:
        raise ValueError(f"--durations: {err}") from None
    try:
        failure: timedelta | None = (
            None if args.failure_duration.strip().lower() == "none" else parse_duration(args.failure_duration)
        )
    except ValueError as err:
        raise ValueError(f"--failure-duration: {err}") from None
    variant_ids = [v.strip() for v in (args.variants or ",".join(all_variant_ids())).split(",") if v.strip()]
    if not variant_ids:
        raise ValueError(f"--variants names no variant; known variants: {', '.join(all_variant_ids())}")
    if args.out is not None and (problem := output_directory_problem(args.out)):
        raise ValueError(f"--out {problem}")
    return plan_matrix(variant_ids, durations, failure)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        plan = _plan(args)
        prices = load_prices(args.prices)
    except (ValueError, MatrixInputError, PriceFileError) as err:
        return usage_error(parser.prog, str(err))
    try:
        with _frozen_clock(args.frozen_clock):
            result = run_comparison(plan, prices, args.jobs, ProgressBar(sys.stderr))
    except TemplateError as err:
        return usage_error(parser.prog, str(err))
    report = build_report(result, prices)
    print(render_heading(report) + "\n")
    print(render_table(report, wide=args.wide))
    print(f"\n{recommendation(report)}")
    print(
        f"\nmatrix wall time: {result.wall_seconds:.1f} s ({len(report['runs'])} rows, {args.jobs} worker process(es))"
    )
    if args.out is not None:
        try:
            written = write_outputs(report, args.out)
        except OSError as err:
            return usage_error(parser.prog, f"--out {args.out}: cannot write the reports ({err.strerror or err})")
        for path in written:
            print(f"wrote {path}")
    failed = result.failed_checks
    print(f"self-checks: {len(result.checks) - len(failed)} passed, {len(failed)} failed")
    if failed:
        for check in failed:
            print(f"SELF-CHECK FAILED: {check.name}: {check.detail}", file=sys.stderr)
        return SELF_CHECK_FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main())
