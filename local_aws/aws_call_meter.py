"""Counts the AWS API calls boto3 makes in this process, once per call (not per HTTP attempt), by service and operation.

The comparison prices DynamoDB by request units and reports every other call; the handlers stay unchanged. The meter
hooks botocore's ``before-parameter-build`` event, which fires once per API call before any retry, on boto3's default
session (created here if need be, so every client built afterwards carries the hook). Register once, by unique id:
a second registration would count every call twice.
"""

from __future__ import annotations

import json
import math
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3

_EVENT = "before-parameter-build"
_UNIQUE_ID = "local-aws-call-meter"
_active: list[AwsCallMeter] = []
_lock = threading.Lock()

# DynamoDB on-demand request units (as documented): a standard write is 1 WRU per 1 KB of item, a transactional
# one 2; an eventually consistent read is 0.5 RRU per 4 KB, a strongly consistent one 1, a transactional one 2.
_DYNAMODB_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem"})
_DYNAMODB_READS = frozenset({"GetItem", "Query", "Scan"})
_WRITE_UNIT_BYTES = 1024
_READ_UNIT_BYTES = 4096


@dataclass
class AwsCallMeter:
    """API calls made while the meter is active, and the DynamoDB request units they consume."""

    calls: Counter[str] = field(default_factory=Counter)
    dynamodb_write_units: float = 0.0
    dynamodb_read_units: float = 0.0
    unpriced_dynamodb_operations: set[str] = field(default_factory=set)

    def count(self, service: str, operation: str) -> int:
        return self.calls[f"{service}.{operation}"]

    def by_service(self, service: str) -> dict[str, int]:
        prefix = f"{service}."
        return {name.removeprefix(prefix): n for name, n in sorted(self.calls.items()) if name.startswith(prefix)}

    def record(self, service: str, operation: str, params: dict[str, Any]) -> None:
        self.calls[f"{service}.{operation}"] += 1
        if service == "dynamodb":
            self._record_dynamodb(operation, params)

    def _record_dynamodb(self, operation: str, params: dict[str, Any]) -> None:
        if operation in _DYNAMODB_WRITES:
            self.dynamodb_write_units += _units(params.get("Item") or params, _WRITE_UNIT_BYTES)
        elif operation in _DYNAMODB_READS:
            # The size read is not known before the call; the correlation items are far below 4 KB.
            self.dynamodb_read_units += 1.0 if params.get("ConsistentRead") else 0.5
        elif operation == "TransactWriteItems":
            for item in params.get("TransactItems", []):
                body: dict[str, Any] = next(iter(item.values()), {})
                self.dynamodb_write_units += 2 * _units(body.get("Item") or body, _WRITE_UNIT_BYTES)
        elif operation == "TransactGetItems":
            self.dynamodb_read_units += 2.0 * len(params.get("TransactItems", []))
        elif operation not in ("DescribeTable", "CreateTable", "DeleteTable", "ListTables", "UpdateTimeToLive"):
            self.unpriced_dynamodb_operations.add(operation)


def _units(payload: Any, unit_bytes: int) -> float:
    size = len(json.dumps(payload, default=str).encode())
    return float(max(1, math.ceil(size / unit_bytes)))


def _on_parameter_build(params: dict[str, Any], model: Any, event_name: str = "", **_kwargs: Any) -> None:
    if not _active:
        return
    # before-parameter-build.<service-id>.<Operation>
    parts = event_name.split(".")
    service = parts[1] if len(parts) > 2 else "unknown"
    operation = getattr(model, "name", parts[-1])
    for meter in list(_active):
        meter.record(service, operation, params)


def _install() -> None:
    """Hook boto3's default session, once; clients created from it afterwards call the meter."""
    session = boto3.DEFAULT_SESSION
    if session is None:
        boto3.setup_default_session()
        session = boto3.DEFAULT_SESSION
    if session is None:  # pragma: no cover - setup_default_session always sets it
        raise RuntimeError("boto3 did not create its default session")
    session.events.register(_EVENT, _on_parameter_build, unique_id=_UNIQUE_ID)


@contextmanager
def metered_aws_calls() -> Iterator[AwsCallMeter]:
    """Count the API calls made by boto3 clients created inside the block (create or reset clients inside it)."""
    meter = AwsCallMeter()
    with _lock:
        _install()
        _active.append(meter)
    try:
        yield meter
    finally:
        with _lock:
            _active.remove(meter)
