"""Cloud mode's plumbing, without an AWS account: stack outputs, credentials, and the cloud runner's answers.

botocore's Stubber plays CloudFormation, STS and Lambda, so these run in every `make test`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from tests.runner_modes import (
    CloudBackend,
    CloudSettings,
    CloudStack,
    CloudStackError,
    capture_cloud_settings,
    open_cloud_stack,
)

REGION = "eu-west-1"
ACCOUNT = "210987654321"
ALIAS = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:migration-wait-PollingFunction-AbC:live"
EXECUTION = f"{ALIAS}/durable-execution/run-1/0f4c"
STARTED = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


class StubbedStack(CloudStack):
    """A CloudStack whose clients are the stubbed ones handed in."""

    def __init__(self, clients: dict[str, Any], outputs: dict[str, str]) -> None:
        super().__init__("migration-wait", REGION, ACCOUNT, outputs, boto3.Session(region_name=REGION))
        object.__setattr__(self, "_clients", clients)

    def client(self, service: str, **config: Any) -> Any:
        return self._clients[service]  # type: ignore[attr-defined]


def _lambda_client() -> tuple[Any, Stubber]:
    client = boto3.client("lambda", region_name=REGION)
    return client, Stubber(client)


def _backend(client: Any, **outputs: str) -> CloudBackend:
    stack = StubbedStack({"lambda": client}, outputs or {"PollingFunctionAlias": ALIAS})
    return CloudBackend("polling", stack, dms_task_arn=None, timeout_seconds=30)


def _expect_start(stubber: Stubber, payload: dict[str, Any]) -> None:
    stubber.add_response(
        "invoke",
        {"StatusCode": 202, "DurableExecutionArn": EXECUTION},
        {"FunctionName": ALIAS, "InvocationType": "Event", "Payload": json.dumps(payload)},
    )


def _expect_end(stubber: Stubber, status: str, **outcome: Any) -> None:
    execution = {
        "DurableExecutionArn": EXECUTION,
        "DurableExecutionName": "run-1",
        "FunctionArn": ALIAS,
        "StartTimestamp": STARTED,
        "Status": status,
        **outcome,
    }
    stubber.add_response("get_durable_execution", execution, {"DurableExecutionArn": EXECUTION})
    stubber.add_response(
        "get_durable_execution_history",
        {"Events": []},
        {"DurableExecutionArn": EXECUTION, "IncludeExecutionData": True},
    )


def test_a_cloud_run_starts_the_alias_asynchronously_and_reports_the_result() -> None:
    client, stubber = _lambda_client()
    payload = {"ReplicationTaskArn": f"arn:aws:dms:{REGION}:{ACCOUNT}:task:ORDERS"}
    _expect_start(stubber, payload)
    _expect_end(stubber, "SUCCEEDED", Result=json.dumps({"Variant": "polling", "Status": "stopped"}))

    with stubber:
        outcome = _backend(client).run(payload)

    stubber.assert_no_pending_responses()
    assert outcome.status == "SUCCEEDED"
    assert outcome.result == {"Variant": "polling", "Status": "stopped"}
    assert outcome.execution_arn == EXECUTION
    assert outcome.error is None


def test_a_failed_cloud_execution_reports_its_error() -> None:
    client, stubber = _lambda_client()
    _expect_start(stubber, {})
    _expect_end(stubber, "FAILED", Error={"ErrorType": "InvalidMigrationRequestError", "ErrorMessage": "required"})

    with stubber:
        outcome = _backend(client).run({})

    assert outcome.status == "FAILED"
    assert outcome.error == {"ErrorType": "InvalidMigrationRequestError", "ErrorMessage": "required"}
    assert outcome.error_message == "required"


def test_a_timed_out_cloud_execution_is_not_reported_as_a_plain_failure() -> None:
    client, stubber = _lambda_client()
    _expect_start(stubber, {})
    _expect_end(stubber, "TIMED_OUT")

    with stubber:
        outcome = _backend(client).run({})

    assert outcome.status == "TIMED_OUT"


def test_a_stack_without_the_variants_output_is_an_error_naming_the_output() -> None:
    client, _ = _lambda_client()

    with pytest.raises(CloudStackError, match="PollingFunctionAlias"):
        _backend(client, SomethingElse="x").run({})


def test_task_arns_for_cloud_scenarios_are_in_the_stacks_account_and_region_or_plainly_foreign() -> None:
    client, _ = _lambda_client()
    backend = _backend(client)

    assert backend.unknown_task().startswith(f"arn:aws:dms:{REGION}:{ACCOUNT}:task:")
    assert f":{ACCOUNT}:" not in backend.foreign_account_task()
    with pytest.raises(pytest.skip.Exception, match="--dms-task-arn"):
        backend.finishing_task(duration=None)  # type: ignore[arg-type]


def test_the_real_task_is_started_the_way_the_command_line_says() -> None:
    client, _ = _lambda_client()
    stack = StubbedStack({"lambda": client}, {"PollingFunctionAlias": ALIAS})
    task = f"arn:aws:dms:{REGION}:{ACCOUNT}:task:TESTTASK"
    backend = CloudBackend("polling", stack, dms_task_arn=task, timeout_seconds=30, dms_task_start_type="reload-target")

    request = backend.finishing_task(duration=None)  # type: ignore[arg-type]

    assert request == {"ReplicationTaskArn": task, "StartReplicationTaskType": "reload-target"}


def _settings(session: boto3.Session) -> CloudSettings:
    return CloudSettings("migration-wait", session, REGION, None, 30)


def test_stack_outputs_and_account_are_read_with_the_captured_session(monkeypatch: pytest.MonkeyPatch) -> None:
    session = boto3.Session(region_name=REGION)
    cloudformation = session.client("cloudformation", region_name=REGION)
    sts = session.client("sts", region_name=REGION)
    clients = {"cloudformation": cloudformation, "sts": sts}
    monkeypatch.setattr(session, "client", lambda service, **_: clients[service])
    with Stubber(cloudformation) as cfn, Stubber(sts) as identity:
        cfn.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {
                        "StackName": "migration-wait",
                        "CreationTime": STARTED,
                        "StackStatus": "UPDATE_COMPLETE",
                        "Outputs": [{"OutputKey": "PollingFunctionAlias", "OutputValue": ALIAS}],
                    }
                ]
            },
            {"StackName": "migration-wait"},
        )
        identity.add_response(
            "get_caller_identity", {"Account": ACCOUNT, "Arn": "arn:aws:iam::x:user/u", "UserId": "u"}, {}
        )

        stack = open_cloud_stack(_settings(session))

    assert stack.outputs == {"PollingFunctionAlias": ALIAS}
    assert stack.account == ACCOUNT
    assert stack.region == REGION


@pytest.mark.parametrize("status", ["ROLLBACK_COMPLETE", "CREATE_IN_PROGRESS", "DELETE_COMPLETE"])
def test_a_stack_that_is_not_deployed_is_refused(monkeypatch: pytest.MonkeyPatch, status: str) -> None:
    session = boto3.Session(region_name=REGION)
    cloudformation = session.client("cloudformation", region_name=REGION)
    sts = session.client("sts", region_name=REGION)
    clients = {"cloudformation": cloudformation, "sts": sts}
    monkeypatch.setattr(session, "client", lambda service, **_: clients[service])
    with Stubber(cloudformation) as cfn, Stubber(sts) as identity:
        cfn.add_response(
            "describe_stacks",
            {"Stacks": [{"StackName": "migration-wait", "CreationTime": STARTED, "StackStatus": status}]},
            {"StackName": ANY},
        )
        identity.add_response("get_caller_identity", {"Account": ACCOUNT}, {})

        with pytest.raises(CloudStackError, match=status):
            open_cloud_stack(_settings(session))


def test_without_credentials_cloud_mode_reports_why_instead_of_calling_aws(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.write_text("")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    monkeypatch.delenv("AWS_WEB_IDENTITY_TOKEN_FILE", raising=False)

    settings = capture_cloud_settings("migration-wait", None, 30, environ={})

    assert settings.unavailable is not None
    assert "credentials" in settings.unavailable
    assert settings.session is None


def test_credentials_and_region_are_resolved_once_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALLOOKING")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "real-secret")
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)

    settings = capture_cloud_settings("migration-wait", None, 30, environ={})
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")

    assert settings.unavailable is None
    assert settings.region == REGION
    assert settings.session is not None
    credentials = settings.session.get_credentials()
    assert credentials is not None
    assert credentials.get_frozen_credentials().access_key == "AKIAREALLOOKING"
