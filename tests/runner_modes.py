"""Where the shared scenario tests run: locally (simulated AWS, the default) or against a deployed stack.

``pytest --runner-mode cloud --stack-name NAME`` runs the same scenarios through the SDK's
``DurableFunctionCloudTestRunner`` against the stack's function aliases (read from its CloudFormation outputs).

Plugging in a variant: add its output key to ``CLOUD_OUTPUT_KEYS`` and a local backend factory to
``LOCAL_BACKENDS`` (a callable taking the test's ``pytest.FixtureRequest``, for fixtures and finalizers, and
returning a ``ScenarioBackend``). The scenario tests then run against it in both modes.

Credentials: the autouse fixture in conftest.py gives every test dummy credentials, so cloud mode resolves the
real ones once, at start-up, into its own boto3 session; only the cloud runner's clients use that session.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import StrEnum
from typing import Any, Protocol

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

RUNNER_MODE_OPTION = "--runner-mode"
STACK_NAME_OPTION = "--stack-name"
DMS_TASK_OPTION = "--dms-task-arn"
DMS_START_TYPE_OPTION = "--dms-task-start-type"
CLOUD_TIMEOUT_OPTION = "--cloud-timeout"
CLOUD_POLL_INTERVAL_OPTION = "--cloud-poll-interval"
# The services cloud mode calls, and the endpoint setting boto3 reads for each (AWS_ENDPOINT_URL_<service id>).
_ENDPOINT_VARIABLES = {
    "cloudformation": "AWS_ENDPOINT_URL_CLOUDFORMATION",
    "sts": "AWS_ENDPOINT_URL_STS",
    "lambda": "AWS_ENDPOINT_URL_LAMBDA",
    "dms": "AWS_ENDPOINT_URL_DATABASE_MIGRATION_SERVICE",
    "logs": "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS",
}

# The stack output holding each variant's durable function alias ARN (template.yaml, Outputs).
CLOUD_OUTPUT_KEYS: dict[str, str] = {
    "polling": "PollingFunctionAlias",
    "callback": "CallbackFunctionAlias",
}

LOCAL_ACCOUNT = "123456789012"
LOCAL_REGION = "us-east-1"


class RunnerMode(StrEnum):
    LOCAL = "local"
    CLOUD = "cloud"


@dataclass(frozen=True)
class ScenarioOutcome:
    """How an execution ended, the same shape in both modes."""

    status: str
    """SUCCEEDED, FAILED, TIMED_OUT or STOPPED."""
    result: Any
    error: Mapping[str, Any] | None
    """{"ErrorType", "ErrorMessage"} when the execution failed."""
    execution_arn: str | None = None

    @property
    def error_message(self) -> str:
        return str((self.error or {}).get("ErrorMessage") or "")


class ScenarioBackend(Protocol):
    """One variant, in one mode: the tasks a scenario may use and a way to run an execution."""

    variant: str
    mode: RunnerMode

    def finishing_task(self, duration: timedelta) -> dict[str, str]:
        """The input that starts a task which runs about ``duration`` and stops normally."""
        ...

    def unknown_task(self) -> str:
        """A well-formed ARN of a task that does not exist, in the function's own account and region."""
        ...

    def foreign_account_task(self) -> str:
        """A well-formed task ARN in an account the function has no permission for."""
        ...

    def run(self, payload: Any) -> ScenarioOutcome: ...


# --- cloud ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CloudSettings:
    """Cloud mode as configured on the command line, with the real credentials captured at start-up."""

    stack_name: str
    session: boto3.Session | None
    region: str | None
    dms_task_arn: str | None
    timeout_seconds: int
    unavailable: str | None = None
    dms_task_start_type: str = "start-replication"
    """Why cloud scenarios cannot run (no credentials, no region), or None."""
    endpoints: Mapping[str, str] = field(default_factory=dict)
    """Service -> endpoint URL, from AWS_ENDPOINT_URL_* at start-up (a local stand-in); empty for AWS itself."""
    poll_interval: float = 5.0


def captured_endpoints(environ: Mapping[str, str]) -> dict[str, str]:
    """The endpoint settings in force at start-up (the tests' own fixture removes them from the environment)."""
    fallback = environ.get("AWS_ENDPOINT_URL")
    found = {service: environ.get(variable) or fallback for service, variable in _ENDPOINT_VARIABLES.items()}
    return {service: url for service, url in found.items() if url}


def capture_cloud_settings(
    stack_name: str,
    dms_task_arn: str | None,
    timeout_seconds: int,
    *,
    environ: Mapping[str, str] | None = None,
    dms_task_start_type: str = "start-replication",
    poll_interval: float = 5.0,
) -> CloudSettings:
    """Resolve credentials, region and endpoints now, before the tests replace the environment with dummy values."""
    environ = os.environ if environ is None else environ
    settings = CloudSettings(
        stack_name,
        None,
        None,
        dms_task_arn,
        timeout_seconds,
        None,
        dms_task_start_type,
        endpoints=captured_endpoints(environ),
        poll_interval=poll_interval,
    )
    try:
        session = boto3.Session(profile_name=environ.get("AWS_PROFILE") or None)
        credentials = session.get_credentials()
        region = session.region_name
    except (BotoCoreError, ClientError) as err:
        return replace(settings, unavailable=f"no usable AWS profile: {err}")
    if credentials is None:
        return replace(settings, unavailable="no AWS credentials found (environment, profile, SSO or instance role)")
    if not region:
        return replace(settings, unavailable="no AWS region configured (set AWS_REGION or the profile's region)")
    return replace(settings, session=session, region=region)


@dataclass(frozen=True)
class CloudStack:
    name: str
    region: str
    account: str
    outputs: Mapping[str, str]
    session: boto3.Session = field(repr=False)
    endpoints: Mapping[str, str] = field(default_factory=dict)

    def client(self, service: str, **config: Any) -> Any:
        return self.session.client(
            service,
            region_name=self.region,
            config=Config(**config) if config else None,
            endpoint_url=self.endpoints.get(service),
        )


# A stack whose last update rolled back still runs its previous, complete deployment.
USABLE_STACK_STATUSES = frozenset(
    {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE", "IMPORT_ROLLBACK_COMPLETE"}
)


class CloudStackError(RuntimeError):
    """The stack named on the command line cannot be used (missing, not deployed, outputs absent)."""


def open_cloud_stack(settings: CloudSettings) -> CloudStack:
    """The deployed stack's outputs and account, read with the captured session."""
    session, region = settings.session, settings.region
    if session is None or region is None:
        raise CloudStackError(f"cloud mode is unavailable: {settings.unavailable}")
    try:
        endpoints = settings.endpoints
        cloudformation = session.client(
            "cloudformation", region_name=region, endpoint_url=endpoints.get("cloudformation")
        )
        described = cloudformation.describe_stacks(StackName=settings.stack_name)
        sts = session.client("sts", region_name=region, endpoint_url=endpoints.get("sts"))
        account = sts.get_caller_identity()["Account"]
    except (BotoCoreError, ClientError) as err:
        raise CloudStackError(f"cannot read stack {settings.stack_name!r} in {region}: {err}") from err
    stack = described["Stacks"][0]
    if stack["StackStatus"] not in USABLE_STACK_STATUSES:
        raise CloudStackError(f"stack {settings.stack_name!r} is {stack['StackStatus']}, not deployed")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    return CloudStack(settings.stack_name, region, account, outputs, session, settings.endpoints)


def _cloud_outcome(execution_arn: str, result: Any) -> ScenarioOutcome:
    """Map the cloud runner's DurableFunctionTestResult onto ScenarioOutcome."""
    status = result.execution_status.value if result.execution_status is not None else result.status.value
    error = None
    if result.error is not None:
        error = {"ErrorType": result.error.type, "ErrorMessage": result.error.message}
    payload = json.loads(result.result) if result.result else None
    return ScenarioOutcome(status=status, result=payload, error=error, execution_arn=execution_arn)


@dataclass
class CloudBackend:
    """A variant's durable function in the deployed stack, driven by DurableFunctionCloudTestRunner."""

    variant: str
    stack: CloudStack
    dms_task_arn: str | None
    timeout_seconds: int
    dms_task_start_type: str = "start-replication"
    mode: RunnerMode = RunnerMode.CLOUD
    poll_interval: float = 5.0

    @property
    def function(self) -> str:
        key = CLOUD_OUTPUT_KEYS[self.variant]
        if key not in self.stack.outputs:
            raise CloudStackError(f"stack {self.stack.name!r} has no output {key} (deployed from an older template?)")
        return self.stack.outputs[key]

    def _task_arn(self, task_id: str, account: str | None = None) -> str:
        partition = "aws-cn" if self.stack.region.startswith("cn-") else "aws"
        return f"arn:{partition}:dms:{self.stack.region}:{account or self.stack.account}:task:{task_id}"

    def finishing_task(self, duration: timedelta) -> dict[str, str]:
        # The real task's own length counts; ``duration`` only shapes the simulated one.
        if not self.dms_task_arn:
            pytest.skip(f"needs a real replication task that stops normally: pass {DMS_TASK_OPTION} ARN")
        return {"ReplicationTaskArn": self.dms_task_arn, "StartReplicationTaskType": self.dms_task_start_type}

    def unknown_task(self) -> str:
        return self._task_arn("MIGRATIONWAITNOSUCHTASK0000")

    def foreign_account_task(self) -> str:
        other = "111111111111" if self.stack.account != "111111111111" else "222222222222"
        return self._task_arn("MIGRATIONWAITFOREIGNTASK00", account=other)

    def run(self, payload: Any) -> ScenarioOutcome:
        from aws_durable_execution_sdk_python_testing.runner import DurableFunctionCloudTestRunner

        runner = DurableFunctionCloudTestRunner(
            function_name=self.function, region=self.stack.region, poll_interval=self.poll_interval
        )
        # The runner builds its client from the default session, which holds the tests' dummy credentials.
        runner.lambda_client = self.stack.client("lambda", parameter_validation=False)
        # Asynchronous start: a synchronous invoke of a durable function ends after 15 minutes at most.
        execution_arn = runner.run_async(input=payload, timeout=self.timeout_seconds)
        if not execution_arn:
            raise CloudStackError(f"invoking {self.function} returned no DurableExecutionArn")
        return _cloud_outcome(execution_arn, runner.wait_for_result(execution_arn, timeout=self.timeout_seconds))


# --- local ------------------------------------------------------------------------------------------------


@dataclass
class PollingLocalBackend:
    """The polling handler on the local runner, DMS simulated on its virtual clock."""

    environment: Any
    variant: str = "polling"
    mode: RunnerMode = RunnerMode.LOCAL

    def finishing_task(self, duration: timedelta) -> dict[str, str]:
        from local_aws.dms_simulation import TaskPlan

        task_arn = str(self.environment.dms.add_task("scenario-task", TaskPlan(duration=duration)))
        return {"ReplicationTaskArn": task_arn}

    def unknown_task(self) -> str:
        return f"arn:aws:dms:{LOCAL_REGION}:{LOCAL_ACCOUNT}:task:MIGRATIONWAITNOSUCHTASK0000"

    def foreign_account_task(self) -> str:
        return f"arn:aws:dms:{LOCAL_REGION}:111111111111:task:MIGRATIONWAITFOREIGNTASK00"

    def run(self, payload: Any) -> ScenarioOutcome:
        measured = self.environment.runner.run(payload)
        return ScenarioOutcome(status=measured.status, result=measured.result, error=measured.error)


@dataclass
class CallbackLocalBackend(PollingLocalBackend):
    """The callback handler on the local runner; the simulated task's DMS event reaches the real completer."""

    variant: str = "callback"

    def run(self, payload: Any) -> ScenarioOutcome:
        from tests.callback_support import run_with_event_delivered

        measured = run_with_event_delivered(self.environment, payload)
        return ScenarioOutcome(status=measured.status, result=measured.result, error=measured.error)


@dataclass
class ThirdPartyLocalBackend(PollingLocalBackend):
    """The third-party job variant: the local third-party service runs the job and calls back its signed URL."""

    variant: str = "third-party"

    def finishing_task(self, duration: timedelta) -> dict[str, str]:
        from local_aws.dms_simulation import TaskPlan

        task_arn = str(self.environment.jobs.add_task("scenario-task", TaskPlan(duration=duration)))
        return {"ReplicationTaskArn": task_arn}

    def run(self, payload: Any) -> ScenarioOutcome:
        measured = self.environment.run(payload)
        return ScenarioOutcome(status=measured.status, result=measured.result, error=measured.error)


def _polling_local_backend(request: pytest.FixtureRequest) -> ScenarioBackend:
    import polling_handler

    return PollingLocalBackend(request.getfixturevalue("make_local_environment")(polling_handler.handler))


def _callback_local_backend(request: pytest.FixtureRequest) -> ScenarioBackend:
    from tests.callback_support import callback_environments

    stack = ExitStack()
    request.addfinalizer(stack.close)
    return CallbackLocalBackend(stack.enter_context(callback_environments())())


def _third_party_local_backend(request: pytest.FixtureRequest) -> ScenarioBackend:
    from tests.third_party_support import third_party_environments

    stack = ExitStack()
    request.addfinalizer(stack.close)
    return ThirdPartyLocalBackend(stack.enter_context(third_party_environments())())


# The third-party variant runs locally only: in cloud mode its job would go to whatever third party the stack is
# configured with, and the foreign-account scenario checks DMS permissions it does not have.
LOCAL_BACKENDS: dict[str, Callable[[pytest.FixtureRequest], ScenarioBackend]] = {
    "polling": _polling_local_backend,
    "callback": _callback_local_backend,
    "third-party": _third_party_local_backend,
}


def variants() -> list[str]:
    return sorted(set(LOCAL_BACKENDS) | set(CLOUD_OUTPUT_KEYS))
