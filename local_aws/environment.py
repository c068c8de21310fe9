"""One local AWS environment for a durable handler: the runner with time skipping and the simulated DMS."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import botocore.loaders
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


# botocore's model files (service models, endpoint rule sets, the 1.2 MB endpoints.json), parsed once per process,
# and its listings of the services in its data directories (a walk of some 400 folders per new session).
_parsed_model_files: dict[str, Any] = {}
_service_listings: dict[tuple[tuple[str, ...], str], list[str]] = {}
_parsed_model_files_lock = threading.Lock()


@contextmanager
def model_files_parsed_once() -> Iterator[None]:
    """Every botocore session reads each model file it needs from a process-wide cache of parsed files.

    A botocore session caches what its loader parsed, but only for itself, and moto gives every mocked block a new
    default session: each callback run parsed the DynamoDB, Lambda and DMS models and endpoints.json again (about a
    quarter of the comparison's CPU time). Sessions now share the parsed files, as the clients of one session
    always have (botocore treats loaded models as read-only; the one in-place edit, merging a model's sdk-extras, is
    idempotent). Likewise the list of services a session's loader finds in its search paths: each new session
    walked every folder of botocore's data directory to find the one it needed. What each session loads, and every
    request and answer, are unchanged.
    """
    file_loader = botocore.loaders.JSONFileLoader
    parse = file_loader.load_file
    loader = botocore.loaders.Loader
    list_services = loader.list_available_services

    def load_file(self: botocore.loaders.JSONFileLoader, file_path: str) -> Any:
        with _parsed_model_files_lock:
            if file_path in _parsed_model_files:
                return _parsed_model_files[file_path]
        data = parse(self, file_path)
        if data is not None:  # a file that is not there may be added (~/.aws/models): look again next time
            with _parsed_model_files_lock:
                data = _parsed_model_files.setdefault(file_path, data)
        return data

    def list_available_services(self: botocore.loaders.Loader, type_name: str) -> list[str]:
        key = (tuple(self.search_paths), type_name)
        with _parsed_model_files_lock:
            if key in _service_listings:
                return list(_service_listings[key])
        found = list_services(self, type_name)
        with _parsed_model_files_lock:
            _service_listings.setdefault(key, list(found))
        return found

    file_loader.load_file = load_file  # type: ignore[method-assign]
    loader.list_available_services = list_available_services  # type: ignore[method-assign]
    try:
        yield
    finally:
        file_loader.load_file = parse  # type: ignore[method-assign]
        loader.list_available_services = list_services  # type: ignore[method-assign]


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
        with (
            SimulatedDmsTransport(dms),
            patched_environment(values),
            instant_botocore_retries(),
            model_files_parsed_once(),
        ):
            yield LocalEnvironment(runner=runner, dms=dms)
