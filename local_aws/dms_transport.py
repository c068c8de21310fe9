"""Routes boto3's DMS requests to a SimulatedDms inside botocore, the way moto does: the handler code is unchanged.

botocore still serializes, signs and parses every call (the JSON 1.1 wire format, error codes, the HTTP Date
header); only the network is skipped. A local endpoint over HTTP cost a third more wall time per poll here.
Requests for other services, or made while no simulation is active, pass through untouched (to moto or AWS).
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from datetime import datetime
from email.utils import format_datetime
from typing import Any

import boto3
import botocore.handlers
from botocore.awsrequest import AWSPreparedRequest, AWSResponse, HTTPHeaders

from local_aws.dms_simulation import SimulatedDms, SimulatedDmsError

_EVENT_PREFIX = "before-send.database-migration-service."
_TARGET_PREFIX = "AmazonDMSv20160101."
_UNIQUE_ID = "local-aws-simulated-dms"
_ANSWERED = "_local_aws_simulated_dms_answered"
_active: list[SimulatedDms] = []
_install_lock = threading.Lock()
_installed = False


class _RawBody(io.BytesIO):
    """The file-like body botocore reads a response from."""

    def stream(self, amt: int = 65536, decode_content: bool | None = None) -> Iterator[bytes]:
        while chunk := self.read(amt):
            yield chunk


def _to_wire(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, dict):
        return {k: _to_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_wire(v) for v in value]
    return value


def _answer(simulation: SimulatedDms, request: AWSPreparedRequest) -> AWSResponse:
    target = request.headers.get("X-Amz-Target", b"")
    operation = (target.decode() if isinstance(target, bytes) else str(target)).removeprefix(_TARGET_PREFIX)
    body = request.body if isinstance(request.body, (bytes, str)) else b"{}"
    try:
        payload: dict[str, Any] = simulation.handle(operation, json.loads(body or b"{}"))
        status = 200
    except SimulatedDmsError as fault:
        payload = {"__type": fault.code, "message": fault.message}
        status = fault.status
    headers = HTTPHeaders()
    for name, value in {
        "Content-Type": "application/x-amz-json-1.1",
        # The simulation's time, as AWS's Date header carries AWS's: observers read the clock tasks run on.
        "Date": format_datetime(simulation.clock(), usegmt=True),
        "x-amzn-RequestId": f"simulated-{simulation.calls.total()}",
    }.items():
        headers[name] = value
    return AWSResponse(request.url, status, headers, _RawBody(json.dumps(_to_wire(payload)).encode()))


def _dispatch(request: AWSPreparedRequest, event_name: str = "", **_kwargs: Any) -> AWSResponse | None:
    if not _active or not event_name.startswith(_EVENT_PREFIX):
        return None
    # A session may carry this dispatcher twice (built in, and registered on boto3's default session below), and
    # botocore calls every before-send handler: the second call must not answer, and count, the request again.
    if getattr(request, _ANSWERED, False):
        return None
    setattr(request, _ANSWERED, True)
    return _answer(_active[-1], request)


def _install() -> None:
    """Add the dispatcher to every botocore session created from now on (moto's mechanism) and to boto3's
    default session if it already exists (it was created before us, so it did not get the built-in handlers)."""
    global _installed  # noqa: PLW0603 - one process-wide registration, made once
    with _install_lock:
        if not _installed:
            botocore.handlers.BUILTIN_HANDLERS.append(("before-send", _dispatch))
            _installed = True
        # The default session may predate the line above, or be an older one put back (moto swaps it out while
        # a mock is active and restores it after), so it is registered on every activation.
        if boto3.DEFAULT_SESSION is not None:
            # The stubs type handlers as returning None; before-send handlers may return a response.
            boto3.DEFAULT_SESSION.events.register("before-send", _dispatch, unique_id=_UNIQUE_ID)  # type: ignore[arg-type]


class SimulatedDmsTransport:
    """While active, every boto3 DMS client created in this process talks to ``simulation``.

    Clients created before activation keep their old routing: create (or reset) clients inside the block.
    """

    def __init__(self, simulation: SimulatedDms) -> None:
        self.simulation = simulation

    def __enter__(self) -> SimulatedDmsTransport:
        _install()
        _active.append(self.simulation)
        return self

    def __exit__(self, *_exc: object) -> None:
        _active.remove(self.simulation)
