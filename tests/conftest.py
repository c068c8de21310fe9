"""Shared fixtures: dummy AWS credentials for every test, and a local environment per durable handler."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from aws_adapters.clients import reset_clients
from aws_adapters.telemetry import TELEMETRY_DIRECTORY_VARIABLE
from local_aws.environment import DUMMY_AWS_ENVIRONMENT, LocalEnvironment, local_environment
from tests.runner_modes import (
    CLOUD_OUTPUT_KEYS,
    CLOUD_POLL_INTERVAL_OPTION,
    CLOUD_TIMEOUT_OPTION,
    DMS_START_TYPE_OPTION,
    DMS_TASK_OPTION,
    LOCAL_BACKENDS,
    RUNNER_MODE_OPTION,
    STACK_NAME_OPTION,
    CloudBackend,
    CloudSettings,
    CloudStack,
    RunnerMode,
    ScenarioBackend,
    capture_cloud_settings,
    open_cloud_stack,
    variants,
)

_REAL_AWS_VARIABLES = ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")


@pytest.fixture(autouse=True, scope="session")
def _telemetry_records_to_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """For the whole session, not per test: the exporter writes a record on its own thread, and one written just
    after a test's environment was put back would otherwise go to stdout, into the test output."""
    previous = os.environ.get(TELEMETRY_DIRECTORY_VARIABLE)
    os.environ[TELEMETRY_DIRECTORY_VARIABLE] = str(tmp_path_factory.getbasetemp() / "telemetry")
    yield
    if previous is None:
        os.environ.pop(TELEMETRY_DIRECTORY_VARIABLE, None)
    else:
        os.environ[TELEMETRY_DIRECTORY_VARIABLE] = previous


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Nothing may reach a real AWS account: dummy credentials, no profile, no inherited endpoints."""
    for name in _REAL_AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL"):
            monkeypatch.delenv(name)
    for name, value in DUMMY_AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    # Telemetry records go to files, not to the test output (local environments name their own directory).
    monkeypatch.setenv(TELEMETRY_DIRECTORY_VARIABLE, str(tmp_path_factory.getbasetemp() / "telemetry"))
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


# --- where the shared scenario tests run: locally (default) or against a deployed stack (tests/runner_modes.py)

_CLOUD_SETTINGS = pytest.StashKey[CloudSettings]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("migration-wait", "where the scenario tests run")
    group.addoption(
        RUNNER_MODE_OPTION,
        choices=[mode.value for mode in RunnerMode],
        default=RunnerMode.LOCAL.value,
        help="local: the local runner and simulated AWS (default); cloud: the deployed stack named by --stack-name",
    )
    group.addoption(STACK_NAME_OPTION, default=None, help="cloud mode: the deployed CloudFormation stack")
    group.addoption(DMS_TASK_OPTION, default=None, help="cloud mode: a real replication task that stops normally")
    group.addoption(
        DMS_START_TYPE_OPTION,
        choices=["start-replication", "reload-target", "resume-processing"],
        default="start-replication",
        help="cloud mode: how to start that task (start-replication for its first run, reload-target to run it again)",
    )
    group.addoption(
        CLOUD_TIMEOUT_OPTION, type=int, default=3600, help="cloud mode: seconds to wait for one execution (3600)"
    )
    group.addoption(
        CLOUD_POLL_INTERVAL_OPTION,
        type=float,
        default=5.0,
        help="cloud mode: seconds between looks at a running execution (5; 0.2 against the local stand-in)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "local_only: needs the local simulation; cloud mode skips it")
    config.addinivalue_line("markers", "cloud_only: needs a deployed stack; local mode skips it")
    if RunnerMode(config.getoption(RUNNER_MODE_OPTION)) is RunnerMode.CLOUD:
        stack_name = config.getoption(STACK_NAME_OPTION)
        if not stack_name:
            raise pytest.UsageError(f"{RUNNER_MODE_OPTION} cloud needs {STACK_NAME_OPTION} NAME")
        # Captured before any test replaces the environment with dummy credentials.
        config.stash[_CLOUD_SETTINGS] = capture_cloud_settings(
            stack_name,
            config.getoption(DMS_TASK_OPTION),
            config.getoption(CLOUD_TIMEOUT_OPTION),
            dms_task_start_type=config.getoption(DMS_START_TYPE_OPTION),
            poll_interval=config.getoption(CLOUD_POLL_INTERVAL_OPTION),
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    mode = RunnerMode(config.getoption(RUNNER_MODE_OPTION))
    for item in items:
        # A test that builds a local environment needs the simulation, marked or not.
        local_only = item.get_closest_marker("local_only") or "make_local_environment" in item.fixturenames
        if mode is RunnerMode.CLOUD and local_only:
            reason = "needs the local simulation (cloud mode runs the shared scenarios)"
            item.add_marker(pytest.mark.skip(reason=reason))
        if mode is RunnerMode.LOCAL and item.get_closest_marker("cloud_only"):
            reason = f"needs a deployed stack: {RUNNER_MODE_OPTION} cloud {STACK_NAME_OPTION} NAME"
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def runner_mode(pytestconfig: pytest.Config) -> RunnerMode:
    return RunnerMode(pytestconfig.getoption(RUNNER_MODE_OPTION))


@pytest.fixture(scope="session")
def cloud_stack(pytestconfig: pytest.Config) -> CloudStack:
    """The deployed stack's outputs, read once with the credentials captured at start-up."""
    settings = pytestconfig.stash.get(_CLOUD_SETTINGS, None)
    if settings is None:
        pytest.skip(f"needs a deployed stack: {RUNNER_MODE_OPTION} cloud {STACK_NAME_OPTION} NAME")
    if settings.unavailable:
        pytest.skip(f"cloud mode: {settings.unavailable}")
    return open_cloud_stack(settings)


@pytest.fixture(params=variants())
def scenario(request: pytest.FixtureRequest, runner_mode: RunnerMode) -> ScenarioBackend:
    """One variant in the selected mode; the shared scenario tests take this instead of a local environment."""
    variant = str(request.param)
    if runner_mode is RunnerMode.CLOUD:
        if variant not in CLOUD_OUTPUT_KEYS:
            pytest.skip(f"the {variant} variant has no stack output to run against")
        settings = request.config.stash[_CLOUD_SETTINGS]
        stack = request.getfixturevalue("cloud_stack")
        return CloudBackend(
            variant,
            stack,
            settings.dms_task_arn,
            settings.timeout_seconds,
            settings.dms_task_start_type,
            poll_interval=settings.poll_interval,
        )
    if variant not in LOCAL_BACKENDS:
        pytest.skip(f"the {variant} variant has no local backend yet")
    # Local fixtures are looked up inside: requesting them here would mark every scenario test local-only.
    return LOCAL_BACKENDS[variant](request)
