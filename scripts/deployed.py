"""Start and watch migration waits on a deployed stack (your AWS credentials, the stack's outputs).

python scripts/deployed.py start  --stack-name S --task-arn ARN [--variant polling|callback|third-party]
                                  [--start-type T]
python scripts/deployed.py status --execution-arn ARN [--wait]
python scripts/deployed.py list   --stack-name S [--variant polling|callback|third-party] [--status RUNNING]

`start` invokes the variant's alias asynchronously (a synchronous invoke of a durable function ends after
15 minutes at most) with an execution name derived from the task, so starting twice is refused instead of
starting two waits. The AWS CLI equivalents are in the README ("Deploy to your AWS account").
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import boto3

# The stack output holding each variant's durable function alias (template.yaml, Outputs).
ALIAS_OUTPUTS = {
    "polling": "PollingFunctionAlias",
    "callback": "CallbackFunctionAlias",
    "third-party": "ThirdPartyJobFunctionAlias",
}
FINISHED = {"SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED"}

ClientFactory = Callable[[str, "str | None"], Any]


def boto3_client(service: str, region: str | None) -> Any:
    return boto3.client(service, region_name=region)  # type: ignore[call-overload]


def stack_output(client: ClientFactory, stack_name: str, key: str, region: str | None) -> str:
    cloudformation = client("cloudformation", region)
    outputs = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0].get("Outputs", [])
    found = {o["OutputKey"]: o["OutputValue"] for o in outputs}
    if key not in found:
        raise SystemExit(f"stack {stack_name} has no output {key}; it has {sorted(found)}")
    return str(found[key])


def execution_name(task_arn: str, now: datetime) -> str:
    """One name per task and start: a second start of the same wait in the same minute is refused by Lambda."""
    task_id = task_arn.rsplit(":", 1)[-1]
    return f"{task_id[:50]}-{now:%Y%m%dT%H%M}"


def start(args: argparse.Namespace, client: ClientFactory) -> int:
    alias = stack_output(client, args.stack_name, ALIAS_OUTPUTS[args.variant], args.region)
    payload = {"ReplicationTaskArn": args.task_arn, "StartReplicationTaskType": args.start_type}
    name = args.name or execution_name(args.task_arn, datetime.now(UTC))
    response = client("lambda", args.region).invoke(
        FunctionName=alias, InvocationType="Event", DurableExecutionName=name, Payload=json.dumps(payload).encode()
    )
    print(json.dumps({"DurableExecutionArn": response.get("DurableExecutionArn"), "Name": name}, indent=2))
    return 0


def describe(client: Any, execution_arn: str) -> dict[str, Any]:
    execution: dict[str, Any] = client.get_durable_execution(DurableExecutionArn=execution_arn)
    shown = {k: execution.get(k) for k in ("DurableExecutionArn", "Status", "StartTimestamp", "EndTimestamp")}
    if execution.get("Result"):
        shown["Result"] = json.loads(execution["Result"])
    if execution.get("Error"):
        shown["Error"] = execution["Error"]
    return shown


def status(args: argparse.Namespace, client: ClientFactory) -> int:
    lambda_client = client("lambda", args.region)
    shown = describe(lambda_client, args.execution_arn)
    while args.wait and shown["Status"] not in FINISHED:
        time.sleep(args.interval)
        shown = describe(lambda_client, args.execution_arn)
    print(json.dumps(shown, indent=2, default=str))
    return 0 if shown["Status"] in {"SUCCEEDED", "RUNNING"} else 1


def list_executions(args: argparse.Namespace, client: ClientFactory) -> int:
    alias = stack_output(client, args.stack_name, ALIAS_OUTPUTS[args.variant], args.region)
    function, _, qualifier = alias.rpartition(":")
    request: dict[str, Any] = {"FunctionName": function, "Qualifier": qualifier}
    if args.status:
        request["Statuses"] = [args.status]
    listed = client("lambda", args.region).list_durable_executions_by_function(**request)
    executions = listed.get("DurableExecutions", [])
    print(json.dumps(executions, indent=2, default=str))
    return 0


def main(argv: Sequence[str] | None = None, client: ClientFactory = boto3_client) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--region", default=None, help="default: your AWS configuration's region")
    commands = parser.add_subparsers(dest="command", required=True)

    begin = commands.add_parser("start", help="start waiting for a replication task")
    begin.add_argument("--stack-name", required=True)
    begin.add_argument("--task-arn", required=True)
    begin.add_argument("--variant", choices=sorted(ALIAS_OUTPUTS), default="polling")
    begin.add_argument(
        "--start-type", choices=["start-replication", "resume-processing", "reload-target"], default="start-replication"
    )
    begin.add_argument("--name", help="the durable execution name (default: task id and minute)")
    begin.set_defaults(run=start)

    show = commands.add_parser("status", help="show one execution")
    show.add_argument("--execution-arn", required=True)
    show.add_argument("--wait", action="store_true", help="poll until the execution ends")
    show.add_argument("--interval", type=float, default=30.0)
    show.set_defaults(run=status)

    listing = commands.add_parser("list", help="list a variant's executions")
    listing.add_argument("--stack-name", required=True)
    listing.add_argument("--variant", choices=sorted(ALIAS_OUTPUTS), default="polling")
    listing.add_argument("--status", choices=sorted(FINISHED | {"RUNNING"}))
    listing.set_defaults(run=list_executions)

    args = parser.parse_args(argv)
    result: int = args.run(args, client)
    return result


if __name__ == "__main__":
    sys.exit(main())
