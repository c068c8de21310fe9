"""Start and watch migration waits on a deployed stack (your AWS credentials, the stack's outputs).

migration-wait-deployed start  --stack-name S --task-arn ARN [--variant polling|callback|third-party]
                               [--start-type T] [--name NAME]
migration-wait-deployed status --execution-arn ARN [--wait]
migration-wait-deployed list   --stack-name S [--variant polling|callback|third-party] [--status RUNNING]

(or `python scripts/deployed.py ...`). --region goes before or after the command; the region of --task-arn or
--execution-arn is used when --region is not given, else your AWS configuration's.

`start` checks that the replication task exists, then invokes the variant's alias asynchronously (a synchronous
invoke of a durable function ends after 15 minutes at most) with an execution name derived from the task, so
starting twice is refused instead of starting two waits. The AWS CLI equivalents are in the README ("Deploy to
your AWS account").

Exit codes: 0 done (for status: the execution succeeded or is running); 1 an AWS problem, said in one line with
what to do, or an execution that failed, timed out or was stopped; 2 a usage error (a malformed ARN, say).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
)
from botocore.exceptions import (
    ConnectionError as EndpointUnreachableError,
)

from job_kinds.dms_task.rules import parse_replication_task_arn
from scripts.cli import FAILED, OK, USAGE_ERROR, CommandLineParser

# The stack output holding each variant's durable function alias (template.yaml, Outputs).
ALIAS_OUTPUTS = {
    "polling": "PollingFunctionAlias",
    "callback": "CallbackFunctionAlias",
    "third-party": "ThirdPartyJobFunctionAlias",
}
FINISHED = {"SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED"}
INTERRUPTED = 130
# Lambda's pattern for a durable execution ARN (API reference, Execution), the qualifier loosened to any alias.
_EXECUTION_ARN = re.compile(
    r"^arn:[a-zA-Z0-9-]+:lambda:(?P<region>[a-z0-9-]+):\d{12}:function:[a-zA-Z0-9_-]+:[$.a-zA-Z0-9_-]+"
    r"/durable-execution/[a-zA-Z0-9_-]+/[a-zA-Z0-9_-]+$"
)
_EXECUTION_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_THROTTLED = {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"}
_DENIED = {"AccessDenied", "AccessDeniedException", "AccessDeniedFault", "UnauthorizedOperation"}
_BAD_CREDENTIALS = {
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
}
# Standard retries (throttling and dropped connections retried with backoff); AWS_MAX_ATTEMPTS still applies.
_CLIENT_CONFIG = Config(connect_timeout=10, read_timeout=60, retries={"mode": "standard"})

ClientFactory = Callable[[str, str], Any]


class AwsCallError(Exception):
    """An AWS call could not be made or was refused; the message is one line saying what to do."""


class UsageError(Exception):
    """The arguments contradict each other; the message names them."""


def boto3_client(service: str, region: str) -> Any:
    return boto3.client(service, region_name=region, config=_CLIENT_CONFIG)  # type: ignore[call-overload]


def task_arn(value: str) -> str:
    """--task-arn: the ARN the durable functions accept (the domain's own check), or a usage error."""
    try:
        return parse_replication_task_arn(value, field="the value")
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def execution_arn(value: str) -> str:
    if not _EXECUTION_ARN.match(value):
        raise argparse.ArgumentTypeError(
            "the value is not a durable execution ARN "
            f"(arn:aws:lambda:REGION:ACCOUNT:function:NAME:VERSION/durable-execution/NAME/ID): {value[:300]!r}"
        )
    return value


def execution_name_argument(value: str) -> str:
    if not _EXECUTION_NAME.match(value):
        raise argparse.ArgumentTypeError(f"the value must be 1 to 64 letters, digits, - or _: {value[:100]!r}")
    return value


def seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number <= 0:
        raise argparse.ArgumentTypeError(f"the value must be a positive number of seconds, got {value[:100]!r}")
    return number


def _region_of(arn: str | None) -> str | None:
    return arn.split(":")[3] if arn else None


def resolve_region(explicit: str | None, arn: str | None) -> str:
    """--region, else the ARN's region, else the AWS configuration's; an ARN in another region is a usage error."""
    from_arn = _region_of(arn)
    if explicit and from_arn and explicit != from_arn:
        raise UsageError(f"--region {explicit} contradicts the ARN, which is in {from_arn}: drop --region")
    region = explicit or from_arn
    if region:
        return region
    with aws_call("reading your AWS configuration", None):
        configured = boto3.session.Session().region_name
    if not configured:
        raise AwsCallError("no AWS region: pass --region REGION, set AWS_REGION, or run `aws configure`")
    return str(configured)


def _client_error(err: ClientError, action: str, where: str) -> str:
    error = err.response.get("Error", {})
    code, message = str(error.get("Code", "")), str(error.get("Message", "")).strip()
    if code in _THROTTLED:
        return f"AWS throttled {action} ({code}): wait a minute and run the command again"
    if code in _DENIED:
        return f"access denied to {action}{where}: your credentials need that permission ({message})"
    if code in _BAD_CREDENTIALS:
        return (
            f"AWS did not accept your credentials ({code}): refresh them (`aws sso login` or `aws configure`) "
            "and check this machine's clock"
        )
    return f"{action} failed{where}: {code}: {message}"


@contextmanager
def aws_call(action: str, region: str | None) -> Iterator[None]:
    """Turn every AWS failure inside into an AwsCallError whose one line says what to do about it."""
    where = f" in {region}" if region else ""
    try:
        yield
    except ClientError as err:
        raise AwsCallError(_client_error(err, action, where)) from err
    except (NoCredentialsError, PartialCredentialsError) as err:
        raise AwsCallError(
            f"no AWS credentials ({err}): run `aws configure` or `aws sso login`, or set AWS_PROFILE"
        ) from err
    except (SSOError, TokenRetrievalError) as err:
        raise AwsCallError(f"your AWS sign-in has expired ({err}): run `aws sso login`") from err
    except ProfileNotFound as err:
        raise AwsCallError(f"{err}: set AWS_PROFILE to a profile of `aws configure list-profiles`") from err
    except EndpointUnreachableError as err:
        raise AwsCallError(
            f"cannot reach AWS for {action}{where} ({err}): check the network, the region and any "
            "AWS_ENDPOINT_URL setting"
        ) from err
    except BotoCoreError as err:
        raise AwsCallError(f"{action} failed{where}: {err}") from err


def _refusal(err: AwsCallError) -> tuple[str, str]:
    """The error code and message AWS answered with, or two empty strings when it never answered."""
    cause = err.__cause__
    if not isinstance(cause, ClientError):
        return "", ""
    error = cause.response.get("Error", {})
    return str(error.get("Code", "")), str(error.get("Message", ""))


def stack_output(client: ClientFactory, stack_name: str, key: str, region: str) -> str:
    try:
        with aws_call("cloudformation:DescribeStacks", region):
            stacks = client("cloudformation", region).describe_stacks(StackName=stack_name)["Stacks"]
    except AwsCallError as err:
        code, message = _refusal(err)
        # CloudFormation answers a missing stack with a ValidationError, not a not-found code.
        if code == "ValidationError" and "does not exist" in message:
            raise AwsCallError(
                f"no stack {stack_name} in {region}: check --stack-name and --region (aws cloudformation list-stacks)"
            ) from err
        raise
    found = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    if key not in found:
        raise AwsCallError(
            f"stack {stack_name} has no output {key}; it has {sorted(found)}: is it this project's template.yaml, "
            "deployed completely?"
        )
    return str(found[key])


def require_task(client: ClientFactory, arn: str, region: str) -> None:
    """Fail now, naming the task, rather than in an execution that cannot find it."""
    try:
        with aws_call("dms:DescribeReplicationTasks", region):
            tasks = client("dms", region).describe_replication_tasks(
                Filters=[{"Name": "replication-task-arn", "Values": [arn]}], WithoutSettings=True
            )["ReplicationTasks"]
    except AwsCallError as err:
        if _refusal(err)[0] != "ResourceNotFoundFault":
            raise
        tasks = []
    if not tasks:
        raise AwsCallError(
            f"no replication task {arn} in {region}: check the ARN, and that your credentials are for its account"
        )


def execution_name(task_arn: str, now: datetime) -> str:
    """One name per task and start: a second start of the same wait in the same minute is refused by Lambda."""
    task_id = task_arn.rsplit(":", 1)[-1]
    return f"{task_id[:50]}-{now:%Y%m%dT%H%M}"


def start(args: argparse.Namespace, client: ClientFactory) -> int:
    region = resolve_region(args.region, args.task_arn)
    alias = stack_output(client, args.stack_name, ALIAS_OUTPUTS[args.variant], region)
    require_task(client, args.task_arn, region)
    payload = {"ReplicationTaskArn": args.task_arn, "StartReplicationTaskType": args.start_type}
    name = args.name or execution_name(args.task_arn, datetime.now(UTC))
    try:
        with aws_call("lambda:InvokeFunction", region):
            response = client("lambda", region).invoke(
                FunctionName=alias,
                InvocationType="Event",
                DurableExecutionName=name,
                Payload=json.dumps(payload).encode(),
            )
    except AwsCallError as err:
        code = _refusal(err)[0]
        if code == "DurableExecutionAlreadyStartedException":
            raise AwsCallError(
                f"an execution named {name} already exists with another input: pass --name to start a new one"
            ) from err
        if code == "ResourceNotFoundException":
            raise AwsCallError(f"the stack's alias {alias} does not exist: redeploy the stack") from err
        raise
    print(json.dumps({"DurableExecutionArn": response.get("DurableExecutionArn"), "Name": name}, indent=2))
    return OK


def describe(client: Any, execution_arn: str) -> dict[str, Any]:
    execution: dict[str, Any] = client.get_durable_execution(DurableExecutionArn=execution_arn)
    shown = {k: execution.get(k) for k in ("DurableExecutionArn", "Status", "StartTimestamp", "EndTimestamp")}
    if execution.get("Result"):
        try:
            shown["Result"] = json.loads(execution["Result"])
        except ValueError:
            shown["Result"] = execution["Result"]
    if execution.get("Error"):
        shown["Error"] = execution["Error"]
    return shown


def status(args: argparse.Namespace, client: ClientFactory) -> int:
    region = resolve_region(args.region, args.execution_arn)
    try:
        with aws_call("lambda:GetDurableExecution", region):
            lambda_client = client("lambda", region)
            shown = describe(lambda_client, args.execution_arn)
            while args.wait and shown["Status"] not in FINISHED:
                time.sleep(args.interval)
                shown = describe(lambda_client, args.execution_arn)
    except AwsCallError as err:
        if _refusal(err)[0] == "ResourceNotFoundException":
            raise AwsCallError(f"no durable execution {args.execution_arn}: check the ARN (from `start`)") from err
        raise
    print(json.dumps(shown, indent=2, default=str))
    return OK if shown["Status"] in {"SUCCEEDED", "RUNNING"} else FAILED


def list_executions(args: argparse.Namespace, client: ClientFactory) -> int:
    region = resolve_region(args.region, None)
    alias = stack_output(client, args.stack_name, ALIAS_OUTPUTS[args.variant], region)
    function, _, qualifier = alias.rpartition(":")
    request: dict[str, Any] = {"FunctionName": function, "Qualifier": qualifier}
    if args.status:
        request["Statuses"] = [args.status]
    with aws_call("lambda:ListDurableExecutionsByFunction", region):
        listed = client("lambda", region).list_durable_executions_by_function(**request)
    executions = listed.get("DurableExecutions", [])
    print(json.dumps(executions, indent=2, default=str))
    return OK


def _parser() -> argparse.ArgumentParser:
    # --region is accepted before and after the command; SUPPRESS keeps a command's unset copy from
    # overwriting a value given before it.
    common = CommandLineParser(add_help=False)
    common.add_argument("--region", default=argparse.SUPPRESS, help="default: the ARN's, else your AWS configuration's")
    parser = CommandLineParser(description=__doc__.splitlines()[0], parents=[common])
    commands = parser.add_subparsers(dest="command", required=True, metavar="{start,status,list}")

    begin = commands.add_parser("start", parents=[common], help="start waiting for a replication task")
    begin.add_argument("--stack-name", required=True)
    begin.add_argument("--task-arn", required=True, type=task_arn)
    begin.add_argument("--variant", choices=sorted(ALIAS_OUTPUTS), default="polling")
    begin.add_argument(
        "--start-type", choices=["start-replication", "resume-processing", "reload-target"], default="start-replication"
    )
    begin.add_argument(
        "--name", type=execution_name_argument, help="the durable execution name (default: task id and minute)"
    )
    begin.set_defaults(run=start)

    show = commands.add_parser("status", parents=[common], help="show one execution")
    show.add_argument("--execution-arn", required=True, type=execution_arn)
    show.add_argument("--wait", action="store_true", help="poll until the execution ends")
    show.add_argument("--interval", type=seconds, default=30.0, help="seconds between looks with --wait (30)")
    show.set_defaults(run=status)

    listing = commands.add_parser("list", parents=[common], help="list a variant's executions")
    listing.add_argument("--stack-name", required=True)
    listing.add_argument("--variant", choices=sorted(ALIAS_OUTPUTS), default="polling")
    listing.add_argument("--status", choices=sorted(FINISHED | {"RUNNING"}))
    listing.set_defaults(run=list_executions)
    return parser


def main(argv: Sequence[str] | None = None, client: ClientFactory = boto3_client) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    args.region = getattr(args, "region", None)
    try:
        result: int = args.run(args, client)
    except UsageError as err:
        print(f"{parser.prog}: error: {err}", file=sys.stderr)
        return USAGE_ERROR
    except AwsCallError as err:
        # One line, whatever AWS put in its message.
        print(f"{parser.prog}: {' '.join(str(err).split())}", file=sys.stderr)
        return FAILED
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return INTERRUPTED
    return result


if __name__ == "__main__":
    sys.exit(main())
