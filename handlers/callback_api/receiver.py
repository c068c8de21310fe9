"""CallbackApiFunction's workflow: a signed third-party callback in, one HTTP answer out, an execution completed once.

The checks, in order, each with its answer (bad input is always a 4xx naming the problem, never a 500):

0. the event is not a function URL request (a direct invoke, the console's test event, API Gateway REST): 400;
1. the body is larger than ``CALLBACK_MAX_BODY_BYTES``: 413;
2. the signature is missing, wrong, or its timestamp is outside the replay window: 401 (a signature that matches
   no cached secret first makes the secret be read again, at most once per ``SECRET_FORCED_REFRESH_SECONDS``);
3. the body is not a JSON job status document: 400, naming the field;
4. the token is malformed, unknown or expired: 404;
5. the token was used before: the answer it got then, word for word (nothing is sent again);
6. the callback names another job than the one the URL was issued for: 409;
7. the job is not finished yet: 202, not recorded (call back when it is);
8. otherwise the state is delivered to the waiting execution (success or failure) through the same delivery as the
   DMS completer, and the answer is recorded on the token: 200 completed, 202 left to the safety net, or 404 when no
   execution waits on this URL any more.

The signed body is trusted, not re-read from the third party: the HMAC proves who sent it, the token ties it to one
job of one execution (unlike a DMS event, which names only the task), and the execution classifies it with the
shared rule and asks the third party itself when it says "still running".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from aws_adapters.callback_sender import CallbackSender
from aws_adapters.correlation_store import CallbackRegistration, CorrelationStore
from callback_api.signatures import SignatureMismatchError, SignatureRejectedError, SignatureVerifier
from callback_api.tokens import CallbackToken, CallbackTokenStore, StoredAnswer, hash_token
from callback_api.tokens import is_well_formed_token as _well_formed
from job_kinds.third_party_job.status import classify_job_status
from waiting.callback_delivery import CallbackDelivery, DeliveryOutcome
from waiting.domain import WorkOutcome, WorkSnapshot, parse_finish_record
from waiting.errors import InvalidInputError
from waiting.settings import CallbackApiSettings

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

_MAX_JOB_ID_CHARS = 128


class SigningSecrets(Protocol):
    def get(self) -> Sequence[bytes]: ...

    def refresh(self) -> Sequence[bytes]:
        """Re-read the secrets now if the rate limit allows; the newest secrets either way."""
        ...


@dataclass(frozen=True)
class JobCallback:
    """A third party's callback, parsed: which job, and the state it reports."""

    job_id: str
    snapshot: WorkSnapshot


def parse_job_callback(body: bytes) -> JobCallback:
    """The callback body: the job status document (``JobId`` plus a WorkFinishRecord); errors name the field."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError("the body is not UTF-8 text") from None
    try:
        document = json.loads(text)
    except ValueError:
        raise InvalidInputError(f"the body is not JSON: {text[:100]!r}") from None
    if not isinstance(document, dict):
        raise InvalidInputError(f"the body must be a JSON object, got {type(document).__name__}")
    job_id = document.get("JobId")
    if not isinstance(job_id, str) or not job_id.strip() or len(job_id) > _MAX_JOB_ID_CHARS:
        raise InvalidInputError(f"JobId must be a non-empty string of at most {_MAX_JOB_ID_CHARS} characters")
    snapshot = parse_finish_record(text, classify=classify_job_status)
    return JobCallback(job_id=job_id, snapshot=snapshot)


@dataclass(frozen=True)
class CallbackAnswer:
    """The HTTP answer: status, JSON body, and whether it was the token's recorded (first) answer."""

    status: int
    body: dict[str, Any]
    recorded: bool = False


def _answer(status: int, outcome: str, message: str, **extra: Any) -> CallbackAnswer:
    return CallbackAnswer(status, {"Outcome": outcome, "Message": message, **extra})


@dataclass(frozen=True)
class SignedCallbackReceiver:
    """Checks one callback request and completes the waiting execution at most once."""

    settings: CallbackApiSettings
    secrets: SigningSecrets
    tokens: CallbackTokenStore
    store: CorrelationStore
    delivery: CallbackDelivery
    logger: Logger
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def receive(self, token: str, headers: Mapping[str, str], body: bytes) -> CallbackAnswer:
        answer, log = self._receive(token, headers, body)
        level = self.logger.info if answer.status < 400 or answer.status == 404 else self.logger.warning
        level("Answered a third-party callback", extra={**log, "StatusCode": answer.status, **answer.body})
        return answer

    def _receive(self, token: str, headers: Mapping[str, str], body: bytes) -> tuple[CallbackAnswer, dict[str, Any]]:
        # Never the token itself in a log line: it is a bearer capability. Its hash's prefix is enough to correlate.
        token_hash = hash_token(token)
        log: dict[str, Any] = {"TokenHash": token_hash[:12], "BodyBytes": len(body)}
        checked = self._check_request(headers, body)
        if isinstance(checked, CallbackAnswer):
            return checked, log
        log["JobId"] = checked.job_id
        issued = self.tokens.find(token_hash) if _well_formed(token) else None
        if issued is None or issued.expired(self.clock()):
            return _answer(404, "unknown-callback-url", "unknown or expired callback URL"), log
        log.update(ReplicationTaskArn=issued.replication_task_arn, ExecutionArn=issued.execution_arn)
        return self._answer_for(token_hash, issued, checked), log

    def _check_request(self, headers: Mapping[str, str], body: bytes) -> CallbackAnswer | JobCallback:
        """Size, signature, shape: what can be checked before anything is looked up."""
        limit = self.settings.max_body_bytes
        if len(body) > limit:
            return _answer(413, "rejected-too-large", f"the body is {len(body)} bytes; at most {limit} are accepted")
        try:
            self._verify(headers, body)
        except SignatureRejectedError as err:
            return _answer(401, "rejected-signature", f"signature rejected: {err}")
        try:
            return parse_job_callback(body)
        except InvalidInputError as err:
            return _answer(400, "rejected-malformed", str(err))

    def _verify(self, headers: Mapping[str, str], body: bytes) -> None:
        """Verify against the cached secrets, and once more against fresh ones if the signature did not match.

        After a rotation a warm instance holds the old secret for up to SECRET_CACHE_SECONDS; re-reading it on a
        mismatch (rate-limited in the secret source) accepts the new key at once instead of answering 401s.
        """
        now = self.clock()
        cached = self.secrets.get()
        try:
            SignatureVerifier(cached, self.settings.replay_window_seconds).verify(headers, body, now)
        except SignatureMismatchError:
            fresh = self.secrets.refresh()
            if tuple(fresh) == tuple(cached):
                raise
            SignatureVerifier(fresh, self.settings.replay_window_seconds).verify(headers, body, now)

    def _answer_for(self, token_hash: str, issued: CallbackToken, callback: JobCallback) -> CallbackAnswer:
        if issued.answer is not None:
            return CallbackAnswer(issued.answer.status, issued.answer.body, recorded=True)
        if callback.job_id != issued.job_id:
            message = f"this callback URL was issued for another job, not for JobId {callback.job_id!r}"
            return _answer(409, "rejected-job-mismatch", message)
        if callback.snapshot.outcome is WorkOutcome.RUNNING:
            message = f"Status {callback.snapshot.status!r} is not final: call back when the job has finished"
            return _answer(202, "ignored-not-terminal", message, JobId=issued.job_id)
        answer = self._deliver(issued, callback.snapshot)
        stored = self.tokens.record_answer(token_hash, StoredAnswer(answer.status, answer.body))
        return CallbackAnswer(stored.status, stored.body, recorded=True)

    def _deliver(self, issued: CallbackToken, snapshot: WorkSnapshot) -> CallbackAnswer:
        def same_wait(registration: CallbackRegistration) -> bool:
            return registration.execution_arn == issued.execution_arn

        registration = self.store.find(issued.replication_task_arn)
        outcome = DeliveryOutcome.NO_WAITING_EXECUTION
        if registration is not None and same_wait(registration):
            outcome = self.delivery.deliver(registration, snapshot, same_wait).outcome
        if outcome in (DeliveryOutcome.COMPLETED, DeliveryOutcome.ALREADY_DELIVERED):
            return _answer(200, "completed", "the waiting execution has the job's result", JobId=issued.job_id)
        if outcome is DeliveryOutcome.LEFT_FOR_NEXT_ROUND:
            message = "the execution is between two safety-net rounds; its next round takes this result"
            return _answer(202, "left-for-next-round", message, JobId=issued.job_id)
        return _answer(404, "no-waiting-execution", "no execution waits on this callback URL any more")


def function_url_request_problem(event: object) -> str | None:
    """Why ``event`` is not a Lambda function URL request (payload format 2.0) this function can route, or None.

    CallbackApiFunction is invoked by its function URL; anything else (the console's test event, an API Gateway
    REST API event, a direct invoke with ``{}`` or a list) gets a 400 naming the problem instead of a KeyError.
    """
    if not isinstance(event, dict):
        return f"the event is {_json_kind(event)}, not a function URL request (a JSON object)"
    if "httpMethod" in event:
        return "the event is an API Gateway REST API (payload 1.0) request; this function serves its function URL only"
    request_context = event.get("requestContext")
    http = request_context.get("http") if isinstance(request_context, dict) else None
    if not isinstance(http, dict):
        keys = ", ".join(sorted(str(key) for key in event)[:5]) or "none"
        return f"the event is not a function URL request: requestContext.http is missing (top-level keys: {keys})"
    fields: list[tuple[str, object, Callable[[object], bool]]] = [
        ("requestContext.http.method", http.get("method"), lambda v: isinstance(v, str) and bool(v)),
        ("rawPath", event.get("rawPath"), lambda v: isinstance(v, str)),
        ("headers", event.get("headers"), lambda v: v is None or _strings_by_name(v)),
        ("queryStringParameters", event.get("queryStringParameters"), lambda v: v is None or _strings_by_name(v)),
        ("cookies", event.get("cookies"), lambda v: v is None or (isinstance(v, list) and _all_strings(v))),
        ("body", event.get("body"), lambda v: v is None or isinstance(v, str)),
        ("isBase64Encoded", event.get("isBase64Encoded"), lambda v: v is None or isinstance(v, bool)),
    ]
    for name, value, usable in fields:
        if not usable(value):
            kind = "missing or null" if value is None else _json_kind(value)
            return f"the event is not a usable function URL request: {name} is {kind}"
    return None


def _strings_by_name(value: object) -> bool:
    return isinstance(value, dict) and _all_strings(value.keys()) and _all_strings(value.values())


def _all_strings(values: Iterable[object]) -> bool:
    return all(isinstance(value, str) for value in values)


_JSON_KINDS: dict[type, str] = {
    dict: "an object",
    list: "an array",
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
}


def _json_kind(value: object) -> str:
    return "null" if value is None else _JSON_KINDS.get(type(value), type(value).__name__)


def build_receiver(
    settings: CallbackApiSettings, secrets: SigningSecrets, logger: Logger, sender: CallbackSender | None = None
) -> SignedCallbackReceiver:
    """The receiver with its AWS adapters (clients are created lazily by the shared factories)."""
    store = CorrelationStore(settings.table_name)
    delivery = CallbackDelivery(
        store=store,
        sender=sender if sender is not None else CallbackSender(),
        grace_seconds=settings.reregistration_grace_seconds,
        logger=logger,
    )
    return SignedCallbackReceiver(
        settings=settings,
        secrets=secrets,
        tokens=CallbackTokenStore(settings.token_table_name),
        store=store,
        delivery=delivery,
        logger=logger,
    )
