"""scripts/deployed.py against stubbed AWS: what it asks Lambda and CloudFormation, and what it prints."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from scripts import deployed

REGION = "us-east-1"
ALIAS = "arn:aws:lambda:us-east-1:123456789012:function:mw-PollingFunction-X:live"
TASK = "arn:aws:dms:us-east-1:123456789012:task:ORDERS"
EXECUTION = f"{ALIAS}/durable-execution/ORDERS-20261126T1200/1"
STARTED = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture
def aws() -> dict[str, tuple[Any, Stubber]]:
    clients = {name: boto3.client(name, region_name=REGION) for name in ("lambda", "cloudformation")}
    return {name: (client, Stubber(client)) for name, client in clients.items()}


def _factory(aws: dict[str, tuple[Any, Stubber]]) -> deployed.ClientFactory:
    return lambda service, region: aws[service][0]


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


def test_start_invokes_the_alias_asynchronously_with_a_named_execution(
    aws: dict[str, tuple[Any, Stubber]], capsys: pytest.CaptureFixture[str]
) -> None:
    _stack_has_alias(aws["cloudformation"][1])
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

    with aws["cloudformation"][1], aws["lambda"][1]:
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


def test_a_stack_without_the_output_is_reported_by_name(aws: dict[str, tuple[Any, Stubber]]) -> None:
    aws["cloudformation"][1].add_response(
        "describe_stacks",
        {"Stacks": [{"StackName": "mw", "CreationTime": STARTED, "StackStatus": "CREATE_COMPLETE"}]},
        {"StackName": ANY},
    )

    with aws["cloudformation"][1], pytest.raises(SystemExit, match="CallbackFunctionAlias"):
        deployed.main(
            ["start", "--stack-name", "mw", "--task-arn", TASK, "--variant", "callback"], client=_factory(aws)
        )
