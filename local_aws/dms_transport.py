"""Routes boto3's DMS requests to a SimulatedDms inside botocore, the way moto does: the handler code is unchanged.

botocore still serializes and parses every call (the JSON 1.1 wire format, error codes, the HTTP Date header); only
the network is skipped, and the request's SigV4 signature: nothing here checks one, and computing it was a quarter of
botocore's time per simulated call (a poll makes one). A local endpoint over HTTP cost a third more wall time per
poll. Requests for other services, or made while no simulation is active, pass through untouched (signed, to moto
or AWS).

A lost answer (``SimulatedDms.lose_answer_next``) is applied by the simulation, then raised here as botocore's
``ReadTimeoutError``: raised inside the ``before-send`` handler, botocore's endpoint takes it for the attempt's
outcome, exactly as a socket read timeout, and its retry loop replays the call if the client's retry budget allows
(https://docs.aws.amazon.com/boto3/latest/guide/retries.html lists ReadTimeoutError among the retried errors).
The dispatcher is also registered with ``local_aws.faults``, so a ``FaultPlan``'s lost answer or crash after a
DMS call applies the call here first.
"""

from __future__ import annotations

import json
import threading
from email.utils import format_datetime
from typing import Any

import boto3
import botocore
import botocore.handlers
from botocore.awsrequest import AWSPreparedRequest, AWSResponse, HTTPHeaders
from botocore.exceptions import ReadTimeoutError

from local_aws.aws_json import aws_json_body
from local_aws.dms_simulation import SimulatedAnswerLost, SimulatedDms, SimulatedDmsError
from local_aws.faults import RawResponseBody, claim_answer, register_local_responder

_EVENT_PREFIX = "before-send.database-migration-service."
_SIGNER_EVENT = "choose-signer.database-migration-service"
_TARGET_PREFIX = "AmazonDMSv20160101."
_UNIQUE_ID = "local-aws-simulated-dms"
_active: list[SimulatedDms] = []
_install_lock = threading.Lock()
_installed = False


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
    except SimulatedAnswerLost:
        raise ReadTimeoutError(endpoint_url=request.url) from None
    headers = HTTPHeaders()
    for name, value in {
        "Content-Type": "application/x-amz-json-1.1",
        # The simulation's time, as AWS's Date header carries AWS's: observers read the clock tasks run on.
        "Date": format_datetime(simulation.clock(), usegmt=True),
        "x-amzn-RequestId": f"simulated-{simulation.calls.total()}",
    }.items():
        headers[name] = value
    return AWSResponse(request.url, status, headers, RawResponseBody(aws_json_body(payload)))


def _dispatch(request: AWSPreparedRequest, event_name: str = "", **_kwargs: Any) -> AWSResponse | None:
    if not _active or not event_name.startswith(_EVENT_PREFIX):
        return None
    # A session may carry this dispatcher twice (built in, and registered on boto3's default session below), and
    # botocore calls every before-send handler: the second call must not answer, and count, the request again;
    # nor may a request a fault plan already answered reach the simulation.
    if not claim_answer(request):
        return None
    return _answer(_active[-1], request)


def _no_signature_for_the_simulation(**_kwargs: Any) -> object:
    """A DMS request the simulation will answer goes unsigned (None lets botocore choose, as it otherwise does)."""
    return botocore.UNSIGNED if _active else None


register_local_responder(_dispatch)


def _install() -> None:
    """Add the dispatcher to every botocore session created from now on (moto's mechanism) and to boto3's
    default session if it already exists (it was created before us, so it did not get the built-in handlers)."""
    global _installed  # noqa: PLW0603 - one process-wide registration, made once
    with _install_lock:
        if not _installed:
            botocore.handlers.BUILTIN_HANDLERS.append(("before-send", _dispatch))
            botocore.handlers.BUILTIN_HANDLERS.append((_SIGNER_EVENT, _no_signature_for_the_simulation))
            _installed = True
        # The default session may predate the line above, or be an older one put back (moto swaps it out while
        # a mock is active and restores it after), so it is registered on every activation.
        if boto3.DEFAULT_SESSION is not None:
            # The stubs type handlers as returning None; before-send handlers may return a response.
            boto3.DEFAULT_SESSION.events.register("before-send", _dispatch, unique_id=_UNIQUE_ID)  # type: ignore[arg-type]
            boto3.DEFAULT_SESSION.events.register(
                _SIGNER_EVENT,
                _no_signature_for_the_simulation,  # type: ignore[arg-type]
                unique_id=f"{_UNIQUE_ID}-signer",
            )


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
