"""Run the waiting variants locally over simulated migrations and print what each execution did.

python scripts/compare.py [--durations 15m,1h,6h,24h,3d]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from scripts.benchmark_polling import DEFAULT_DURATIONS, FIXED_ONE_MINUTE, render, run_one
from scripts.durations import parse_durations


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--durations", default=DEFAULT_DURATIONS, help="migration durations, e.g. 15m,1h,6h,24h,3d")
    args = parser.parse_args(argv)
    try:
        durations = parse_durations(args.durations)
    except ValueError as err:
        parser.error(str(err))
    rows = []
    for duration in durations:
        rows.append(run_one("polling, default strategy", duration, {}))
        rows.append(run_one("polling, fixed 1 min", duration, FIXED_ONE_MINUTE))
    print(render(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
