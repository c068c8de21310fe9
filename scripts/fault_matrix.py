"""Run the fault-injection matrix: every fault, every variant, locally; print the table and the headline figures.

python scripts/fault_matrix.py                  # the whole matrix (about 10 s)
python scripts/fault_matrix.py --only callback  # the scenarios whose "variant: fault" contains the text
python scripts/fault_matrix.py --json out.json  # also write every row as JSON

Exit 0 when every scenario ends as expected, 1 when one does not, 2 for a usage error.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from local_aws.cpu_affinity import runs_on_one_cpu
from local_aws.fault_matrix import format_table, run_matrix, scenarios
from scripts.cli import CommandLineParser, output_file_problem, usage_error


@runs_on_one_cpu
def main(argv: Sequence[str] | None = None) -> int:
    parser = CommandLineParser(description="Inject every fault into every variant and report the outcomes.")
    parser.add_argument("--only", default="", help='run only scenarios whose "variant: fault" contains this text')
    parser.add_argument("--json", type=Path, default=None, help="also write the rows and the headline as JSON here")
    args = parser.parse_args(argv)
    if args.only and not any(args.only in s.key for s in scenarios()):
        return usage_error(parser.prog, f"no scenario matches --only {args.only!r}")
    if args.json is not None and (problem := output_file_problem(args.json)):
        return usage_error(parser.prog, f"--json {problem}")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "CRITICAL")
    # The local runner logs every injected crash and every safety-net timeout it fires: expected here, not news.
    logging.getLogger("aws_durable_execution_sdk_python_testing").setLevel(logging.CRITICAL)
    # The SDK logs every injected fault its steps retry, with a traceback: expected here too.
    logging.getLogger("aws_durable_execution_sdk_python").setLevel(logging.CRITICAL)
    summary = run_matrix(lambda s: args.only in s.key)
    print(format_table(summary))
    if args.json is not None:
        args.json.write_text(summary.to_json() + "\n", encoding="utf-8")
    return 0 if summary.passed else 1


if __name__ == "__main__":
    sys.exit(main())
