"""scripts/deployed.py against stubbed AWS: what it asks Lambda, DMS and CloudFormation, and what it prints; and, run
as the installed command against a stand-in endpoint, one line and exit 1 for every AWS problem, exit 2 for every
usage mistake, never a traceback."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from scripts import deployed
from tests.fake_aws_endpoint import (
    Answer,
    FakeAwsEndpoint,
    cloudformation_error,
    cloudformation_stack,
    json_answer,
    json_error,
    rest_json_error,
)
from tests.installed_commands import (
    DUMMY_CREDENTIALS,
    assert_one_line_error,
    console_command,
    isolated_environment,
    run,
)

REGION = "us-east-1"
ALIAS = "arn:aws:lambda:us-east-1:123456789012:function:mw-PollingFunction-X:live"
TASK = "arn:aws:dms:us-east-1:123456789012:task:ORDERS"
EXECUTION = f"{ALIAS}/durable-execution/ORDERS-20261126T1200/1"
STARTED = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture
def aws() -> dict[str, tuple[Any, Stubber]]:
    clients = {name: boto3.client(name, region_name=REGION) for name in ("lambda", "cloudformation", "dms")}
    return {name: (client, Stubber(client)) for name, client in clients.items()}


def _factory(aws: dict[str, tuple[Any, Stubber]], regions: list[str] | None = None) -> deployed.ClientFactory:
    def client(service: str, region: str) -> Any:
        if regions is not None:
            regions.append(region)
        return aws[service][0]

    return client


def _stack_has_alias(stubber: Stubber) -> None:
    stubber.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": "mw",
                    "CreationTime": STARTED,
                    "StackStatus": "CREATE_COMPLETE",
                    "Outputs": [{"OutputKey": "PollingFunctionAlias", "OutputValue": ALIAS}],
                }
            ]
        },
        {"StackName": "mw"},
    )


def _task_exists(stubber: Stubber) -> None:
    stubber.add_response(
        "describe_replication_tasks",
        {"ReplicationTasks": [{"ReplicationTaskArn": TASK}]},
        {"Filters": [{"Name": "replication-task-arn", "Values": [TASK]}], "WithoutSettings": True},
    )


def test_start_invokes_the_alias_asynchronously_with_a_named_execution(
    aws: dict[str, tuple[Any, Stubber]], capsys: pytest.CaptureFixture[str]
) -> None:
    _stack_has_alias(aws["cloudformation"][1])
    _task_exists(aws["dms"][1])
    payload = {"ReplicationTaskArn": TASK, "StartReplicationTaskType": "reload-target"}
    aws["lambda"][1].add_response(
        "invoke",
        {"StatusCode": 202, "DurableExecutionArn": EXECUTION},
        {
            "FunctionName": ALIAS,
            "InvocationType": "Event",
            "DurableExecutionName": "orders-run-1",
            "Payload": json.dumps(payload).encode(),
        },
    )

    with aws["cloudformation"][1], aws["dms"][1], aws["lambda"][1]:
        code = deployed.main(
            [
                "start",
                "--stack-name",
                "mw",
                "--task-arn",
                TASK,
                "--start-type",
                "reload-target",
                "--name",
                "orders-run-1",
            ],
            client=_factory(aws),
        )

    assert code == 0
    assert json.loads(capsys.readouterr().out) == {"DurableExecutionArn": EXECUTION, "Name": "orders-run-1"}


def test_the_default_execution_name_is_the_task_id_and_the_minute() -> None:
    assert deployed.execution_name(TASK, STARTED) == "ORDERS-20261126T1200"


def test_status_shows_the_result_of_a_finished_execution(
    aws: dict[str, tuple[Any, Stubber]], capsys: pytest.CaptureFixture[str]
) -> None:
    aws["lambda"][1].add_response(
        "get_durable_execution",
        {
            "DurableExecutionArn": EXECUTION,
            "DurableExecutionName": "x",
            "FunctionArn": ALIAS,
            "StartTimestamp": STARTED,
            "Status": "SUCCEEDED",
            "Result": json.dumps({"Status": "stopped"}),
        },
        {"DurableExecutionArn": EXECUTION},
    )

    with aws["lambda"][1]:
        code = deployed.main(["status", "--execution-arn", EXECUTION], client=_factory(aws))

    shown = json.loads(capsys.readouterr().out)
    assert code == 0
    assert shown["Status"] == "SUCCEEDED"
    assert shown["Result"] == {"Status": "stopped"}


def test_status_of_a_failed_execution_exits_non_zero(aws: dict[str, tuple[Any, Stubber]]) -> None:
    aws["lambda"][1].add_response(
        "get_durable_execution",
        {
            "DurableExecutionArn": EXECUTION,
            "DurableExecutionName": "x",
            "FunctionArn": ALIAS,
            "StartTimestamp": STARTED,
            "Status": "FAILED",
            "Error": {"ErrorType": "ReplicationTaskFailedError", "ErrorMessage": "failed"},
        },
        {"DurableExecutionArn": EXECUTION},
    )

    with aws["lambda"][1]:
        code = deployed.main(["status", "--execution-arn", EXECUTION], client=_factory(aws))

    assert code == 1


def test_list_asks_for_the_alias_executions_in_the_requested_status(aws: dict[str, tuple[Any, Stubber]]) -> None:
    _stack_has_alias(aws["cloudformation"][1])
    function = ALIAS.rsplit(":", 1)[0]
    aws["lambda"][1].add_response(
        "list_durable_executions_by_function",
        {"DurableExecutions": []},
        {"FunctionName": function, "Qualifier": "live", "Statuses": ["RUNNING"]},
    )

    with aws["cloudformation"][1], aws["lambda"][1]:
        code = deployed.main(["list", "--stack-name", "mw", "--status", "RUNNING"], client=_factory(aws))

    assert code == 0
    aws["lambda"][1].assert_no_pending_responses()


def test_a_stack_without_the_output_is_reported_by_name(
    aws: dict[str, tuple[Any, Stubber]], capsys: pytest.CaptureFixture[str]
) -> None:
    aws["cloudformation"][1].add_response(
        "describe_stacks",
        {"Stacks": [{"StackName": "mw", "CreationTime": STARTED, "StackStatus": "CREATE_COMPLETE"}]},
        {"StackName": ANY},
    )

    with aws["cloudformation"][1]:
        code = deployed.main(
            ["start", "--stack-name", "mw", "--task-arn", TASK, "--variant", "callback"], client=_factory(aws)
        )

    assert code == 1
    assert "stack mw has no output CallbackFunctionAlias" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["--region", "eu-west-1", "list", "--stack-name", "mw"],
        ["list", "--stack-name", "mw", "--region", "eu-west-1"],
    ],
    ids=["before the command", "after the command"],
)
def test_region_is_accepted_before_or_after_the_command(argv: list[str], aws: dict[str, tuple[Any, Stubber]]) -> None:
    _stack_has_alias(aws["cloudformation"][1])
    aws["lambda"][1].add_response("list_durable_executions_by_function", {"DurableExecutions": []}, None)
    regions: list[str] = []

    with aws["cloudformation"][1], aws["lambda"][1]:
        code = deployed.main(argv, client=_factory(aws, regions))

    assert code == 0
    assert set(regions) == {"eu-west-1"}, f"clients were made for {regions}"


def test_the_region_comes_from_the_task_arn_when_none_is_given(aws: dict[str, tuple[Any, Stubber]]) -> None:
    task = TASK.replace("us-east-1", "ap-southeast-2")
    aws["cloudformation"][1].add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": "mw",
                    "CreationTime": STARTED,
                    "StackStatus": "CREATE_COMPLETE",
                    "Outputs": [{"OutputKey": "PollingFunctionAlias", "OutputValue": ALIAS}],
                }
            ]
        },
        {"StackName": "mw"},
    )
    aws["dms"][1].add_response("describe_replication_tasks", {"ReplicationTasks": [{"ReplicationTaskArn": task}]})
    aws["lambda"][1].add_response("invoke", {"StatusCode": 202, "DurableExecutionArn": EXECUTION})
    regions: list[str] = []

    with aws["cloudformation"][1], aws["dms"][1], aws["lambda"][1]:
        code = deployed.main(["start", "--stack-name", "mw", "--task-arn", task], client=_factory(aws, regions))

    assert code == 0
    assert set(regions) == {"ap-southeast-2"}, f"clients were made for {regions}"


# --- the installed command, as a user runs it: every mistake and every AWS problem is one line, never a traceback

STACK_WITH_ALIAS = cloudformation_stack("mw", {"PollingFunctionAlias": ALIAS})
TASK_FOUND = json_answer({"ReplicationTasks": [{"ReplicationTaskArn": TASK}]})
START = ["start", "--stack-name", "mw", "--task-arn", TASK]
STATUS = ["status", "--execution-arn", EXECUTION]


def _closed_port() -> int:
    """A loopback port nothing listens on: a connection to it is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["start", "--stack-name", "mw", "--task-arn", "arn:aws:dms:us-east-1:1:task:X"], ["not a DMS replication"]),
        (["start", "--stack-name", "mw", "--task-arn", TASK, "--name", "no spaces"], ["--name", "1 to 64"]),
        (["status", "--execution-arn", "arn:aws:lambda:us-east-1:123456789012:function:f"], ["durable execution"]),
        (["status", "--execution-arn", EXECUTION, "--wait", "--interval", "-1"], ["--interval", "positive"]),
        (["--region", "eu-west-1", *START], ["--region eu-west-1 contradicts the ARN", "us-east-1"]),
        (["start", "--stack-name", "mw"], ["--task-arn"]),
        (["stop"], ["invalid choice: 'stop'"]),
        ([], ["required"]),
    ],
    ids=["task-arn", "name", "execution-arn", "interval", "region-contradicts", "missing-option", "command", "none"],
)
def test_a_usage_mistake_is_one_line_and_exit_2(argv: list[str], fragments: list[str], tmp_path: Path) -> None:
    env = isolated_environment(tmp_path, AWS_ENDPOINT_URL=f"http://127.0.0.1:{_closed_port()}", **DUMMY_CREDENTIALS)

    result = run([console_command("migration-wait-deployed"), *argv], env)

    assert_one_line_error(result, 2, *fragments)


def test_no_region_anywhere_says_how_to_set_one(tmp_path: Path) -> None:
    env = isolated_environment(tmp_path, **DUMMY_CREDENTIALS)

    result = run([console_command("migration-wait-deployed"), "list", "--stack-name", "mw"], env)

    assert_one_line_error(result, 1, "no AWS region", "--region", "AWS_REGION")


def test_no_credentials_says_how_to_get_them(tmp_path: Path) -> None:
    with FakeAwsEndpoint({"cloudformation": STACK_WITH_ALIAS}) as aws:
        env = isolated_environment(tmp_path, AWS_ENDPOINT_URL=aws.url)

        result = run([console_command("migration-wait-deployed"), *START], env)

    assert_one_line_error(result, 1, "no AWS credentials", "aws configure")
    assert aws.asked == [], "a request was sent without credentials"


def test_a_missing_profile_says_which(tmp_path: Path) -> None:
    env = isolated_environment(tmp_path, AWS_PROFILE="nobody")

    result = run([console_command("migration-wait-deployed"), *START], env)

    assert_one_line_error(result, 1, "nobody", "AWS_PROFILE")


def test_an_unreachable_endpoint_says_so(tmp_path: Path) -> None:
    env = isolated_environment(tmp_path, AWS_ENDPOINT_URL=f"http://127.0.0.1:{_closed_port()}", **DUMMY_CREDENTIALS)

    result = run([console_command("migration-wait-deployed"), *START], env)

    assert_one_line_error(result, 1, "cannot reach AWS", "cloudformation:DescribeStacks", "AWS_ENDPOINT_URL")


@pytest.mark.parametrize(
    ("argv", "answers", "fragments"),
    [
        (
            START,
            {"cloudformation": cloudformation_error("AccessDenied", "not authorized to perform DescribeStacks", 403)},
            ["access denied to cloudformation:DescribeStacks in us-east-1", "need that permission"],
        ),
        (
            START,
            {"cloudformation": cloudformation_error("ValidationError", "Stack with id mw does not exist")},
            ["no stack mw in us-east-1", "--stack-name"],
        ),
        (
            START,
            {"cloudformation": cloudformation_stack("mw", {"SomethingElse": "x"})},
            ["stack mw has no output PollingFunctionAlias"],
        ),
        (
            START,
            {
                "cloudformation": STACK_WITH_ALIAS,
                "dms": json_error("ResourceNotFoundFault", "No Tasks found matching provided filters"),
            },
            [f"no replication task {TASK} in us-east-1"],
        ),
        (
            START,
            {"cloudformation": STACK_WITH_ALIAS, "dms": json_answer({"ReplicationTasks": []})},
            [f"no replication task {TASK}"],
        ),
        (
            START,
            {
                "cloudformation": STACK_WITH_ALIAS,
                "dms": TASK_FOUND,
                "lambda": rest_json_error("DurableExecutionAlreadyStartedException", "exists", 409),
            },
            ["already exists", "--name"],
        ),
        (
            START,
            {"cloudformation": cloudformation_error("Throttling", "Rate exceeded")},
            ["AWS throttled cloudformation:DescribeStacks", "run the command again"],
        ),
        (
            START,
            {"cloudformation": cloudformation_error("ExpiredToken", "The security token included has expired", 403)},
            ["did not accept your credentials (ExpiredToken)", "aws sso login"],
        ),
        (
            STATUS,
            {"lambda": rest_json_error("ResourceNotFoundException", "Durable execution not found", 404)},
            ["no durable execution", "check the ARN"],
        ),
        (
            STATUS,
            {"lambda": rest_json_error("TooManyRequestsException", "Rate exceeded", 429)},
            ["AWS throttled lambda:GetDurableExecution"],
        ),
        (
            ["list", "--stack-name", "mw", "--region", "us-east-1"],
            {"cloudformation": STACK_WITH_ALIAS, "lambda": rest_json_error("AccessDeniedException", "no", 403)},
            ["access denied to lambda:ListDurableExecutionsByFunction"],
        ),
    ],
    ids=[
        "access-denied",
        "stack-not-found",
        "stack-without-output",
        "task-not-found",
        "task-not-listed",
        "execution-name-taken",
        "throttled",
        "expired-credentials",
        "execution-not-found",
        "lambda-throttled",
        "lambda-access-denied",
    ],
)
def test_an_aws_refusal_is_one_line_saying_what_to_do_and_exit_1(
    argv: list[str], answers: dict[str, Answer], fragments: list[str], tmp_path: Path
) -> None:
    with FakeAwsEndpoint(answers) as aws:
        env = isolated_environment(tmp_path, AWS_ENDPOINT_URL=aws.url, **DUMMY_CREDENTIALS)

        result = run([console_command("migration-wait-deployed"), *argv], env)

    assert_one_line_error(result, 1, *fragments)


def test_start_against_the_stand_in_prints_the_execution(tmp_path: Path) -> None:
    answers = {
        "cloudformation": STACK_WITH_ALIAS,
        "dms": TASK_FOUND,
        "lambda": Answer(202, b"", {"X-Amz-Durable-Execution-Arn": EXECUTION}),
    }
    with FakeAwsEndpoint(answers) as aws:
        env = isolated_environment(tmp_path, AWS_ENDPOINT_URL=aws.url, **DUMMY_CREDENTIALS)

        result = run([console_command("migration-wait-deployed"), *START, "--name", "orders-1"], env)

    assert result.code == 0, str(result)
    assert json.loads(result.stdout) == {"DurableExecutionArn": EXECUTION, "Name": "orders-1"}
    assert aws.asked == ["cloudformation", "dms", "lambda"]


def _poll_event(payload: str) -> dict[str, Any]:
    return {
        "EventType": "StepSucceeded",
        "SubType": "WaitForCondition",
        "StepSucceededDetails": {"Result": {"Payload": payload}, "RetryDetails": {"CurrentAttempt": 4}},
    }


@pytest.mark.parametrize(
    "payload",
    [
        '{"Polls":4,"Snapshot":{"Status":"running","FullLoadProgressPercent":40}}',
        json.dumps(
            {
                "t": "m",
                "v": {
                    "Polls": {"t": "i", "v": 4},
                    "Snapshot": {"t": "m", "v": {"FullLoadProgressPercent": {"t": "i", "v": 40}}},
                },
            }
        ),
    ],
    ids=["plain-json", "sdk-envelope-of-an-earlier-version"],
)
def test_watch_reads_the_poll_state_in_either_checkpoint_format(payload: str) -> None:
    view = deployed.progress_view({"Status": "RUNNING"}, [_poll_event(payload)])

    assert (view["Polls"], view["FullLoadProgressPercent"]) == (4, 40)


def test_watch_ignores_a_poll_state_it_cannot_read() -> None:
    view = deployed.progress_view({"Status": "RUNNING"}, [_poll_event("not json")])

    assert (view["Polls"], view["FullLoadProgressPercent"]) == (4, None)
