"""Answers in AWS's JSON protocols as botocore parses them: timestamps as epoch seconds, nothing JSON cannot hold."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any


def _epoch_seconds(value: object) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"{type(value).__name__} has no form in AWS's JSON protocols")


def aws_json_body(payload: dict[str, Any]) -> bytes:
    """The body of an answer (DMS's JSON 1.1, Lambda's REST JSON): datetimes become epoch seconds, the services'
    default timestamp format in both (botocore parses a number as seconds since the epoch)."""
    return json.dumps(payload, default=_epoch_seconds).encode()
