"""Start a local stand-in of a deployed stack and print the settings that point AWS clients at it.

migration-wait-standin [--stack-name migration-wait] [--no-skip-time] [--task ID=DURATION[:fails][:ran-before]] ...
migration-wait-standin [options] -- COMMAND [ARG ...]    # run COMMAND against the stand-in, then stop it

(or `python -m scripts.standin ...`). Without a command it prints `export NAME=value` lines (eval them in another
shell, or pass --env-file PATH to have them written there) and serves until interrupted. With a command after `--`,
the command runs with those settings in its environment and its exit code is the stand-in's.

The stand-in plays the stack's polling and callback variants and its completer; its DMS holds the tasks given with
--task (default: orders=2h, orders-fails=1h:fails, scenario=15m:ran-before). With time skipping (the default) a
2-hour migration ends in about a second; --no-skip-time runs on the real clock (give the tasks minutes). See
docs/operate.md.

Exit codes: 0 stopped when asked (or the command's own code); 2 a usage error.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from local_aws.standin.functions import DEFAULT_STACK_NAME
from local_aws.standin.world import DEFAULT_TASKS, StandIn, StandInOptions, TaskSpec
from scripts.cli import OK, CommandLineParser, output_file_problem, usage_error
from scripts.durations import parse_duration

_TASK_FLAGS = frozenset({"fails", "ran-before"})


def task_spec(value: str) -> TaskSpec:
    """--task ID=DURATION[:fails][:ran-before]."""
    identifier, _, rest = value.partition("=")
    duration_text, *flags = rest.split(":")
    if not identifier or not identifier.replace("-", "").isalnum() or not duration_text:
        raise argparse.ArgumentTypeError(f"expected ID=DURATION[:fails][:ran-before], got {value[:100]!r}")
    unknown = set(flags) - _TASK_FLAGS
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown task flag(s) {sorted(unknown)}: use fails, ran-before")
    try:
        duration = parse_duration(duration_text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return TaskSpec(identifier, duration, fails="fails" in flags, ran_before="ran-before" in flags)


def _parser() -> argparse.ArgumentParser:
    parser = CommandLineParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack-name", default=DEFAULT_STACK_NAME, help=f"the stack it plays ({DEFAULT_STACK_NAME})")
    parser.add_argument(
        "--skip-time",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="skip waits and idle stretches on the simulated clock (default); --no-skip-time: the real clock",
    )
    parser.add_argument(
        "--task",
        dest="tasks",
        action="append",
        type=task_spec,
        metavar="ID=DURATION[:fails][:ran-before]",
        help="a replication task its DMS holds (repeatable; replaces the default tasks)",
    )
    parser.add_argument("--env-file", type=Path, help="also write the export lines to this file")
    parser.add_argument("--verbose", action="store_true", help="show the functions' own log lines on stderr")
    return parser


def export_lines(settings: dict[str, str]) -> str:
    return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in settings.items())


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    command: list[str] = []
    if "--" in arguments:
        split = arguments.index("--")
        arguments, command = arguments[:split], arguments[split + 1 :]
    parser = _parser()
    args = parser.parse_args(arguments)
    if "--" in (argv if argv is not None else sys.argv[1:]) and not command:
        return usage_error(parser.prog, "nothing after --: give the command to run against the stand-in")
    if args.env_file is not None and (problem := output_file_problem(args.env_file)):
        return usage_error(parser.prog, f"--env-file {problem}")
    options = StandInOptions(
        stack=args.stack_name,
        skip_time=args.skip_time,
        tasks=tuple(args.tasks) if args.tasks else DEFAULT_TASKS,
        handler_output=sys.stderr if args.verbose else None,
    )
    out = sys.stdout
    with StandIn(options) as standin:
        lines = export_lines(standin.settings())
        if args.env_file is not None:
            args.env_file.write_text(lines)
        if command:
            return _run(command, standin.settings())
        tasks = ", ".join(f"{t.arn} ({t.duration})" for t in options.tasks)
        out.write(lines)
        out.write(f"# stand-in of stack {options.stack} ready; tasks: {tasks}; Ctrl-C stops it\n")
        out.flush()
        _serve_until_stopped()
    return OK


def _run(command: list[str], settings: dict[str, str]) -> int:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    environment.update(settings)
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        environment.pop(name, None)
    try:
        completed = subprocess.run(command, env=environment, check=False)  # noqa: S603 - the user's own command
    except OSError as err:
        print(f"migration-wait-standin: cannot run {command[0]!r}: {err.strerror or err}", file=sys.stderr)
        return 127
    return completed.returncode


def _serve_until_stopped() -> None:
    stopped = threading.Event()

    def stop(*_args: Any) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    try:
        stopped.wait()
    except KeyboardInterrupt:
        return


if __name__ == "__main__":
    sys.exit(main())
