"""Fault injection for the local stand-ins: throttling, 5xx answers, lost answers and Lambda crashes, inside botocore.

A ``FaultPlan`` is a context manager holding rules (service + operation, an optional predicate on the call's
parameters, fired N times). While it is active, every boto3 client created in this process consults it inside
botocore's ``before-send`` event, after botocore has serialized and signed the request and inside botocore's own
retry loop, so the client reacts exactly as it would to the same thing on AWS. The services: ``dynamodb`` and
``secretsmanager`` (moto), ``dms`` (``SimulatedDms`` behind ``local_aws.dms_transport``; prefer the simulation's own
``throttle`` / ``fail_next`` / ``lose_answer_next`` there) and ``lambda`` (the local callback endpoint reached over
HTTP through ``AWS_ENDPOINT_URL_LAMBDA``).

Each fault, how it is produced, what it imitates:

- ``throttle``: the attempt is answered ThrottlingException (DynamoDB: ProvisionedThroughputExceededException;
  Lambda: TooManyRequestsException, HTTP 429; the others HTTP 400) in the service's own wire format, and the
  request is withheld from moto and the DMS simulation: nothing is applied. botocore's standard retry mode retries
  it with backoff up to the client's attempt budget (https://docs.aws.amazon.com/boto3/latest/guide/retries.html:
  throttling codes and 429 are retried).
- ``server_error``: the same, as an HTTP 500 (InternalServerError, InternalServiceError, ServiceException,
  InternalFailure): not applied, retried by botocore like any 5xx (same page).
- ``lose_answer``: the request is APPLIED (handed to the DMS simulation or moto, or sent to a loopback HTTP
  endpoint), then botocore sees ``ReadTimeoutError``: the answer never arrived. botocore's retry loop replays the
  call when the client allows retries (ReadTimeoutError is one of the transient errors both retry modes retry,
  same page), and the replay gets the service's second answer (e.g. InvalidResourceStateFault for a start, or
  ConditionalCheckFailedException for a conditional put); a client with ``total_max_attempts=1`` surfaces the
  timeout. This is the ambiguous failure of a network call: it may or may not have happened.
- ``crash_before`` / ``crash_after``: the Lambda process dies just before the request leaves (not applied) or just
  after it was applied (the answer is lost with the process). Raised as ``SimulatedLambdaCrash``, a BaseException,
  so no ``except Exception`` in handler, Powertools or SDK code can swallow it: the invocation ends there.

How the invocation is retried after a crash:

- A durable handler runs under the local runner wrapped in ``crash_tolerant``: the crash becomes
  ``LambdaInvocationCrashed`` (an ordinary exception) at the invoker, which the testing runner records as a failed
  invocation and re-invokes after ``RETRY_BACKOFF_SECONDS`` (``local_aws.durable_runner.retry_failed_invocations_
  after`` shortens it), up to ``MAX_CONSECUTIVE_FAILED_ATTEMPTS``. Lambda does the same for a durable function: the
  SDK's "backend retries for infrastructure failures"
  (https://docs.aws.amazon.com/lambda/latest/dg/durable-execution-sdk-retries.html) re-invoke the function, which
  replays from its checkpoints; an AT_MOST_ONCE_PER_RETRY step that was interrupted comes back to its retry strategy
  as StepInterruptedError (``operation/step.py``).
- A non-durable handler called directly by a test (``dms_events_handler.handler``, ``callback_api_handler.handler``)
  lets the crash propagate to the test, which then delivers the event again, as Lambda's asynchronous invocation
  retries a failed event twice (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html)
  and a synchronous caller retries on its own (https://docs.aws.amazon.com/lambda/latest/dg/invocation-retries).

Kinder than AWS, and why it does not matter here:

- A crash is an exception unwinding through the SDK, not a killed process: the SDK's exit path (``execution.py``:
  ``execution_state.close()`` then joining the checkpoint thread) still sends a batch of queued NON-blocking
  checkpoints, which a dead process would lose. The non-blocking checkpoints are the START of an
  AT_LEAST_ONCE_PER_RETRY step, of a child context and of a wait_for_condition (``operation/step.py``,
  ``child.py``, ``wait_for_condition.py``); every other update is blocking and was persisted before the code that
  crashed ran. Whether such a START survives changes nothing a handler sees: an AT_LEAST_ONCE step found STARTED
  runs again, as one never started does, with the same ``StepContext.attempt`` (START does not count an attempt,
  ``checkpoint/processors/step.py``). An AT_MOST_ONCE_PER_RETRY step's START is blocking: it is persisted before
  the step body runs, on AWS as here, so StepInterruptedError comes back the same way. Only timestamps and history
  counts of such operations may differ from a real crash.
- The local runner records no InvocationCompleted event for a crashed invocation (AWS bills it as an invocation):
  count crashes with ``FaultPlan.firings`` instead of the history. It also re-invokes after its fixed backoff on
  the real clock; AWS's delay is not documented.
- A crash inside a map/parallel branch thread is not modelled (the project's handlers use none).
"""

from __future__ import annotations

import functools
import io
import json
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from enum import StrEnum
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import boto3
import botocore.handlers
from botocore.awsrequest import AWSPreparedRequest, AWSResponse, HTTPHeaders
from botocore.exceptions import ReadTimeoutError
from botocore.httpsession import URLLib3Session

from aws_adapters.clients import reset_clients


class FaultKind(StrEnum):
    THROTTLE = "throttle"
    SERVER_ERROR = "server_error"
    # Any other error answer a stand-in was told to give (``SimulatedDms.fail_next``).
    ERROR = "error"
    LOSE_ANSWER = "lose_answer"
    CRASH_BEFORE = "crash_before"
    CRASH_AFTER = "crash_after"


@dataclass(frozen=True)
class FaultFiring:
    """One injected fault, as it happened: where, which, and at what (simulated) time."""

    service: str
    operation: str
    fault: FaultKind
    at: datetime
    # botocore's attempt number for this API call (1 = the first try), when the fault fired inside botocore.
    attempt: int | None = None
    detail: str = ""

    def to_record(self) -> dict[str, Any]:
        return {
            "Service": self.service,
            "Operation": self.operation,
            "Fault": self.fault.value,
            "At": self.at.isoformat(),
            "Attempt": self.attempt,
            "Detail": self.detail,
        }


class SimulatedLambdaCrash(BaseException):
    """The Lambda process died here. A BaseException, so that no ``except Exception`` can swallow it."""

    def __init__(self, firing: FaultFiring) -> None:
        super().__init__(f"simulated Lambda crash {firing.fault.value} {firing.service}.{firing.operation}")
        self.firing = firing


class LambdaInvocationCrashed(Exception):  # noqa: N818 - what the invoker reports, as Lambda names the outcome
    """A durable invocation that crashed, as the local runner's invoker sees it (a failed invocation to retry)."""


class FaultInjectionError(RuntimeError):
    """A fault plan that cannot be carried out as written (e.g. a lost answer no local stand-in can apply)."""


# A predicate on the API call's parameters, as the caller passed them (``Item``, ``TableName``, ``CallbackId``...).
ParamsPredicate = Callable[[Mapping[str, Any]], bool]


@dataclass
class FaultRule:
    """``fault`` for the next ``times`` attempts of ``service``.``operation`` whose parameters satisfy ``when``."""

    service: str
    operation: str
    fault: FaultKind
    times: int
    when: ParamsPredicate | None = None
    remaining: int = field(init=False)

    def __post_init__(self) -> None:
        if self.times < 1:
            raise FaultInjectionError(f"a fault fires at least once, got times={self.times}")
        self.remaining = self.times

    def matches(self, service: str, operation: str, params: Mapping[str, Any] | None) -> bool:
        if self.remaining <= 0 or (self.service, self.operation) != (service, operation):
            return False
        if self.when is None:
            return True
        return params is not None and bool(self.when(params))


@dataclass(frozen=True)
class _ErrorAnswer:
    code: str
    status: int
    message: str


@dataclass(frozen=True)
class _ServiceWire:
    """How a service spells an error on the wire: JSON 1.0/1.1 with ``__type``, or REST-JSON with a header."""

    json_version: str | None
    type_prefix: str
    throttle: _ErrorAnswer
    server_error: _ErrorAnswer


_RATE_EXCEEDED = "Rate exceeded"
# The error shapes each service's botocore model declares (ThrottlingException is the generic AWS one).
_WIRES: dict[str, _ServiceWire] = {
    "dynamodb": _ServiceWire(
        "1.0",
        "com.amazonaws.dynamodb.v20120810#",
        _ErrorAnswer(
            "ProvisionedThroughputExceededException",
            400,
            "The level of configured provisioned throughput for the table was exceeded. "
            "Consider increasing your provisioning level with the UpdateTable API.",
        ),
        _ErrorAnswer("InternalServerError", 500, "Internal server error"),
    ),
    "secretsmanager": _ServiceWire(
        "1.1",
        "",
        _ErrorAnswer("ThrottlingException", 400, _RATE_EXCEEDED),
        _ErrorAnswer("InternalServiceError", 500, "An error occurred on the server side."),
    ),
    "dms": _ServiceWire(
        "1.1",
        "",
        _ErrorAnswer("ThrottlingException", 400, _RATE_EXCEEDED),
        _ErrorAnswer("InternalFailure", 500, "The request processing has failed because of an unknown error."),
    ),
    "lambda": _ServiceWire(
        None,
        "",
        _ErrorAnswer("TooManyRequestsException", 429, _RATE_EXCEEDED),
        _ErrorAnswer("ServiceException", 500, "The AWS Lambda service encountered an internal error."),
    ),
}
# botocore names services by their hyphenized service id in event names; rules use boto3's client names.
_CLIENT_NAMES = {"database-migration-service": "dms", "secrets-manager": "secretsmanager"}

_PARAMS_KEY = "local_aws_faults_params"
_SEEN_BY_INJECTOR = "_local_aws_faults_seen"
_ANSWERED = "_local_aws_answered"
# A URL no stand-in serves: moto answers only AWS URLs, so a request pointed here is left alone.
_WITHHELD_URL = "http://fault-injected.invalid/"
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_LOOPBACK_TIMEOUT_SECONDS = 10
# botocore keeps one registration per unique id and emitter, whatever the event: one id per hook.
_PARAMS_UNIQUE_ID = "local-aws-fault-injector-params"
_INJECT_UNIQUE_ID = "local-aws-fault-injector"

Responder = Callable[..., AWSResponse | None]
_responders: list[Responder] = []
_active: list[FaultPlan] = []
_install_lock = threading.Lock()
_installed = False


def claim_answer(request: AWSPreparedRequest) -> bool:
    """True for the first caller only: that caller answers ``request``; any later one must leave it alone.

    A session may carry a responder twice (built in, and registered on boto3's default session), and botocore calls
    every ``before-send`` handler; a request a fault already answered must not reach a stand-in either.
    """
    if getattr(request, _ANSWERED, False):
        return False
    setattr(request, _ANSWERED, True)
    return True


def register_local_responder(responder: Responder) -> None:
    """A ``before-send`` handler that answers some requests locally (``local_aws.dms_transport``): a lost answer or a
    crash after the call hands the request to it first, so the call is really applied."""
    if responder not in _responders:
        _responders.append(responder)


class FaultPlan:
    """Rules for faults in boto3 calls made while the plan is active (``with FaultPlan(...) as faults:``).

    ``clock`` stamps each firing (pass the local runner's virtual clock). Rules are added by the builder methods,
    which return the plan; the first matching rule fires. Clients cached before the plan's first activation in
    this process lack the hook, so entering the plan drops the project's cached clients (``reset_clients``).
    """

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.rules: list[FaultRule] = []
        self._firings: list[FaultFiring] = []
        self._lock = threading.Lock()

    # --- building -------------------------------------------------------------------------------------------

    def throttle(self, service: str, operation: str, times: int = 1, when: ParamsPredicate | None = None) -> Self:
        """Answer the next ``times`` attempts with the service's throttling error; nothing is applied."""
        return self._add(service, operation, FaultKind.THROTTLE, times, when)

    def server_error(self, service: str, operation: str, times: int = 1, when: ParamsPredicate | None = None) -> Self:
        """Answer the next ``times`` attempts with the service's HTTP 500 error; nothing is applied."""
        return self._add(service, operation, FaultKind.SERVER_ERROR, times, when)

    def lose_answer(self, service: str, operation: str, times: int = 1, when: ParamsPredicate | None = None) -> Self:
        """Apply the next ``times`` attempts, then time out reading their answers (botocore may replay them)."""
        return self._add(service, operation, FaultKind.LOSE_ANSWER, times, when)

    def crash_before(self, service: str, operation: str, times: int = 1, when: ParamsPredicate | None = None) -> Self:
        """Kill the Lambda just before the next ``times`` attempts are sent (not applied)."""
        return self._add(service, operation, FaultKind.CRASH_BEFORE, times, when)

    def crash_after(self, service: str, operation: str, times: int = 1, when: ParamsPredicate | None = None) -> Self:
        """Kill the Lambda just after the next ``times`` attempts were applied (their answers die with it)."""
        return self._add(service, operation, FaultKind.CRASH_AFTER, times, when)

    def _add(self, service: str, operation: str, fault: FaultKind, times: int, when: ParamsPredicate | None) -> Self:
        if fault in (FaultKind.THROTTLE, FaultKind.SERVER_ERROR) and service not in _WIRES:
            raise FaultInjectionError(
                f"no wire format for {service!r} errors; {fault.value} knows {', '.join(sorted(_WIRES))}"
            )
        with self._lock:
            self.rules.append(FaultRule(service, operation, fault, times, when))
        return self

    # --- reporting ------------------------------------------------------------------------------------------

    @property
    def firings(self) -> list[FaultFiring]:
        with self._lock:
            return list(self._firings)

    def count(self, fault: FaultKind | None = None, service: str | None = None, operation: str | None = None) -> int:
        return sum(
            1
            for f in self.firings
            if fault in (None, f.fault) and service in (None, f.service) and operation in (None, f.operation)
        )

    def unfired(self) -> list[FaultRule]:
        """Rules with firings left: a scenario that armed a fault its code never reached shows up here."""
        with self._lock:
            return [rule for rule in self.rules if rule.remaining > 0]

    # --- activation -----------------------------------------------------------------------------------------

    def __enter__(self) -> Self:
        _install()
        with _install_lock:
            _active.append(self)
        reset_clients()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        with _install_lock:
            _active.remove(self)

    def _take(
        self, service: str, operation: str, params: Mapping[str, Any] | None, attempt: int | None
    ) -> tuple[FaultRule, FaultFiring] | None:
        with self._lock:
            for rule in self.rules:
                if rule.matches(service, operation, params):
                    rule.remaining -= 1
                    firing = FaultFiring(service, operation, rule.fault, self.clock(), attempt)
                    self._firings.append(firing)
                    return rule, firing
        return None


def crash_tolerant(handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Wrap the handler given to the local runner: a ``SimulatedLambdaCrash`` becomes ``LambdaInvocationCrashed``.

    The testing runner's executor treats an Exception from its invoker as a failed invocation and re-invokes it
    (``_invoke_handler`` -> ``_retry_after_error`` -> ``_retry_invocation``), as Lambda re-invokes a durable function
    after a crashed invocation; a BaseException would instead kill the runner's asyncio task and hang the execution.
    """

    @functools.wraps(handler)
    def invoke(event: Any, context: Any) -> Any:
        try:
            return handler(event, context)
        except SimulatedLambdaCrash as crash:
            raise LambdaInvocationCrashed(str(crash)) from crash

    return invoke


# --- inside botocore -----------------------------------------------------------------------------------------


def _remember_params(params: Mapping[str, Any], context: dict[str, Any] | None = None, **_kwargs: Any) -> None:
    # The call's parameters as the caller passed them, before serialization: rules match on these. botocore hands
    # the same request context to every attempt's prepared request.
    if _active and context is not None:
        context[_PARAMS_KEY] = dict(params)


def _inject(request: AWSPreparedRequest, event_name: str = "", **_kwargs: Any) -> AWSResponse | None:
    if not _active or getattr(request, _SEEN_BY_INJECTOR, False):
        return None
    setattr(request, _SEEN_BY_INJECTOR, True)
    # before-send.<service-id>.<Operation>
    parts = event_name.split(".")
    if len(parts) != 3:
        return None
    service, operation = _CLIENT_NAMES.get(parts[1], parts[1]), parts[2]
    context = getattr(request, "context", None) or {}
    params = context.get(_PARAMS_KEY)
    attempt = context.get("retries", {}).get("attempt")
    with _install_lock:
        plans = list(reversed(_active))
    for plan in plans:
        taken = plan._take(service, operation, params, attempt)
        if taken is not None:
            return _fire(*taken, request, event_name)
    return None


def _fire(rule: FaultRule, firing: FaultFiring, request: AWSPreparedRequest, event_name: str) -> AWSResponse | None:
    if rule.fault is FaultKind.THROTTLE:
        return _error_answer(request, _WIRES[rule.service].throttle, rule.service, firing.at)
    if rule.fault is FaultKind.SERVER_ERROR:
        return _error_answer(request, _WIRES[rule.service].server_error, rule.service, firing.at)
    if rule.fault is FaultKind.CRASH_BEFORE:
        raise SimulatedLambdaCrash(firing)
    endpoint_url = request.url
    _apply(request, event_name)
    if rule.fault is FaultKind.CRASH_AFTER:
        raise SimulatedLambdaCrash(firing)
    # Raised inside before-send, botocore treats it as the attempt's outcome: its retry checker decides.
    raise ReadTimeoutError(endpoint_url=endpoint_url)


def _error_answer(request: AWSPreparedRequest, answer: _ErrorAnswer, service: str, now: datetime) -> AWSResponse:
    """The service's error, in its wire format; the request is withheld from every stand-in (nothing applied)."""
    url = request.url
    claim_answer(request)  # the DMS transport leaves a claimed request alone
    request.url = _WITHHELD_URL  # and moto does not serve a URL outside AWS
    wire = _WIRES[service]
    headers = HTTPHeaders()
    headers["x-amzn-RequestId"] = f"fault-injected-{answer.code}"
    headers["Date"] = format_datetime(now, usegmt=True)
    if wire.json_version is not None:
        headers["Content-Type"] = f"application/x-amz-json-{wire.json_version}"
        body: dict[str, Any] = {"__type": f"{wire.type_prefix}{answer.code}", "message": answer.message}
    else:
        headers["Content-Type"] = "application/json"
        headers["x-amzn-ErrorType"] = answer.code
        body = {"Type": "User" if answer.status < 500 else "Service", "message": answer.message}
    return AWSResponse(url, answer.status, headers, RawResponseBody(json.dumps(body).encode()))


def _apply(request: AWSPreparedRequest, event_name: str) -> None:
    """Let the request really happen: a local responder, moto, or a loopback HTTP endpoint; never the network."""
    for responder in [*_responders, *_moto_responders()]:
        if responder(event_name=event_name, request=request) is not None:
            return
    host = urlsplit(request.url).hostname or ""
    if host not in _LOOPBACK_HOSTS:
        raise FaultInjectionError(
            f"cannot apply {event_name} before losing its answer: no local stand-in serves {request.url} "
            "and it is not a loopback endpoint (nothing may reach AWS)"
        )
    session = URLLib3Session(timeout=_LOOPBACK_TIMEOUT_SECONDS)
    try:
        session.send(request).content  # noqa: B018 - read the whole answer, then drop it
    finally:
        session.close()


def _moto_responders() -> list[Responder]:
    # moto registers one stubber instance in botocore's built-in handlers; it answers only while a mock is active.
    models = sys.modules.get("moto.core.models")
    stubber = getattr(models, "botocore_stubber", None)
    return [stubber] if stubber is not None and getattr(stubber, "enabled", False) else []


class RawResponseBody(io.BytesIO):
    """The file-like body botocore reads a response from (a stand-in's answer, built in memory)."""

    def stream(self, amt: int = 65536, decode_content: bool | None = None) -> Iterator[bytes]:
        while chunk := self.read(amt):
            yield chunk


def _install() -> None:
    """Hook every botocore session created from now on (moto's mechanism) and boto3's default session if it exists.

    The injector registers FIRST on ``before-send``: it must decide before moto or the DMS transport answer.
    """
    global _installed  # noqa: PLW0603 - one process-wide registration, made once
    with _install_lock:
        if not _installed:
            botocore.handlers.BUILTIN_HANDLERS.append(("before-parameter-build", _remember_params))
            botocore.handlers.BUILTIN_HANDLERS.append(("before-send", _inject, botocore.handlers.REGISTER_FIRST))
            _installed = True
        session = boto3.DEFAULT_SESSION
        if session is not None:
            # The default session may predate the lines above, or be an older one put back by moto.
            session.events.register("before-parameter-build", _remember_params, unique_id=_PARAMS_UNIQUE_ID)
            # The stubs type handlers as returning None; before-send handlers may return a response.
            session.events.register_first("before-send", _inject, unique_id=_INJECT_UNIQUE_ID)  # type: ignore[arg-type]
