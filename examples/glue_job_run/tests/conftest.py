"""Fixtures for the Glue example: no real AWS, moto's Glue, and the local durable runner around each handler."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from moto import mock_aws

from aws_adapters.clients import reset_clients, service_client
from glue_job_run import callback_handler, polling_handler
from glue_job_run.tests.glue_support import MotoGlue, moto_glue
from local_aws.callback_environment import CallbackEnvironment, callback_environment
from local_aws.durable_runner import LocalDurableRunner, local_durable_runner
from local_aws.environment import DUMMY_AWS_ENVIRONMENT, instant_botocore_retries, patched_environment

_REAL_AWS_VARIABLES = ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Nothing may reach a real AWS account: dummy credentials, no profile, no inherited endpoints, fresh clients."""
    for name in _REAL_AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name in [name for name in os.environ if name.startswith("AWS_ENDPOINT_URL")]:
        monkeypatch.delenv(name)
    for name, value in DUMMY_AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    reset_clients()
    service_client.cache_clear()
    yield
    reset_clients()
    service_client.cache_clear()


@pytest.fixture
def glue(monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoGlue]:
    with moto_glue(monkeypatch) as moto:
        yield moto


@pytest.fixture
def polling_runner(glue: MotoGlue) -> Iterator[LocalDurableRunner]:
    """The example's polling handler on the local runner (time skipped), against moto's Glue."""
    with ExitStack() as stack:
        stack.enter_context(mock_aws())
        stack.enter_context(patched_environment(DUMMY_AWS_ENVIRONMENT))
        stack.enter_context(instant_botocore_retries())
        yield stack.enter_context(local_durable_runner(polling_handler.handler))


@pytest.fixture
def callback_env(glue: MotoGlue) -> Iterator[CallbackEnvironment]:
    """The example's callback handler on the local runner, moto's DynamoDB and Glue, Lambda's callback routes."""
    with callback_environment(handler=callback_handler.handler) as env:
        yield env
