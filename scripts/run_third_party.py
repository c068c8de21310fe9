"""Run one third-party job wait locally and show every exchange: the job started, the signed callback, the answer.

python scripts/run_third_party.py                          # a 6-hour job that succeeds, called back on time
python scripts/run_third_party.py --duration 3d --fails    # a 3-day job that fails halfway
python scripts/run_third_party.py --misbehave wrong-signature   # refused (401); the safety net finishes it

Everything is real but AWS and the third party: ThirdPartyJobFunction on the SDK's local runner, the local
third-party service (its job on the runner's simulated clock), the real CallbackApiFunction behind a local function
URL, DynamoDB and Secrets Manager in moto. Exit code 0 when the execution ends as the job did, 1 otherwise, 2 for
bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from local_aws.comparison.measure import quiet_sdk_logging
from local_aws.comparison.operations import count_durable_operations
from local_aws.dms_simulation import SimulatedOutcome, TaskPlan
from local_aws.third_party_environment import third_party_environment
from local_aws.third_party_service import CallbackAttempt, Misbehaviour
from scripts.cli import CommandLineParser, usage_error
from scripts.durations import duration_argument, format_duration
from waiting.settings import CallbackSettings


def _redacted(url: str) -> str:
    """A callback URL is a bearer capability: show its shape, not its token."""
    path = urlsplit(url).path
    token = path.rsplit("/", 1)[-1]
    return url.replace(token, f"<token: {len(token)} characters>")


def _show_callback(attempt: CallbackAttempt, url: str) -> None:
    signature = attempt.headers.get("x-callback-signature", "(none)")
    print(f"  POST {_redacted(url)}")
    print(f"    x-callback-timestamp: {attempt.headers.get('x-callback-timestamp', '(none)')}")
    print(f"    x-callback-signature: {signature[:19]}...")
    print(f"    body: {attempt.body.decode()[:160]}...")
    print(f"  CallbackApiFunction answered {attempt.status} {json.dumps(attempt.answer)}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = CommandLineParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", default="6h", type=duration_argument, help="how long the job runs (6h)")
    parser.add_argument("--fails", action="store_true", help="the job fails halfway")
    parser.add_argument(
        "--misbehave",
        choices=[m.value for m in Misbehaviour],
        default=Misbehaviour.NONE.value,
        help="how the third party misbehaves when the job ends",
    )
    parser.add_argument("--safety-net", type=int, default=None, help="CALLBACK_TIMEOUT_SECONDS (default 302400)")
    args = parser.parse_args(argv)
    settings = {"POWERTOOLS_LOG_LEVEL": "CRITICAL"}
    if args.safety_net is not None:
        settings["CALLBACK_TIMEOUT_SECONDS"] = str(args.safety_net)
    try:
        # The function's own settings check, before the run: a bad value would fail the execution at its start.
        CallbackSettings.from_env({"CALLBACK_TABLE_NAME": "settings-check", **settings})
    except ValueError as err:
        return usage_error(parser.prog, f"--safety-net: {err}")

    plan = TaskPlan(duration=args.duration)
    if args.fails:
        plan = TaskPlan(duration=args.duration, outcome=SimulatedOutcome.FAILS, failure_message="ORA-01555")
    with quiet_sdk_logging(), third_party_environment(settings) as env:
        env.service.misbehaviour = Misbehaviour(args.misbehave)
        task_arn = env.jobs.add_task("orders-full-load", plan)
        payload = {"ReplicationTaskArn": task_arn}
        started = time.perf_counter()
        execution_arn = env.start(payload, name="third-party-demo")
        env.wait_for_callback(execution_arn)
        job = env.service.job_for_task(task_arn)
        print(f"ThirdPartyJobFunction: execution started for {task_arn}")
        print(f"  PUT {env.service.url}/jobs/{job.job_id} -> job started")
        print(f"    CallbackUrl: {_redacted(job.callback_url)}")
        print(f"  waiting (no invocation) while the job runs {format_duration(args.duration)} of simulated time")
        log = env.timeline(task_arn, call_back=env.service.misbehaviour is not Misbehaviour.NO_CALLBACK).drive(
            execution_arn, 120
        )
        measured = env.runner.measure(execution_arn)
        wall = time.perf_counter() - started
        print(f"the third party ({env.service.misbehaviour.value}):")
        for attempt in env.service.callbacks:
            _show_callback(attempt, job.callback_url)
        if not env.service.callbacks:
            print("  sent no callback")
        timeouts = log.count("callback-timed-out")
        print(f"safety-net timeouts: {timeouts}; job status reads (GET /jobs/...): {env.service.requests['GET']}")
        outcome: Any = measured.result if measured.status == "SUCCEEDED" else measured.error
        print(f"execution {measured.status}: {json.dumps(outcome)}")
        print(
            f"invocations {measured.invocations}, durable operations "
            f"{count_durable_operations(env.runner.store.load(execution_arn)).total}, "
            f"callbacks completed {sum(env.lambda_endpoint.accepted.values())}, wall {wall:.2f} s"
        )
    expected = "FAILED" if args.fails else "SUCCEEDED"
    return 0 if measured.status == expected else 1


if __name__ == "__main__":
    sys.exit(main())
