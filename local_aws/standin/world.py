"""The stand-in's world, started and stopped as one: see the package docstring and docs/operate.md.

Every endpoint listens on 127.0.0.1 (free ports). ``StandIn.settings()`` are the environment settings that point an
unchanged boto3 client (the deployed commands, the cloud test mode) at it. The functions run in this process, with
the environment template.yaml gives them and endpoint settings that point their clients here too.
"""

from __future__ import annotations

import json
import logging
import socket
import sys
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from types import TracebackType
from typing import Any, Self, TextIO

import boto3
from aws_durable_execution_sdk_python_testing.runner import WebRunner, WebRunnerConfig
from aws_durable_execution_sdk_python_testing.web.server import WebServiceConfig
from moto.server import ThreadedMotoServer

from local_aws.dms_simulation import SimulatedDms, SimulatedOutcome, TaskPlan
from local_aws.durable_runner import fast_local_invocations
from local_aws.environment import DUMMY_AWS_ENVIRONMENT, patched_environment
from local_aws.standin import sdk_internals
from local_aws.standin.dms_endpoint import DmsEndpoint
from local_aws.standin.events import EventRouter
from local_aws.standin.front_door import FrontDoor
from local_aws.standin.functions import (
    ACCOUNT,
    CALLBACK_TABLE_NAME,
    COMPLETER,
    DEFAULT_STACK_NAME,
    FUNCTIONS,
    REGION,
    handler_environment,
)
from local_aws.standin.log_shipping import LogShipper


@dataclass(frozen=True)
class TaskSpec:
    """A replication task the stand-in's DMS holds from the start."""

    identifier: str
    duration: timedelta
    fails: bool = False
    ran_before: bool = False  # a task that already ran once: its next start is reload-target or resume-processing

    @property
    def arn(self) -> str:
        return f"arn:aws:dms:{REGION}:{ACCOUNT}:task:{self.identifier.upper()}"

    def plan(self) -> TaskPlan:
        outcome = SimulatedOutcome.FAILS if self.fails else SimulatedOutcome.SUCCEEDS
        return TaskPlan(duration=self.duration, outcome=outcome)


DEFAULT_TASKS = (
    TaskSpec("orders", timedelta(hours=2)),
    TaskSpec("orders-fails", timedelta(hours=1), fails=True),
    TaskSpec("scenario", timedelta(minutes=15), ran_before=True),
)


@dataclass(frozen=True)
class StandInOptions:
    stack: str = DEFAULT_STACK_NAME
    skip_time: bool = True
    tasks: tuple[TaskSpec, ...] = DEFAULT_TASKS
    handler_output: TextIO | None = None  # the functions' other stdout lines (their logs); None: discarded


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class _Activity:
    """Invocations in flight, and when the last one ended: how long the functions have been idle."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._last = time.monotonic()

    def __call__(self, started: bool) -> None:
        with self._lock:
            self._running += 1 if started else -1
            self._last = time.monotonic()

    def idle_for(self) -> float:
        with self._lock:
            return 0.0 if self._running else time.monotonic() - self._last


@dataclass
class StandIn:
    """Start with ``with StandIn(options) as standin:``; ``standin.settings()`` point clients at it."""

    options: StandInOptions = field(default_factory=StandInOptions)
    dms: SimulatedDms = field(init=False)
    router: EventRouter = field(init=False)
    shipper: LogShipper = field(init=False)
    _stack: ExitStack = field(init=False, default_factory=ExitStack)
    _urls: dict[str, str] = field(init=False, default_factory=dict)

    def __enter__(self) -> Self:
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stack.close()

    def settings(self) -> dict[str, str]:
        """What to export so that boto3 (the AWS CLI too) talks to the stand-in instead of AWS."""
        return {
            **DUMMY_AWS_ENVIRONMENT,
            "AWS_ENDPOINT_URL_LAMBDA": self._urls["front_door"],
            "AWS_ENDPOINT_URL_CLOUDFORMATION": self._urls["front_door"],
            "AWS_ENDPOINT_URL_DATABASE_MIGRATION_SERVICE": self._urls["dms"],
            "AWS_ENDPOINT_URL_DYNAMODB": self._urls["moto"],
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": self._urls["moto"],
            "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": self._urls["moto"],
            "AWS_ENDPOINT_URL_STS": self._urls["moto"],
        }

    def _start(self) -> None:
        stack = self._stack
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        if self.options.handler_output is None:
            # A failing migration is logged by the SDK with its traceback: the functions' logs, not the stand-in's.
            for name in ("aws_durable_execution_sdk_python", "aws_durable_execution_sdk_python_testing"):
                logging.getLogger(name).setLevel(logging.CRITICAL)
        # Credentials and region first: the runner's own Lambda client is made when it starts.
        stack.enter_context(patched_environment({**DUMMY_AWS_ENVIRONMENT, **handler_environment()}))
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        moto.start()
        stack.callback(moto.stop)
        host, port = moto.get_host_and_port()
        self._urls["moto"] = f"http://{host}:{port}"

        activity = _Activity()
        door = FrontDoor(self.options.stack, on_invocation=activity)
        self._urls["front_door"] = door.url
        runner_port = _free_port()
        self._urls["runner"] = f"http://127.0.0.1:{runner_port}"
        stack.enter_context(fast_local_invocations())
        stack.enter_context(sdk_internals.lambda_style_arns(REGION))
        runner = WebRunner(
            WebRunnerConfig(
                web_service=WebServiceConfig(host="127.0.0.1", port=runner_port, log_level=40),
                lambda_endpoint=door.url,
                local_runner_endpoint=self._urls["runner"],
                local_runner_region=REGION,
                skip_time=self.options.skip_time,
            )
        )
        runner.start()
        stack.callback(runner.stop)
        stack.callback(sdk_internals.shutdown_server, runner)
        threading.Thread(target=runner.serve_forever, name="standin-durable-api", daemon=True).start()
        door.attach(runner, self._urls["runner"])
        stack.enter_context(door)

        self.dms = SimulatedDms(clock=sdk_internals.clock(runner), region=REGION, account=ACCOUNT)
        for task in self.options.tasks:
            self.dms.add_task(task.identifier, task.plan(), previous_run=task.plan() if task.ran_before else None)
        dms = stack.enter_context(DmsEndpoint(self.dms))
        self._urls["dms"] = dms.url

        # The functions' own environment: template.yaml's settings, their clients pointed at the stand-in, their
        # checkpoints straight to the durable-execution API.
        stack.enter_context(
            patched_environment(
                {
                    **self.settings(),
                    "AWS_ENDPOINT_URL_LAMBDA": self._urls["runner"],
                    "AWS_LAMBDA_FUNCTION_NAME": "standin",
                }
            )
        )
        self._create_resources()
        self.shipper = LogShipper(self._client("logs"), self.options.handler_output or _Discard())
        for function in FUNCTIONS:
            self.shipper._create(function.log_group(self.options.stack))
        previous_stdout = sys.stdout
        sys.stdout = self.shipper
        stack.callback(self.shipper.close)
        stack.callback(setattr, sys, "stdout", previous_stdout)

        completer = next(f for f in FUNCTIONS if f.resource == COMPLETER)

        def deliver(event: dict[str, Any]) -> None:
            threading.Thread(
                target=door.run_handler, args=(completer, None, json.dumps(event).encode()), daemon=True
            ).start()

        self.router = EventRouter(
            self.dms, runner, deliver, skip_time=self.options.skip_time, idle_for=activity.idle_for
        )
        self.router.start()
        stack.callback(self.router.close)

    def _client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]

    def _create_resources(self) -> None:
        """The stack's tables, as template.yaml declares them."""
        dynamodb = self._client("dynamodb")
        dynamodb.create_table(
            TableName=CALLBACK_TABLE_NAME,
            KeySchema=[{"AttributeName": "ReplicationTaskArn", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "ReplicationTaskArn", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.update_time_to_live(
            TableName=CALLBACK_TABLE_NAME, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ExpiresAt"}
        )


class _Discard:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        return None
