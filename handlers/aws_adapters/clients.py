"""Lazily created, cached boto3 clients with explicit timeouts and retry mode (never built at import time)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dms import DatabaseMigrationServiceClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_secretsmanager import SecretsManagerClient

# Short timeouts everywhere. botocore's "standard" mode retries throttling and 5xx a few times.
_CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=10, retries={"mode": "standard", "max_attempts": 3})

# DMS calls run only inside durable steps and checks, whose retry policies (by exception type) are the one
# place retries are decided; a botocore retry underneath would sleep on billed Lambda time and hide the fault.
_DURABLE_CALL_CONFIG = Config(connect_timeout=5, read_timeout=10, retries={"mode": "standard", "total_max_attempts": 1})


@cache
def dms_client() -> DatabaseMigrationServiceClient:
    return boto3.client("dms", config=_DURABLE_CALL_CONFIG)


# Callers outside durable steps (the completers) have no step retry behind them: their DMS reads retry throttling and
# 5xx in botocore's standard mode (5 attempts, exponential backoff with jitter), and what still fails raises, so
# Lambda's asynchronous retries (two, hours apart at most) take over, then the dead-letter queue.
_COMPLETER_DMS_CONFIG = Config(
    connect_timeout=5, read_timeout=10, retries={"mode": "standard", "total_max_attempts": 5}
)


@cache
def completer_dms_client() -> DatabaseMigrationServiceClient:
    return boto3.client("dms", config=_COMPLETER_DMS_CONFIG)


@cache
def dynamodb_client() -> DynamoDBClient:
    return boto3.client("dynamodb", config=_CLIENT_CONFIG)


@cache
def lambda_client() -> LambdaClient:
    return boto3.client("lambda", config=_CLIENT_CONFIG)


# Callback sends are not safe for botocore to replay: after a lost answer the replay finds the callback closed by
# the first attempt. The sender retries them itself and remembers which attempts may have been applied.
@cache
def lambda_callback_client() -> LambdaClient:
    return boto3.client("lambda", config=_DURABLE_CALL_CONFIG)


@cache
def secretsmanager_client() -> SecretsManagerClient:
    return boto3.client("secretsmanager", config=_CLIENT_CONFIG)


@cache
def service_client(service: str, total_max_attempts: int = 1) -> Any:
    """A client for any service (a new kind's), with the same timeouts; one attempt by default, for durable steps."""
    retries: Any = {"mode": "standard", "total_max_attempts": total_max_attempts}
    return boto3.client(service, config=Config(connect_timeout=5, read_timeout=10, retries=retries))  # type: ignore[call-overload]


def reset_clients() -> None:
    """Forget cached clients, so the next call sees a changed environment (tests switch endpoints)."""
    for factory in (
        dms_client,
        completer_dms_client,
        dynamodb_client,
        lambda_client,
        lambda_callback_client,
        secretsmanager_client,
        service_client,
    ):
        factory.cache_clear()
