"""One local environment for the callback variant: runner, simulated DMS, moto DynamoDB, Lambda's callback routes.

The durable handler runs on the local runner; DMS is the simulation on the runner's virtual clock; the correlation
table is moto's DynamoDB; the completer's boto3 lambda client reaches the runner through ``AWS_ENDPOINT_URL_LAMBDA``
and a local endpoint. ``deliver`` hands an EventBridge event to the real ``dms_events_handler.handler``, as the
EventBridge rule's target would be invoked.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from moto import mock_aws

import callback_handler
import dms_events_handler
from aws_adapters.clients import dynamodb_client
from aws_adapters.correlation_store import CallbackRegistration, CorrelationStore
from local_aws.aws_call_meter import AwsCallMeter, metered_aws_calls
from local_aws.callback_endpoint import LocalCallbackEndpoint
from local_aws.dms_simulation import SimulatedDms
from local_aws.durable_runner import LocalDurableRunner
from local_aws.environment import local_environment, patched_environment
from waiting.callback_rounds import WAIT_ROUND_NAME
from waiting.event_completion import CompletionReport

DEFAULT_TABLE_NAME = "migration-wait-callbacks"
TTL_ATTRIBUTE = "ExpiresAt"
# moto answers DynamoDB; DMS passes through to the simulation's own botocore hook.
_MOTO_CONFIG: Any = {"core": {"passthrough": {"services": ["dms"]}}}


@dataclass(frozen=True)
class LambdaContextStandIn:
    """The attributes of a Lambda context that Powertools reads when the completer logs."""

    function_name: str = "DmsEventsFunction"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:DmsEventsFunction"
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/DmsEventsFunction"
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@dataclass(frozen=True)
class CallbackEnvironment:
    runner: LocalDurableRunner
    dms: SimulatedDms
    endpoint: LocalCallbackEndpoint
    aws_calls: AwsCallMeter
    table_name: str

    @property
    def store(self) -> CorrelationStore:
        return CorrelationStore(self.table_name)

    def deliver(self, event: Any) -> CompletionReport:
        """Invoke the real completer with ``event``, as the EventBridge rule would."""
        return dms_events_handler.handler(event, LambdaContextStandIn())  # type: ignore[arg-type]

    def deliver_terminal_event(self, task_arn: str) -> CompletionReport:
        """The event DMS publishes when the simulated task reaches its final state, through the real completer."""
        return self.deliver(self.dms.terminal_event(task_arn))

    def registration(self, task_arn: str) -> CallbackRegistration | None:
        return self.store.find(task_arn)

    def wait_for_callback(self, execution_arn: str, round_number: int = 0, timeout: int = 30) -> str:
        """Block until round ``round_number``'s callback exists and the invocation that created it has ended."""
        name = WAIT_ROUND_NAME.format(round=round_number)
        return self.runner.runner.wait_for_callback(execution_arn, name=name, timeout=timeout)


def create_correlation_table(table_name: str) -> None:
    """The table as template.yaml declares it: the task ARN as key, on-demand, TTL on ExpiresAt."""
    client = dynamodb_client()
    client.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "ReplicationTaskArn", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "ReplicationTaskArn", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
    )


@contextmanager
def callback_environment(
    settings: Mapping[str, str] | None = None,
    fast: bool = True,
    table_name: str = DEFAULT_TABLE_NAME,
    handler: Callable[..., Any] = callback_handler.handler,
) -> Iterator[CallbackEnvironment]:
    """Run the callback handler locally with everything it talks to; ``settings`` become environment variables."""
    values = {"CALLBACK_TABLE_NAME": table_name, **(settings or {})}
    with (
        mock_aws(config=_MOTO_CONFIG),
        local_environment(handler, values, fast=fast) as env,
        LocalCallbackEndpoint(env.runner.runner) as endpoint,
        patched_environment({"AWS_ENDPOINT_URL_LAMBDA": endpoint.url}),
        metered_aws_calls() as aws_calls,
    ):
        create_correlation_table(table_name)
        yield CallbackEnvironment(
            runner=env.runner, dms=env.dms, endpoint=endpoint, aws_calls=aws_calls, table_name=table_name
        )
