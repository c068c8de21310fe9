"""Shared fixtures: dummy AWS credentials for every test, and a local environment per durable handler."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from local_aws.environment import DUMMY_AWS_ENVIRONMENT, LocalEnvironment, local_environment
from migration_wait.aws_clients import reset_clients

_REAL_AWS_VARIABLES = ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Nothing may reach a real AWS account: dummy credentials, no profile, no inherited endpoints."""
    for name in _REAL_AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name in list(__import__("os").environ):
        if name.startswith("AWS_ENDPOINT_URL"):
            monkeypatch.delenv(name)
    for name, value in DUMMY_AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    reset_clients()
    yield
    reset_clients()


LocalEnvironmentFactory = Callable[..., LocalEnvironment]


@pytest.fixture
def make_local_environment() -> Iterator[LocalEnvironmentFactory]:
    """``make_local_environment(handler, settings={...})`` -> a LocalEnvironment closed after the test."""
    with ExitStack() as stack:

        def make(handler: Callable[..., Any], settings: dict[str, str] | None = None) -> LocalEnvironment:
            return stack.enter_context(local_environment(handler, settings))

        yield make
