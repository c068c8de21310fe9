"""Injected faults reach boto3 clients as AWS's would, inside botocore's retry loop; crashes end invocations."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any

import boto3
import botocore.retries.standard
import pytest
from aws_durable_execution_sdk_python import DurableContext, StepContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, StepConfig, StepSemantics
from aws_durable_execution_sdk_python.exceptions import StepInterruptedError
from aws_durable_execution_sdk_python.retries import RetryDecision, RetryStrategyConfig, create_retry_strategy
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError
from moto import mock_aws

from local_aws.callback_environment import callback_environment
from local_aws.dms_simulation import SimulatedDms, TaskPlan
from local_aws.dms_transport import SimulatedDmsTransport
from local_aws.durable_runner import local_durable_runner
from local_aws.faults import (
    FaultFiring,
    FaultInjectionError,
    FaultKind,
    FaultPlan,
    LambdaInvocationCrashed,
    SimulatedLambdaCrash,
    crash_tolerant,
)
from local_aws.loopback_http import LoopbackHttpServer, LoopbackRequestHandler

REGION = "us-east-1"
TABLE = "fault-injection-orders"
ORDER = {"pk": {"S": "order-1"}}
RETRYING = Config(retries={"mode": "standard", "max_attempts": 3})
SINGLE_ATTEMPT = Config(retries={"mode": "standard", "total_max_attempts": 1})
FIXED_TIME = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_botocore_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's retries keep their number and order; only the jittered sleep between them goes."""
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda _self, _ctx: 0.0)


@pytest.fixture
def moto_table() -> Iterator[None]:
    with mock_aws():
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield


def _dynamodb(config: Config = RETRYING) -> Any:
    return boto3.client("dynamodb", region_name=REGION, config=config)


def _put_order(client: Any, **extra: Any) -> None:
    client.put_item(TableName=TABLE, Item=ORDER, ConditionExpression="attribute_not_exists(pk)", **extra)


def _order_written() -> bool:
    return "Item" in _dynamodb().get_item(TableName=TABLE, Key=ORDER, ConsistentRead=True)


def _error_code(error: ClientError) -> tuple[str, int]:
    return error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]


# --- throttling and 5xx: answered, never applied ---------------------------------------------------------------


@pytest.mark.usefixtures("moto_table")
def test_a_throttled_write_is_answered_with_dynamodbs_error_and_not_applied() -> None:
    with FaultPlan().throttle("dynamodb", "PutItem") as faults:
        with pytest.raises(ClientError) as throttled:
            _put_order(_dynamodb(SINGLE_ATTEMPT))

        assert _error_code(throttled.value) == ("ProvisionedThroughputExceededException", 400)
        assert not _order_written(), "a throttled request must not reach moto"
        assert faults.count(FaultKind.THROTTLE, "dynamodb", "PutItem") == 1


@pytest.mark.usefixtures("moto_table")
def test_botocore_retries_a_throttled_write_and_the_retry_is_applied_once() -> None:
    with FaultPlan(clock=lambda: FIXED_TIME).throttle("dynamodb", "PutItem", times=2) as faults:
        _put_order(_dynamodb(RETRYING))

        assert _order_written()
        assert [(f.fault, f.attempt, f.at) for f in faults.firings] == [
            (FaultKind.THROTTLE, 1, FIXED_TIME),
            (FaultKind.THROTTLE, 2, FIXED_TIME),
        ]
        assert faults.unfired() == []


@pytest.mark.usefixtures("moto_table")
def test_a_server_error_is_a_500_in_the_services_words_and_botocore_retries_it() -> None:
    secrets = boto3.client("secretsmanager", region_name=REGION, config=SINGLE_ATTEMPT)
    secrets.create_secret(Name="callback-key", SecretString="s3cr3t")
    with FaultPlan().server_error("secretsmanager", "GetSecretValue") as faults:
        with pytest.raises(ClientError) as failed:
            secrets.get_secret_value(SecretId="callback-key")
        faults.server_error("secretsmanager", "GetSecretValue")
        value = boto3.client("secretsmanager", region_name=REGION, config=RETRYING).get_secret_value(
            SecretId="callback-key"
        )

    assert _error_code(failed.value) == ("InternalServiceError", 500)
    assert value["SecretString"] == "s3cr3t"
    assert faults.count(FaultKind.SERVER_ERROR) == 2


@pytest.mark.usefixtures("moto_table")
def test_a_rule_with_a_predicate_fires_only_for_matching_parameters() -> None:
    other = {"pk": {"S": "order-2"}}
    with FaultPlan().throttle("dynamodb", "PutItem", when=lambda params: params["Item"] == other) as faults:
        client = _dynamodb(SINGLE_ATTEMPT)
        _put_order(client)
        with pytest.raises(ClientError, match="ProvisionedThroughputExceeded"):
            client.put_item(TableName=TABLE, Item=other)

    assert _order_written()
    assert faults.count() == 1


def test_throttling_is_refused_for_a_service_whose_error_format_is_unknown() -> None:
    with pytest.raises(FaultInjectionError, match="no wire format"):
        FaultPlan().throttle("s3", "PutObject")


@pytest.mark.usefixtures("moto_table")
def test_a_rule_its_code_never_reached_is_reported_unfired() -> None:
    with FaultPlan().lose_answer("dynamodb", "DeleteItem") as faults:
        _put_order(_dynamodb())

    assert [(rule.service, rule.operation, rule.remaining) for rule in faults.unfired()] == [
        ("dynamodb", "DeleteItem", 1)
    ]


# --- lost answers: applied, then a read timeout -----------------------------------------------------------------


@pytest.mark.usefixtures("moto_table")
def test_a_lost_write_answer_is_replayed_by_botocore_and_gets_dynamodbs_second_answer() -> None:
    with FaultPlan().lose_answer("dynamodb", "PutItem") as faults, pytest.raises(ClientError) as replayed:
        _put_order(_dynamodb(RETRYING))

    assert _error_code(replayed.value) == ("ConditionalCheckFailedException", 400), (
        "the first attempt was applied, so the replayed conditional put must fail its condition"
    )
    assert [(f.fault, f.attempt) for f in faults.firings] == [(FaultKind.LOSE_ANSWER, 1)]


@pytest.mark.usefixtures("moto_table")
def test_a_lost_write_answer_surfaces_as_a_read_timeout_without_retries_and_the_write_happened() -> None:
    with FaultPlan().lose_answer("dynamodb", "PutItem"), pytest.raises(ReadTimeoutError):
        _put_order(_dynamodb(SINGLE_ATTEMPT))

    assert _order_written()


def test_a_lost_dms_start_is_replayed_by_botocore_and_refused_as_already_running() -> None:
    dms = SimulatedDms()
    arn = dms.add_task("orders", TaskPlan(duration=timedelta(hours=1)))
    dms.lose_answer_next(1, operation="StartReplicationTask")

    with SimulatedDmsTransport(dms), pytest.raises(ClientError) as replayed:
        _dms(RETRYING).start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")

    assert _error_code(replayed.value) == ("InvalidResourceStateFault", 400)
    assert dms.calls["StartReplicationTask"] == 2, "botocore should have replayed the lost call once"
    assert dms.task(arn).start_calls == 1


def test_a_lost_dms_start_without_retries_is_a_read_timeout_and_the_task_runs() -> None:
    dms = SimulatedDms()
    arn = dms.add_task("orders", TaskPlan(duration=timedelta(hours=1)))
    dms.lose_answer_next(1, operation="StartReplicationTask")

    with SimulatedDmsTransport(dms), pytest.raises(ReadTimeoutError):
        _dms(SINGLE_ATTEMPT).start_replication_task(
            ReplicationTaskArn=arn, StartReplicationTaskType="start-replication"
        )

    assert dms.calls["StartReplicationTask"] == 1
    assert dms.task(arn).status(dms.clock()) == "starting"


def test_a_fault_plan_loses_a_dms_answer_after_the_simulation_applied_it() -> None:
    dms = SimulatedDms()
    arn = dms.add_task("orders", TaskPlan(duration=timedelta(hours=1)))

    with SimulatedDmsTransport(dms), FaultPlan().lose_answer("dms", "StartReplicationTask"), pytest.raises(ClientError):
        _dms(RETRYING).start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")

    assert dms.calls["StartReplicationTask"] == 2
    assert dms.task(arn).start_calls == 1


def test_a_fault_plan_throttle_withholds_the_call_from_the_dms_simulation() -> None:
    dms = SimulatedDms()
    arn = dms.add_task("orders", TaskPlan(duration=timedelta(hours=1)))

    with (
        SimulatedDmsTransport(dms),
        FaultPlan().throttle("dms", "StartReplicationTask"),
        pytest.raises(ClientError) as throttled,
    ):
        _dms(SINGLE_ATTEMPT).start_replication_task(
            ReplicationTaskArn=arn, StartReplicationTaskType="start-replication"
        )

    assert _error_code(throttled.value) == ("ThrottlingException", 400)
    assert dms.calls["StartReplicationTask"] == 0
    assert dms.task(arn).runs == []


def test_a_lost_answer_is_never_sent_to_aws() -> None:
    # No moto, no simulation: the only place this call could go is AWS itself.
    with FaultPlan().lose_answer("dynamodb", "PutItem"), pytest.raises(FaultInjectionError, match="nothing may reach"):
        _put_order(_dynamodb(SINGLE_ATTEMPT))


# --- the Lambda API over HTTP -------------------------------------------------------------------------------------


class _CountingLambdaEndpoint(LoopbackHttpServer):
    """Answers every POST with 200 {} and counts them: a stand-in for the callback routes."""

    def __init__(self) -> None:
        self.requests = 0
        self._lock = threading.Lock()
        endpoint = self

        class _Handler(LoopbackRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with endpoint._lock:
                    endpoint.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        handler: type[BaseHTTPRequestHandler] = _Handler
        super().__init__(handler, "counting-lambda-endpoint")


@pytest.fixture
def lambda_endpoint() -> Iterator[_CountingLambdaEndpoint]:
    with _CountingLambdaEndpoint() as endpoint:
        yield endpoint


def _lambda(endpoint: _CountingLambdaEndpoint, config: Config) -> Any:
    return boto3.client("lambda", region_name=REGION, endpoint_url=endpoint.url, config=config)


def test_a_lost_lambda_answer_was_sent_to_the_endpoint_and_botocore_sends_it_again(
    lambda_endpoint: _CountingLambdaEndpoint,
) -> None:
    with FaultPlan().lose_answer("lambda", "SendDurableExecutionCallbackHeartbeat") as faults:
        _lambda(lambda_endpoint, RETRYING).send_durable_execution_callback_heartbeat(CallbackId="cb-1")

    assert lambda_endpoint.requests == 2
    assert faults.count(FaultKind.LOSE_ANSWER, "lambda") == 1


def test_a_lost_lambda_answer_without_retries_is_a_read_timeout_after_the_request_arrived(
    lambda_endpoint: _CountingLambdaEndpoint,
) -> None:
    with (
        FaultPlan().lose_answer("lambda", "SendDurableExecutionCallbackSuccess"),
        pytest.raises(ReadTimeoutError),
    ):
        _lambda(lambda_endpoint, SINGLE_ATTEMPT).send_durable_execution_callback_success(CallbackId="cb-1", Result=b"x")

    assert lambda_endpoint.requests == 1


def test_a_throttled_lambda_call_is_a_429_that_never_reaches_the_endpoint(
    lambda_endpoint: _CountingLambdaEndpoint,
) -> None:
    with (
        FaultPlan().throttle("lambda", "SendDurableExecutionCallbackSuccess"),
        pytest.raises(ClientError) as throttled,
    ):
        _lambda(lambda_endpoint, SINGLE_ATTEMPT).send_durable_execution_callback_success(CallbackId="cb-1", Result=b"x")

    assert _error_code(throttled.value) == ("TooManyRequestsException", 429)
    assert lambda_endpoint.requests == 0


# --- crashes --------------------------------------------------------------------------------------------------


def _put_order_swallowing_exceptions() -> bool:
    try:
        _put_order(_dynamodb())
    except Exception:  # noqa: BLE001 - what handler code does; the crash must pass through it
        return True
    return False


@pytest.mark.usefixtures("moto_table")
def test_a_crash_before_a_call_cannot_be_caught_as_an_exception_and_nothing_was_written() -> None:
    with FaultPlan().crash_before("dynamodb", "PutItem") as faults, pytest.raises(SimulatedLambdaCrash) as crash:
        _put_order_swallowing_exceptions()

    assert not _order_written()
    assert crash.value.firing == faults.firings[0]


@pytest.mark.usefixtures("moto_table")
def test_a_crash_after_a_call_happens_once_the_write_is_applied() -> None:
    with FaultPlan().crash_after("dynamodb", "PutItem"), pytest.raises(SimulatedLambdaCrash):
        _put_order(_dynamodb())

    assert _order_written()


def test_a_crash_after_a_dms_start_leaves_the_task_started() -> None:
    dms = SimulatedDms()
    arn = dms.add_task("orders", TaskPlan(duration=timedelta(hours=1)))

    with (
        SimulatedDmsTransport(dms),
        FaultPlan().crash_after("dms", "StartReplicationTask"),
        pytest.raises(SimulatedLambdaCrash),
    ):
        _dms(RETRYING).start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")

    assert dms.task(arn).start_calls == 1


def test_crash_tolerant_turns_a_crash_into_a_failed_invocation() -> None:
    def crashes(_event: Any, _context: Any) -> None:
        raise SimulatedLambdaCrash(FaultFiring("dynamodb", "PutItem", FaultKind.CRASH_AFTER, FIXED_TIME))

    with pytest.raises(LambdaInvocationCrashed) as failed:
        crash_tolerant(crashes)({}, None)

    assert isinstance(failed.value.__cause__, SimulatedLambdaCrash)


# --- crashes under the local durable runner ---------------------------------------------------------------------


def _put_order_in_step(step: StepContext) -> dict[str, Any]:
    client = boto3.client("dynamodb", region_name=REGION, config=SINGLE_ATTEMPT)
    try:
        _put_order(client)
    except client.exceptions.ConditionalCheckFailedException:
        return {"Attempt": step.attempt, "Outcome": "already-written"}
    return {"Attempt": step.attempt, "Outcome": "written"}


_RETRY_INTERRUPTED = create_retry_strategy(
    RetryStrategyConfig(
        max_attempts=3, initial_delay=Duration.from_seconds(1), retryable_error_types=[StepInterruptedError]
    )
)


def _never_retry(_error: Exception, _attempt: int) -> RetryDecision:
    return RetryDecision.no_retry()


@durable_execution
def _writes_at_most_once_per_retry(event: Any, context: DurableContext) -> dict[str, Any]:
    config = StepConfig(step_semantics=StepSemantics.AT_MOST_ONCE_PER_RETRY, retry_strategy=_RETRY_INTERRUPTED)
    result: dict[str, Any] = context.step(_put_order_in_step, name="put-order", config=config)
    return result


@durable_execution
def _writes_at_least_once_per_retry(event: Any, context: DurableContext) -> dict[str, Any]:
    config = StepConfig(step_semantics=StepSemantics.AT_LEAST_ONCE_PER_RETRY, retry_strategy=_never_retry)
    result: dict[str, Any] = context.step(_put_order_in_step, name="put-order", config=config)
    return result


def _run_with(handler: Any, arm: Any) -> tuple[Any, FaultPlan]:
    with local_durable_runner(crash_tolerant(handler)) as local:
        local.retry_failed_invocations_after(0.01)
        with arm(FaultPlan(clock=local.clock)) as faults:
            measured = local.run({}, timeout=60)
    return measured, faults


@pytest.mark.usefixtures("moto_table")
def test_a_crash_after_the_write_interrupts_an_at_most_once_step_which_retries_as_attempt_two() -> None:
    measured, faults = _run_with(_writes_at_most_once_per_retry, lambda plan: plan.crash_after("dynamodb", "PutItem"))

    assert measured.status == "SUCCEEDED", measured.error
    assert measured.result == {"Attempt": 2, "Outcome": "already-written"}, (
        "the runner should re-invoke the crashed invocation, the step come back as StepInterruptedError, and its "
        "retry find the first attempt's write"
    )
    assert [(f.fault, f.operation) for f in faults.firings] == [(FaultKind.CRASH_AFTER, "PutItem")]


@pytest.mark.usefixtures("moto_table")
def test_a_crash_before_the_write_interrupts_an_at_most_once_step_whose_retry_writes() -> None:
    measured, faults = _run_with(_writes_at_most_once_per_retry, lambda plan: plan.crash_before("dynamodb", "PutItem"))

    assert measured.status == "SUCCEEDED", measured.error
    assert measured.result == {"Attempt": 2, "Outcome": "written"}
    assert faults.count(FaultKind.CRASH_BEFORE) == 1
    assert _order_written()


@pytest.mark.usefixtures("moto_table")
def test_a_crash_inside_an_at_least_once_step_reruns_it_as_the_same_attempt() -> None:
    # Whether the step's non-blocking START survived the crash (here it may; on AWS it may not) changes nothing
    # the handler sees: the body runs again, as attempt 1.
    measured, _ = _run_with(_writes_at_least_once_per_retry, lambda plan: plan.crash_after("dynamodb", "PutItem"))

    assert measured.status == "SUCCEEDED", measured.error
    assert measured.result == {"Attempt": 1, "Outcome": "already-written"}


def test_a_default_session_carrying_the_injector_twice_fires_a_rule_once_per_attempt(
    monkeypatch: pytest.MonkeyPatch, lambda_endpoint: _CountingLambdaEndpoint
) -> None:
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", boto3.DEFAULT_SESSION)  # restored after the test
    with FaultPlan():
        pass  # installed by now, whatever ran before this test
    boto3.setup_default_session()  # built with the injector, then registered on again below
    with FaultPlan().throttle("lambda", "SendDurableExecutionCallbackHeartbeat") as faults:
        lambda_client = boto3.client("lambda", region_name=REGION, endpoint_url=lambda_endpoint.url, config=RETRYING)
        lambda_client.send_durable_execution_callback_heartbeat(CallbackId="cb-1")

    assert faults.count() == 1, "the injector ran twice for one attempt"
    assert lambda_endpoint.requests == 1, "the throttled attempt must not reach the endpoint, the retry must"


def _dms(config: Config) -> BaseClient:
    return boto3.client("dms", region_name=REGION, config=config)


# --- in the callback environment: a crash in a handler a test invokes directly -------------------------------------


def test_a_completer_that_crashes_after_completing_the_callback_propagates_and_its_redelivery_is_safe() -> None:
    with callback_environment() as env:
        arn = env.dms.add_task("orders", TaskPlan(duration=timedelta(hours=1)))
        execution_arn = env.runner.start({"ReplicationTaskArn": arn})
        env.wait_for_callback(execution_arn)
        finishes_at = env.dms.task(arn).finishes_at
        assert finishes_at is not None
        env.runner.advance_clock_to(finishes_at + timedelta(seconds=2))

        with FaultPlan(clock=env.runner.clock).crash_after("lambda", "SendDurableExecutionCallbackSuccess") as faults:
            with pytest.raises(SimulatedLambdaCrash):
                env.deliver_terminal_event(arn)
            # Lambda's asynchronous invocation retries the event: the test delivers it again.
            redelivered = env.deliver_terminal_event(arn)

        assert env.runner.wait(execution_arn).status == "SUCCEEDED", "the callback was completed before the crash"
        assert env.endpoint.accepted["succeed"] == 1
        assert faults.firings[0].at >= finishes_at, "firings are stamped with the runner's virtual clock"
        assert redelivered["Outcome"] != "completed", redelivered
