"""The Lambda callback adapter: botocore's answers mapped onto the error tree, and the local endpoint behind it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, WaitForCallbackConfig
from aws_durable_execution_sdk_python.exceptions import CallbackExternalError
from botocore.stub import Stubber

from local_aws.callback_endpoint import LocalCallbackEndpoint
from local_aws.durable_runner import LocalDurableRunner, local_durable_runner
from local_aws.environment import patched_environment
from migration_wait.callback_sender import CallbackSender
from migration_wait.errors import CallbackClosedError, CallbackDeliveryUnavailableError, CallbackRejectedError

CALLBACK_NAME = "wait-for-test create callback id"


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("CallbackTimeoutException", 400, CallbackClosedError),
        ("ResourceNotFoundException", 404, CallbackClosedError),
        ("TooManyRequestsException", 429, CallbackDeliveryUnavailableError),
        ("ServiceException", 500, CallbackDeliveryUnavailableError),
        ("InvalidParameterValueException", 400, CallbackRejectedError),
        ("AccessDeniedException", 403, CallbackRejectedError),
    ],
)
def test_lambda_errors_map_onto_the_error_tree(code: str, status: int, expected: type[Exception]) -> None:
    client = boto3.client("lambda", region_name="us-east-1")
    sender = CallbackSender(client=client)
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "send_durable_execution_callback_success", service_error_code=code, http_status_code=status
        )

        with pytest.raises(expected, match=code):
            sender.succeed("Y2FsbGJhY2s=", "{}")


@durable_execution
def _waits_for_one_callback(event: Any, context: DurableContext) -> Any:
    try:
        return context.wait_for_callback(
            lambda _callback_id, _ctx: None,
            name="wait-for-test",
            config=WaitForCallbackConfig(timeout=Duration.from_seconds(60)),
        )
    except CallbackExternalError as err:
        return {"failed": err.message, "data": err.data}


@pytest.fixture
def endpoint_runner() -> Iterator[tuple[LocalDurableRunner, LocalCallbackEndpoint]]:
    with (
        local_durable_runner(_waits_for_one_callback) as local,
        LocalCallbackEndpoint(local.runner) as endpoint,
        patched_environment({"AWS_ENDPOINT_URL_LAMBDA": endpoint.url}),
    ):
        yield local, endpoint


def test_a_success_sent_through_the_local_endpoint_reaches_the_execution(
    endpoint_runner: tuple[LocalDurableRunner, LocalCallbackEndpoint],
) -> None:
    local, endpoint = endpoint_runner
    arn = local.start({})
    callback_id = local.runner.wait_for_callback(arn, name=CALLBACK_NAME)

    CallbackSender().succeed(callback_id, '{"Status": "stopped"}')

    measured = local.wait(arn)
    assert measured.status == "SUCCEEDED", measured.error
    assert measured.result == '{"Status": "stopped"}'
    assert endpoint.accepted["succeed"] == 1


def test_a_failure_sent_through_the_local_endpoint_carries_its_message_and_data(
    endpoint_runner: tuple[LocalDurableRunner, LocalCallbackEndpoint],
) -> None:
    local, _ = endpoint_runner
    arn = local.start({})
    callback_id = local.runner.wait_for_callback(arn, name=CALLBACK_NAME)

    CallbackSender().fail(callback_id, "ReplicationTaskFailed", "ORA-01555", json.dumps({"Status": "failed"}))

    measured = local.wait(arn)
    assert measured.result == {"failed": "ORA-01555", "data": '{"Status": "failed"}'}


def test_a_second_completion_is_refused_as_closed_and_changes_nothing(
    endpoint_runner: tuple[LocalDurableRunner, LocalCallbackEndpoint],
) -> None:
    local, endpoint = endpoint_runner
    arn = local.start({})
    callback_id = local.runner.wait_for_callback(arn, name=CALLBACK_NAME)
    CallbackSender().succeed(callback_id, "first")
    local.wait(arn)

    with pytest.raises(CallbackClosedError, match="ResourceNotFoundException"):
        CallbackSender().succeed(callback_id, "second")

    assert local.measure(arn).result == "first"
    assert (endpoint.accepted["succeed"], endpoint.refused["succeed"]) == (1, 1)


def test_an_unknown_callback_is_refused_as_closed(
    endpoint_runner: tuple[LocalDurableRunner, LocalCallbackEndpoint],
) -> None:
    with pytest.raises(CallbackClosedError):
        CallbackSender().fail("bm8tc3VjaC1jYWxsYmFjaw==", "T", "m", "{}")


def test_a_heartbeat_for_a_waiting_callback_is_accepted(
    endpoint_runner: tuple[LocalDurableRunner, LocalCallbackEndpoint],
) -> None:
    local, endpoint = endpoint_runner
    arn = local.start({})
    callback_id = local.runner.wait_for_callback(arn, name=CALLBACK_NAME)

    boto3.client("lambda").send_durable_execution_callback_heartbeat(CallbackId=callback_id)

    assert endpoint.accepted["heartbeat"] == 1
    CallbackSender().succeed(callback_id, '"done"')
    assert local.wait(arn).status == "SUCCEEDED"
