"""Start and watch migration waits on a deployed stack (your AWS credentials, the stack's outputs).

migration-wait-deployed start    --stack-name S (--task-arn ARN | --config-arn ARN) [--variant V] [--start-type T]
                                 [--name NAME]
migration-wait-deployed status   --execution-arn ARN [--wait]
migration-wait-deployed watch    --execution-arn ARN [--interval SECONDS]
migration-wait-deployed list     --stack-name S [--variant V] [--status RUNNING] [--json]
migration-wait-deployed complete --callback-id ID [--result JSON]
migration-wait-deployed fail     --callback-id ID [--error-type T] [--message TEXT]
migration-wait-deployed report   --stack-name S [--since DURATION] [--prices FILE] [--json]

(or `python scripts/deployed.py ...`). --region goes before or after the command; the region of --task-arn or
--execution-arn is used when --region is not given, else your AWS configuration's.

`start` checks that the replication task exists, then invokes the variant's alias asynchronously (a synchronous
invoke of a durable function ends after 15 minutes at most) with an execution name derived from the task, so
starting twice is refused instead of starting two waits. The AWS CLI equivalents are in the README ("Deploy to
your AWS account").

`watch` refreshes one line in place (status, elapsed time, polls or callback rounds, progress percent) until the
execution ends, reading it through GetDurableExecution and GetDurableExecutionHistory; the progress comes from the
last poll's checkpointed state, else from DescribeReplicationTasks. `report` reads the functions' telemetry records
(FilterLogEvents on the log groups named in the stack outputs) and prints the comparison table of `make compare`.
Against the local stand-in (migration-wait-standin) the same commands run unchanged: see docs/operate.md.

Exit codes: 0 done (for status and watch: the execution succeeded or is running); 1 an AWS problem, said in one
line with what to do, or an execution that failed, timed out or was stopped; 2 a usage error (a malformed ARN, say).
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
from pathlib import Path
from typing import Any

import boto3
from aws_durable_execution_sdk_python.exceptions import SerDesError
from aws_durable_execution_sdk_python.serdes import SerDesContext
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
from local_aws.comparison.deployed import deployed_report, parse_record_line, runs_from_records
from local_aws.comparison.prices import DEFAULT_PRICES_FILE, PriceFileError, load_prices
from local_aws.comparison.report import render_table
from scripts.cli import FAILED, OK, USAGE_ERROR, CommandLineParser
from scripts.durations import duration_argument
from waiting.checkpoint_format import CHECKPOINT_JSON

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
# A DMS Serverless replication config (the input {"ReplicationConfigArn", "StartReplicationType"}).
_CONFIG_ARN = re.compile(r"^arn:aws[a-z-]*:dms:(?P<region>[a-z0-9-]+):\d{12}:replication-config:[A-Za-z0-9-]{1,255}$")
_CALLBACK_ID = re.compile(r"^[A-Za-z0-9+/=_-]{1,1024}$")
# The durable functions' log group outputs (template.yaml), by variant: where their telemetry records are.
LOG_GROUP_OUTPUTS = {
    "polling": "PollingFunctionLogGroupName",
    "callback": "CallbackFunctionLogGroupName",
    "third-party": "ThirdPartyJobFunctionLogGroupName",
}
RESOURCES = {"polling": "PollingFunction", "callback": "CallbackFunction", "third-party": "ThirdPartyJobFunction"}
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


def config_arn(value: str) -> str:
    if not _CONFIG_ARN.match(value):
        raise argparse.ArgumentTypeError(
            f"the value is not a DMS replication config ARN (arn:aws:dms:REGION:ACCOUNT:replication-config:ID): "
            f"{value[:300]!r}"
        )
    return value


def callback_id(value: str) -> str:
    if not _CALLBACK_ID.match(value):
        raise argparse.ArgumentTypeError(
            f"the value is not a callback id (as watch or status shows it): {value[:80]!r}"
        )
    return value


def json_value(value: str) -> str:
    try:
        json.loads(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"the value is not JSON ({err}): {value[:100]!r}") from None
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
    task_id = task_arn.rsplit(":", 1)[-1].replace(".", "-")
    return f"{task_id[:50]}-{now:%Y%m%dT%H%M}"


def start(args: argparse.Namespace, client: ClientFactory) -> int:
    work_arn = args.task_arn or args.config_arn
    region = resolve_region(args.region, work_arn)
    alias = stack_output(client, args.stack_name, ALIAS_OUTPUTS[args.variant], region)
    payload: dict[str, str]
    if args.task_arn:
        require_task(client, args.task_arn, region)
        payload = {"ReplicationTaskArn": args.task_arn, "StartReplicationTaskType": args.start_type}
    else:
        # A serverless replication: the functions check it themselves (validated here by its pattern only).
        payload = {"ReplicationConfigArn": args.config_arn, "StartReplicationType": args.start_type}
    name = args.name or execution_name(work_arn, datetime.now(UTC))
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
    return describe_execution(client.get_durable_execution(DurableExecutionArn=execution_arn))


def describe_execution(execution: dict[str, Any]) -> dict[str, Any]:
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
    if args.json:
        print(json.dumps(executions, indent=2, default=str))
        return OK
    if not executions:
        print(f"no {args.status or ''} executions of the {args.variant} variant".replace("  ", " "))
        return OK
    now = datetime.now(UTC)
    rows = [
        (
            str(e.get("DurableExecutionName", "")),
            str(e.get("Status", "")),
            _timestamp(e.get("StartTimestamp")),
            _elapsed(e.get("StartTimestamp"), e.get("EndTimestamp"), now),
            str(e.get("DurableExecutionArn", "")),
        )
        for e in executions
    ]
    print(_table(("name", "status", "started", "elapsed", "execution ARN"), rows))
    return OK


def _table(headers: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = [headers, tuple("-" * w for w in widths), *rows]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines)


def _timestamp(value: Any) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else "-"


def _elapsed(started: Any, ended: Any, now: datetime) -> str:
    if not isinstance(started, datetime):
        return "-"
    seconds = int(((ended if isinstance(ended, datetime) else now) - started).total_seconds())
    days, rest = divmod(max(seconds, 0), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    return (f"{days}d " if days else "") + f"{hours:02d}:{minutes:02d}:{seconds:02d}"


# --- watch ----------------------------------------------------------------------------------------------------


def history(client: Any, execution_arn: str) -> list[dict[str, Any]]:
    """Every event of the execution's history (all pages), with its data."""
    events: list[dict[str, Any]] = []
    marker: str | None = None
    while True:
        request: dict[str, Any] = {"DurableExecutionArn": execution_arn, "IncludeExecutionData": True}
        if marker:
            request["Marker"] = marker
        page = client.get_durable_execution_history(**request)
        events.extend(page.get("Events", []))
        marker = page.get("NextMarker")
        if not marker:
            return events


def _decoded(payload: Any) -> Any:
    """A checkpointed payload as plain data: plain JSON (``waiting.checkpoint_format``), or the SDK's type envelope
    a version before it wrote; None for anything else."""
    if not isinstance(payload, str):
        return None
    try:
        return CHECKPOINT_JSON.deserialize(payload, SerDesContext())
    except (ValueError, SerDesError):
        return None


def _find(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        if key in value:
            return value[key]
        for item in value.values():
            if (found := _find(item, key)) is not None:
                return found
    return None


def progress_view(execution: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
    """What an operator watches: status, elapsed time, polls or callback rounds, the last known progress."""
    polls = 0
    progress: Any = None
    rounds: list[str] = []
    waiting_on: str | None = None
    for event in events:
        kind = event.get("EventType", "")
        if event.get("SubType") == "WaitForCondition" and kind in ("StepSucceeded", "StepFailed"):
            details = event.get(f"{kind}Details") or {}
            polls = max(polls, int((details.get("RetryDetails") or {}).get("CurrentAttempt") or polls + 1))
            state = _decoded((details.get("Result") or {}).get("Payload"))
            if (found := _find(state, "FullLoadProgressPercent")) is not None:
                progress = found
        elif kind == "CallbackStarted":
            rounds.append(str(event.get("Name", "")))
            waiting_on = str((event.get("CallbackStartedDetails") or {}).get("CallbackId") or "") or None
        elif kind in ("CallbackSucceeded", "CallbackFailed", "CallbackTimedOut"):
            waiting_on = None
    return {
        "Status": execution.get("Status"),
        "StartTimestamp": execution.get("StartTimestamp"),
        "EndTimestamp": execution.get("EndTimestamp"),
        "Polls": polls,
        "CallbackRounds": len(rounds),
        "WaitingOnCallbackId": waiting_on if execution.get("Status") == "RUNNING" else None,
        "FullLoadProgressPercent": progress,
    }


def _task_progress(client: ClientFactory, execution: dict[str, Any], region: str) -> Any:
    """FullLoadProgressPercent as DMS reports it now, for the task named in the execution's input (None if unknown)."""
    try:
        task = json.loads(execution.get("InputPayload") or "{}").get("ReplicationTaskArn")
    except (ValueError, AttributeError):
        return None
    if not isinstance(task, str):
        return None
    try:
        with aws_call("dms:DescribeReplicationTasks", region):
            tasks = client("dms", region).describe_replication_tasks(
                Filters=[{"Name": "replication-task-arn", "Values": [task]}], WithoutSettings=True
            )["ReplicationTasks"]
    except AwsCallError:
        return None
    return (tasks[0].get("ReplicationTaskStats") or {}).get("FullLoadProgressPercent") if tasks else None


def watch_line(view: dict[str, Any], now: datetime) -> str:
    parts = [f"{view['Status']:<9}", f"elapsed {_elapsed(view['StartTimestamp'], view['EndTimestamp'], now)}"]
    if view["CallbackRounds"]:
        parts.append(f"callback rounds {view['CallbackRounds']}")
    else:
        parts.append(f"polls {view['Polls']}")
    if view["FullLoadProgressPercent"] is not None:
        parts.append(f"progress {view['FullLoadProgressPercent']}%")
    if view["WaitingOnCallbackId"]:
        parts.append(f"waiting on callback {view['WaitingOnCallbackId'][:60]}")
    return "  ".join(parts)


def watch(args: argparse.Namespace, client: ClientFactory) -> int:
    region = resolve_region(args.region, args.execution_arn)
    in_place = sys.stdout.isatty()
    last_line = ""
    try:
        with aws_call("lambda:GetDurableExecution", region):
            lambda_client = client("lambda", region)
            while True:
                execution = lambda_client.get_durable_execution(DurableExecutionArn=args.execution_arn)
                view = progress_view(execution, history(lambda_client, args.execution_arn))
                if view["FullLoadProgressPercent"] is None and view["Status"] == "RUNNING":
                    view["FullLoadProgressPercent"] = _task_progress(client, execution, region)
                line = watch_line(view, datetime.now(UTC))
                if in_place:
                    print(f"\r\033[K{line}", end="", flush=True)
                elif line != last_line:
                    print(line, flush=True)
                last_line = line
                if view["Status"] in FINISHED:
                    break
                time.sleep(args.interval)
    except AwsCallError as err:
        if _refusal(err)[0] == "ResourceNotFoundException":
            raise AwsCallError(f"no durable execution {args.execution_arn}: check the ARN (from `start`)") from err
        raise
    if in_place:
        print()
    print(json.dumps(describe_execution(execution), indent=2, default=str))
    return OK if view["Status"] == "SUCCEEDED" else FAILED


# --- callbacks by hand ------------------------------------------------------------------------------------------


def _send_callback(args: argparse.Namespace, client: ClientFactory, action: str) -> int:
    region = resolve_region(args.region, None)
    try:
        with aws_call(f"lambda:SendDurableExecutionCallback{action.title()}", region):
            lambda_client = client("lambda", region)
            if action == "success":
                lambda_client.send_durable_execution_callback_success(
                    CallbackId=args.callback_id, Result=args.result.encode()
                )
            else:
                lambda_client.send_durable_execution_callback_failure(
                    CallbackId=args.callback_id, Error={"ErrorType": args.error_type, "ErrorMessage": args.message}
                )
    except AwsCallError as err:
        if _refusal(err)[0] in ("ResourceNotFoundException", "CallbackTimeoutException"):
            raise AwsCallError(
                f"callback {args.callback_id[:60]} is unknown, already completed or timed out: nothing was sent"
            ) from err
        raise
    print(json.dumps({"CallbackId": args.callback_id, "Sent": action}))
    return OK


def complete(args: argparse.Namespace, client: ClientFactory) -> int:
    return _send_callback(args, client, "success")


def fail(args: argparse.Namespace, client: ClientFactory) -> int:
    return _send_callback(args, client, "failure")


# --- report -----------------------------------------------------------------------------------------------------


def telemetry_records(client: ClientFactory, log_group: str, since: datetime, region: str) -> list[dict[str, Any]]:
    """Every telemetry record in ``log_group`` since ``since`` (FilterLogEvents, all pages)."""
    records: list[dict[str, Any]] = []
    request: dict[str, Any] = {
        "logGroupName": log_group,
        "filterPattern": '"DurableExecutionTelemetry"',
        "startTime": int(since.timestamp() * 1000),
    }
    try:
        with aws_call("logs:FilterLogEvents", region):
            logs = client("logs", region)
            while True:
                page = logs.filter_log_events(**request)
                records.extend(r for e in page.get("events", []) if (r := parse_record_line(e.get("message", ""))))
                if not page.get("nextToken"):
                    return records
                request["nextToken"] = page["nextToken"]
    except AwsCallError as err:
        if _refusal(err)[0] == "ResourceNotFoundException":
            return records  # the function has not logged yet
        raise


def report(args: argparse.Namespace, client: ClientFactory) -> int:
    region = resolve_region(args.region, None)
    try:
        prices = load_prices(args.prices)
    except (OSError, PriceFileError) as err:
        raise UsageError(f"--prices {args.prices}: {err}") from err
    since = datetime.now(UTC) - args.since
    records: list[dict[str, Any]] = []
    variant_of_function: dict[str, tuple[str, str]] = {}
    for variant in args.variants:
        alias = stack_output(client, args.stack_name, ALIAS_OUTPUTS[variant], region)
        function = alias.split(":function:", 1)[-1].split(":", 1)[0]
        variant_of_function[function] = (variant, RESOURCES[variant])
        log_group = stack_output(client, args.stack_name, LOG_GROUP_OUTPUTS[variant], region)
        records.extend(telemetry_records(client, log_group, since, region))
    invocations: dict[str, int] = {}
    durations: dict[str, float] = {}
    lambda_client = client("lambda", region)
    for record in records:
        arn = str(record.get("executionArn"))
        try:
            with aws_call("lambda:GetDurableExecutionHistory", region):
                events = history(lambda_client, arn)
                execution = lambda_client.get_durable_execution(DurableExecutionArn=arn)
        except AwsCallError:
            continue  # past its retention: priced from the record alone (the row says so)
        invocations[arn] = sum(1 for e in events if e.get("EventType") == "InvocationCompleted")
        if isinstance(execution.get("StartTimestamp"), datetime) and isinstance(
            execution.get("EndTimestamp"), datetime
        ):
            durations[arn] = (execution["EndTimestamp"] - execution["StartTimestamp"]).total_seconds()
    runs = runs_from_records(records, variant_of_function, invocations, durations)
    built = deployed_report(runs, prices)
    if args.json:
        print(json.dumps(built, indent=2, default=str))
    elif not runs:
        print(f"no telemetry records in the stack's log groups since {since:%Y-%m-%d %H:%M} UTC")
    else:
        print(render_table(built))
        print(f"\n{len(runs)} execution(s) since {since:%Y-%m-%d %H:%M} UTC; prices: {prices.raw.get('region')}")
    return OK


def _parser() -> argparse.ArgumentParser:
    # --region is accepted before and after the command; SUPPRESS keeps a command's unset copy from
    # overwriting a value given before it.
    common = CommandLineParser(add_help=False)
    common.add_argument("--region", default=argparse.SUPPRESS, help="default: the ARN's, else your AWS configuration's")
    parser = CommandLineParser(description=__doc__.splitlines()[0], parents=[common])
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="{start,status,watch,list,complete,fail,report}"
    )

    begin = commands.add_parser("start", parents=[common], help="start waiting for a replication task")
    begin.add_argument("--stack-name", required=True)
    work = begin.add_mutually_exclusive_group(required=True)
    work.add_argument("--task-arn", type=task_arn)
    work.add_argument("--config-arn", type=config_arn, help="a DMS Serverless replication config")
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

    follow = commands.add_parser("watch", parents=[common], help="follow one execution live until it ends")
    follow.add_argument("--execution-arn", required=True, type=execution_arn)
    follow.add_argument("--interval", type=seconds, default=30.0, help="seconds between refreshes (30)")
    follow.set_defaults(run=watch)

    listing = commands.add_parser("list", parents=[common], help="list a variant's executions")
    listing.add_argument("--stack-name", required=True)
    listing.add_argument("--variant", choices=sorted(ALIAS_OUTPUTS), default="polling")
    listing.add_argument("--status", choices=sorted(FINISHED | {"RUNNING"}))
    listing.add_argument("--json", action="store_true", help="Lambda's answer as JSON instead of a table")
    listing.set_defaults(run=list_executions)

    done = commands.add_parser("complete", parents=[common], help="complete a waiting callback by hand")
    done.add_argument("--callback-id", required=True, type=callback_id)
    done.add_argument("--result", type=json_value, default="{}", help="the callback's result, JSON ({})")
    done.set_defaults(run=complete)

    refuse = commands.add_parser("fail", parents=[common], help="fail a waiting callback by hand")
    refuse.add_argument("--callback-id", required=True, type=callback_id)
    refuse.add_argument("--error-type", default="FailedByOperator")
    refuse.add_argument("--message", default="failed by hand with migration-wait-deployed fail")
    refuse.set_defaults(run=fail)

    compare = commands.add_parser("report", parents=[common], help="the comparison table from the stack's executions")
    compare.add_argument("--stack-name", required=True)
    compare.add_argument(
        "--variants",
        type=lambda v: [x for x in v.split(",") if x],
        default=["polling", "callback"],
        help="comma-separated (polling,callback; third-party too if deployed)",
    )
    compare.add_argument("--since", type=duration_argument, default=duration_argument("7d"), help="how far back (7d)")
    compare.add_argument("--prices", type=Path, default=DEFAULT_PRICES_FILE, help="price file (default: bundled)")
    compare.add_argument("--json", action="store_true", help="report.json's shape instead of the table")
    compare.set_defaults(run=report)
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
