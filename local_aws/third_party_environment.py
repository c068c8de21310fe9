"""One local environment for the third-party job variant: everything the callback variant has, plus the third party.

- the durable ``third_party_job_handler`` on the local runner (virtual clock, time skipping);
- the local third-party job service (``third_party_service.py``), its jobs simulated on that clock;
- the real ``callback_api_handler`` behind a local function URL (``function_url_endpoint.py``);
- moto: the correlation table and the token table (DynamoDB), the signing secret (Secrets Manager);
- Lambda's callback routes (``callback_endpoint.py``), which CallbackApiFunction's boto3 client reaches through
  ``AWS_ENDPOINT_URL_LAMBDA``, as the DMS completer's does.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import callback_api_handler
import third_party_job_handler
from aws_adapters.clients import dynamodb_client, secretsmanager_client
from aws_adapters.correlation_store import CorrelationStore
from callback_api.signatures import signed_headers
from callback_api.signing_secrets import signing_secrets
from callback_api.tokens import CallbackTokenStore
from local_aws.callback_endpoint import LocalCallbackEndpoint
from local_aws.callback_environment import LambdaContextStandIn, callback_environment
from local_aws.dms_simulation import SimulatedDms
from local_aws.durable_runner import ExecutionMeasurements, LocalDurableRunner
from local_aws.environment import patched_environment
from local_aws.function_url_endpoint import LocalFunctionUrlEndpoint
from local_aws.simulated_timeline import CallbackTimeline, TimelineLog
from local_aws.third_party_service import LocalThirdPartyService, Misbehaviour, post
from waiting.callback_rounds import WAIT_ROUND_NAME

DEFAULT_TABLE_NAME = "migration-wait-third-party-callbacks"
DEFAULT_TOKEN_TABLE_NAME = "migration-wait-callback-tokens"  # noqa: S105 - a table name, not a secret
SECRET_NAME = "migration-wait/third-party-callback-signing"  # noqa: S105 - the secret's name, not its value


@dataclass(frozen=True)
class ThirdPartyEnvironment:
    runner: LocalDurableRunner
    jobs: SimulatedDms
    service: LocalThirdPartyService
    api: LocalFunctionUrlEndpoint
    lambda_endpoint: LocalCallbackEndpoint
    secret_arn: str
    table_name: str
    token_table_name: str

    @property
    def store(self) -> CorrelationStore:
        return CorrelationStore(self.table_name)

    @property
    def tokens(self) -> CallbackTokenStore:
        return CallbackTokenStore(self.token_table_name)

    def start(self, payload: Any, name: str = "execution") -> str:
        return self.runner.start(payload, name=name)

    def wait_for_callback(self, execution_arn: str, round_number: int = 0, timeout: int = 30) -> str:
        """Block until round ``round_number``'s callback exists and the invocation that created it has ended."""
        name = WAIT_ROUND_NAME.format(round=round_number)
        return self.runner.runner.wait_for_callback(execution_arn, name=name, timeout=timeout)

    def timeline(self, task_arn: str, call_back: bool = True) -> CallbackTimeline:
        """The task's simulated timeline; when its job finishes, the service calls back (as it is told to)."""
        deliver = (lambda _event: self._call_back(task_arn)) if call_back else None
        return CallbackTimeline(self.runner, self.jobs, task_arn, deliver)

    def run(self, payload: Any, name: str = "execution", timeout: float = 60.0) -> ExecutionMeasurements:
        """Start an execution and play its timeline: the job's callback arrives when the job finishes."""
        execution_arn = self.start(payload, name=name)
        task_arn = payload.get("ReplicationTaskArn") if isinstance(payload, dict) else None
        self.timeline(str(task_arn), call_back=self.service.misbehaviour is not Misbehaviour.NO_CALLBACK).drive(
            execution_arn, timeout
        )
        return self.runner.measure(execution_arn)

    def drive(self, execution_arn: str, task_arn: str, timeout: float = 60.0) -> TimelineLog:
        return self.timeline(task_arn).drive(execution_arn, timeout)

    def post(self, path: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        """A raw request to CallbackApiFunction's local function URL."""
        return post(f"{self.api.url}{path}", body, dict(headers))

    def signed(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        """Headers the third party would send with ``body`` (signed with the shared secret, now)."""
        moment = int(self.service.wall_clock()) if timestamp is None else timestamp
        return {**signed_headers(self.service.secret, moment, body), "Content-Type": "application/json"}

    def _call_back(self, task_arn: str) -> None:
        self.service.call_back_task(task_arn)


def create_token_table(table_name: str) -> None:
    """The token table as template.yaml declares it: the token's hash as key, on-demand, TTL on ExpiresAt."""
    client = dynamodb_client()
    client.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "TokenHash", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "TokenHash", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ExpiresAt"}
    )


def create_signing_secret(value: str) -> str:
    """The shared secret in (moto's) Secrets Manager; its ARN."""
    return secretsmanager_client().create_secret(Name=SECRET_NAME, SecretString=value)["ARN"]


@contextmanager
def third_party_environment(
    settings: Mapping[str, str] | None = None,
    fast: bool = True,
    handler: Callable[..., Any] = third_party_job_handler.handler,
) -> Iterator[ThirdPartyEnvironment]:
    """Run the third-party variant locally with everything it talks to; ``settings`` become environment variables."""
    values = {"CALLBACK_TOKEN_TABLE_NAME": DEFAULT_TOKEN_TABLE_NAME, **(settings or {})}
    with callback_environment(values, fast=fast, table_name=DEFAULT_TABLE_NAME, handler=handler) as env:
        create_token_table(values["CALLBACK_TOKEN_TABLE_NAME"])
        secret = secrets.token_urlsafe(32)
        secret_arn = create_signing_secret(secret)
        # The secret source is cached per Lambda environment; a new environment must not see an old secret.
        signing_secrets.cache_clear()
        context = LambdaContextStandIn(
            function_name="CallbackApiFunction",
            invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:CallbackApiFunction:live",
            log_group_name="/aws/lambda/CallbackApiFunction",
        )
        with (
            LocalThirdPartyService(env.dms, secret.encode()) as service,
            LocalFunctionUrlEndpoint(callback_api_handler.handler, lambda: context) as api,
            patched_environment(
                {
                    "THIRD_PARTY_API_URL": service.url,
                    "CALLBACK_API_URL": api.url,
                    "CALLBACK_SECRET_ID": secret_arn,
                    **{k: v for k, v in values.items() if k not in ("THIRD_PARTY_API_URL", "CALLBACK_API_URL")},
                }
            ),
        ):
            try:
                yield ThirdPartyEnvironment(
                    runner=env.runner,
                    jobs=env.dms,
                    service=service,
                    api=api,
                    lambda_endpoint=env.endpoint,
                    secret_arn=secret_arn,
                    table_name=env.table_name,
                    token_table_name=values["CALLBACK_TOKEN_TABLE_NAME"],
                )
            finally:
                signing_secrets.cache_clear()
