"""One local AWS environment for a durable handler: the runner with time skipping and the simulated DMS."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import botocore.retries.standard

from aws_adapters.clients import reset_clients
from aws_adapters.telemetry import TELEMETRY_DIRECTORY_VARIABLE
from local_aws.dms_simulation import SimulatedDms
from local_aws.dms_transport import SimulatedDmsTransport
from local_aws.durable_runner import LocalDurableRunner, local_durable_runner
from local_aws.telemetry_records import local_telemetry_directory

DUMMY_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@contextmanager
def patched_environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of the block and drop cached clients on both edges."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    reset_clients()
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old
        reset_clients()


@contextmanager
def instant_botocore_retries() -> Iterator[None]:
    """botocore's retries happen as on AWS (same attempts, same errors) but without their real-clock backoff sleeps.

    Standard mode sleeps ``rand(0, 1) * min(base * 2 ** attempt, 20)`` seconds between attempts (1 s base for
    throttling): a completer absorbing a throttling burst would spend seconds of real time in a test. Only timing
    changes: which attempts are made, and what each is answered, stay exactly as they are.
    """
    backoff = botocore.retries.standard.ExponentialBackoff
    original = backoff.delay_amount
    backoff.delay_amount = lambda _self, _context: 0  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        backoff.delay_amount = original  # type: ignore[method-assign]


@dataclass(frozen=True)
class LocalEnvironment:
    runner: LocalDurableRunner
    dms: SimulatedDms


@contextmanager
def local_environment(
    handler: Callable[..., Any], settings: Mapping[str, str] | None = None, fast: bool = True
) -> Iterator[LocalEnvironment]:
    """Run ``handler`` locally: DMS is simulated on the runner's virtual clock, behind boto3's own client."""
    with local_durable_runner(handler, fast=fast) as runner:
        dms = SimulatedDms(clock=runner.clock)
        # The handlers' telemetry records go to this process's directory, where the comparison reads them back.
        telemetry = {TELEMETRY_DIRECTORY_VARIABLE: str(local_telemetry_directory())}
        values = {**DUMMY_AWS_ENVIRONMENT, **telemetry, **(settings or {})}
        with SimulatedDmsTransport(dms), patched_environment(values), instant_botocore_retries():
            yield LocalEnvironment(runner=runner, dms=dms)
