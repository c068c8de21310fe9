"""The Lambda callback adapter: botocore's answers mapped onto the error tree, its own retries, the local endpoint
behind it, and exactly one answer when a completion was applied but its answer was lost."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, cast

import boto3
import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, WaitForCallbackConfig
from aws_durable_execution_sdk_python.exceptions import CallbackExternalError
from botocore.stub import Stubber

from aws_adapters.callback_sender import CallbackSender
from aws_adapters.clients import lambda_callback_client, lambda_client
from local_aws.callback_endpoint import LocalCallbackEndpoint
from local_aws.durable_runner import LocalDurableRunner, local_durable_runner
from local_aws.environment import patched_environment
from tests.aws_faults import LostAnswers, RefusedConnections, send_over_http
from waiting.errors import CallbackClosedError, CallbackDeliveryUnavailableError, CallbackRejectedError

CALLBACK_NAME = "wait-for-test create callback id"
SUCCESS = "SendDurableExecutionCallbackSuccess"
FAILURE = "SendDurableExecutionCallbackFailure"
SEND_SUCCESS = "send_durable_execution_callback_success"
SEND_FAILURE = "send_durable_execution_callback_failure"


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
    sender = CallbackSender(client=client, attempts=1)
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


# --- the sender's own retries (botocore's are off for the two sends) -------------------------------------------


class RecordedSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def _stubbed_sender(**kwargs: Any) -> tuple[CallbackSender, Stubber, RecordedSleep]:
    client = boto3.client("lambda", region_name="us-east-1")
    sleep = RecordedSleep()
    return CallbackSender(client=client, sleep=sleep, **kwargs), Stubber(client), sleep


def _history(*events: dict[str, Any]) -> dict[str, Any]:
    return {"Events": list(events)}


def _started(callback_id: str) -> dict[str, Any]:
    return {"EventType": "CallbackStarted", "Id": "op", "CallbackStartedDetails": {"CallbackId": callback_id}}


def _succeeded(payload: str) -> dict[str, Any]:
    result = {"Payload": payload, "Truncated": False}
    return {"EventType": "CallbackSucceeded", "Id": "op", "CallbackSucceededDetails": {"Result": result}}


CALLBACK_ID = "Y2FsbGJhY2s="
EXECUTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:CallbackFunction:3/durable-execution/run/1"


def test_the_callback_clients_have_botocore_retries_off_for_the_sends_only() -> None:
    assert lambda_callback_client().meta.config.retries["total_max_attempts"] == 1
    assert lambda_client().meta.config.retries.get("total_max_attempts") != 1, "reads may be retried by botocore"


def test_server_errors_are_retried_with_backoff_and_then_raised_as_retryable() -> None:
    sender, stubber, sleep = _stubbed_sender()
    for _ in range(3):
        stubber.add_client_error("send_durable_execution_callback_success", "ServiceException", http_status_code=500)

    with stubber, pytest.raises(CallbackDeliveryUnavailableError, match="3 attempts: ServiceException"):
        sender.succeed(CALLBACK_ID, "{}", execution_arn=EXECUTION_ARN)

    stubber.assert_no_pending_responses()
    assert sleep.delays == [0.1, 0.2]


def test_a_throttled_send_is_retried_and_then_delivered() -> None:
    sender, stubber, sleep = _stubbed_sender()
    stubber.add_client_error(SEND_FAILURE, "TooManyRequestsException", http_status_code=429)
    stubber.add_response("send_durable_execution_callback_failure", {})

    with stubber:
        sender.fail(CALLBACK_ID, "ReplicationTaskFailed", "ORA-01555", "{}", execution_arn=EXECUTION_ARN)

    stubber.assert_no_pending_responses()
    assert sleep.delays == [0.1]


def test_closed_after_a_throttled_attempt_is_closed_without_reading_the_history() -> None:
    # Throttling is not ambiguous: the throttled request was not applied, so someone else closed the callback.
    sender, stubber, _ = _stubbed_sender()
    stubber.add_client_error(SEND_SUCCESS, "TooManyRequestsException", http_status_code=429)
    stubber.add_client_error(SEND_SUCCESS, "CallbackTimeoutException", http_status_code=400)

    with stubber, pytest.raises(CallbackClosedError):
        sender.succeed(CALLBACK_ID, "{}", execution_arn=EXECUTION_ARN)

    stubber.assert_no_pending_responses()


def test_closed_after_a_server_error_counts_as_delivered_when_the_history_shows_this_result() -> None:
    sender, stubber, _ = _stubbed_sender()
    stubber.add_client_error("send_durable_execution_callback_success", "ServiceException", http_status_code=500)
    stubber.add_client_error(SEND_SUCCESS, "CallbackTimeoutException", http_status_code=400)
    stubber.add_response(
        "get_durable_execution_history", _history(_succeeded('{"Status":"stopped"}'), _started(CALLBACK_ID))
    )

    with stubber:
        sender.succeed(CALLBACK_ID, '{"Status":"stopped"}', execution_arn=EXECUTION_ARN)

    stubber.assert_no_pending_responses()


def test_closed_after_a_server_error_is_closed_when_the_history_shows_another_result() -> None:
    sender, stubber, _ = _stubbed_sender()
    stubber.add_client_error("send_durable_execution_callback_success", "ServiceException", http_status_code=500)
    stubber.add_client_error(SEND_SUCCESS, "CallbackTimeoutException", http_status_code=400)
    stubber.add_response(
        "get_durable_execution_history", _history(_succeeded('{"Status":"failed"}'), _started(CALLBACK_ID))
    )

    with stubber, pytest.raises(CallbackClosedError, match="SUCCEEDED, not with this success"):
        sender.succeed(CALLBACK_ID, '{"Status":"stopped"}', execution_arn=EXECUTION_ARN)


def test_closed_after_a_server_error_is_retryable_while_the_history_cannot_be_read() -> None:
    sender, stubber, sleep = _stubbed_sender()
    stubber.add_client_error("send_durable_execution_callback_success", "ServiceException", http_status_code=500)
    stubber.add_client_error(SEND_SUCCESS, "CallbackTimeoutException", http_status_code=400)
    for _ in range(3):
        stubber.add_client_error("get_durable_execution_history", "ServiceException", http_status_code=500)

    with stubber, pytest.raises(CallbackDeliveryUnavailableError, match="history cannot tell"):
        sender.succeed(CALLBACK_ID, "{}", execution_arn=EXECUTION_ARN)

    stubber.assert_no_pending_responses()
    assert sleep.delays == [0.1, 0.1, 0.2]


def test_an_invalid_request_is_rejected_at_once() -> None:
    # botocore validates the parameters before anything is sent: nothing listens on port 9, nothing is needed.
    client = boto3.client("lambda", region_name="us-east-1", endpoint_url="http://127.0.0.1:9")
    sleep = RecordedSleep()

    with pytest.raises(CallbackRejectedError, match="not a valid request"):
        CallbackSender(client=client, sleep=sleep).succeed(cast(str, 12345), "{}")

    assert sleep.delays == []


# --- a completion applied whose answer was lost (the local runner behind the local endpoint) --------------------


def test_a_success_applied_whose_answer_was_lost_is_delivered_once_and_reported_delivered(
    endpoint_runner: tuple[LocalDurableRunner, LocalCallbackEndpoint],
) -> None:
    local, endpoint = endpoint_runner
    arn = local.start({})
    callback_id = local.runner.wait_for_callback(arn, name=CALLBACK_NAME)
    record = '{"Status":"stopped"}'

    with LostAnswers(lambda_callback_client(), SUCCESS, apply=send_over_http) as lost:
        CallbackSender(sleep=RecordedSleep()).succeed(callback_id, record, execution_arn=arn)

    measured = local.wait(arn)
    assert lost.lost == 1
    assert measured.status == "SUCCEEDED", measured.error
    assert measured.result == record
    assert (endpoint.accepted["succeed"], endpoint.refused["succeed"]) == (1, 1), "one applied send, one refused replay"
    assert endpoint.reads["GetDurableExecutionHistory"] >= 1


def test_a_failure_applied_whose_answer_was_lost_is_reported_delivered(
    endpoint_runner: tuple[LocalDurableRunner, LocalCallbackEndpoint],
) -> None:
    local, endpoint = endpoint_runner
    arn = local.start({})
    callback_id = local.runner.wait_for_callback(arn, name=CALLBACK_NAME)
    record = json.dumps({"Status": "failed"})

    with LostAnswers(lambda_callback_client(), FAILURE, apply=send_over_http):
        CallbackSender(sleep=RecordedSleep()).fail(
            callback_id, "ReplicationTaskFailed", "ORA-01555", record, execution_arn=arn
        )

    assert local.wait(arn).result == {"failed": "ORA-01555", "data": record}
    assert (endpoint.accepted["fail"], endpoint.refused["fail"]) == (1, 1)


def test_without_the_execution_a_lost_answer_still_ends_closed(
    endpoint_runner: tuple[LocalDurableRunner, LocalCallbackEndpoint],
) -> None:
    local, endpoint = endpoint_runner
    arn = local.start({})
    callback_id = local.runner.wait_for_callback(arn, name=CALLBACK_NAME)

    with LostAnswers(lambda_callback_client(), SUCCESS, apply=send_over_http), pytest.raises(CallbackClosedError):
        CallbackSender(sleep=RecordedSleep()).succeed(callback_id, "{}")

    assert local.wait(arn).status == "SUCCEEDED"
    assert not endpoint.reads, "without an execution ARN the history is never read"


def test_a_lost_request_after_someone_else_completed_the_callback_is_closed(
    endpoint_runner: tuple[LocalDurableRunner, LocalCallbackEndpoint],
) -> None:
    local, endpoint = endpoint_runner
    arn = local.start({})
    callback_id = local.runner.wait_for_callback(arn, name=CALLBACK_NAME)

    def someone_else_completes_it_first(_request: Any) -> None:
        local.runner.send_callback_success(callback_id, b'{"Status":"failed"}')

    lost = LostAnswers(lambda_callback_client(), SUCCESS, apply=someone_else_completes_it_first)
    with lost, pytest.raises(CallbackClosedError, match="not with this success"):
        CallbackSender(sleep=RecordedSleep()).succeed(callback_id, '{"Status":"stopped"}', execution_arn=arn)

    assert local.wait(arn).result == '{"Status":"failed"}'
    assert endpoint.accepted["succeed"] == 0


def test_a_refused_connection_is_not_ambiguous(
    endpoint_runner: tuple[LocalDurableRunner, LocalCallbackEndpoint],
) -> None:
    local, _endpoint = endpoint_runner
    arn = local.start({})
    callback_id = local.runner.wait_for_callback(arn, name=CALLBACK_NAME)
    local.runner.send_callback_success(callback_id, b'"someone else\'s"')
    local.wait(arn)

    with RefusedConnections(lambda_callback_client(), SUCCESS), pytest.raises(CallbackClosedError):
        CallbackSender(sleep=RecordedSleep()).succeed(callback_id, '"first"', execution_arn=arn)


def test_closed_to_a_clean_send_counts_as_delivered_when_an_earlier_invocation_sent_this_very_result(
    endpoint_runner: tuple[LocalDurableRunner, LocalCallbackEndpoint],
) -> None:
    """The retry of a delivery whose Lambda died after its send: the history shows the completion it made."""
    local, endpoint = endpoint_runner
    arn = local.start({})
    callback_id = local.runner.wait_for_callback(arn, name=CALLBACK_NAME)
    CallbackSender(sleep=RecordedSleep()).succeed(callback_id, '"first"', execution_arn=arn)
    local.wait(arn)

    CallbackSender(sleep=RecordedSleep()).succeed(callback_id, '"first"', execution_arn=arn)

    assert endpoint.accepted["succeed"] == 1
    assert endpoint.reads, "the closed answer was settled from the execution's history"
