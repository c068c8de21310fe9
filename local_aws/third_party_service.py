"""A third party's job service on 127.0.0.1: it runs migration jobs and calls back a signed URL; it can misbehave.

The HTTP API is the one ``handlers/job_kinds/third_party_job/jobs_api.py`` speaks: ``PUT /jobs/{JobId}`` starts a job
for a replication task (201; 200 with the same job for a repeated request; 404 unknown task; 409 busy task or a
JobId reused for another request), ``GET /jobs/{JobId}`` answers the job status document.

Jobs run on the simulation's clock: each job is a simulated task of ``local_aws.dms_simulation`` (its plan says
how long it runs and how it ends), so a job is exactly as far along as the durable runner's virtual clock says.
The service keeps no timers: ``call_back`` sends the job's callback when the driver says the job has finished
(``CallbackTimeline``, the one mechanism that moves simulated time). The callback is the status document, signed
with the shared secret (``X-Callback-Timestamp`` in wall-clock seconds: freshness is about the transport, not
about the simulated job). On demand it misbehaves: a wrong or missing signature, a tampered body, the callback
sent twice, or never sent.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from callback_api.signatures import TIMESTAMP_HEADER, signed_headers
from local_aws.dms_simulation import SimulatedDms, SimulatedDmsError
from local_aws.loopback_http import LoopbackHttpServer, LoopbackRequestHandler

_JOB_PATH = re.compile(r"^/jobs/([A-Za-z0-9_.-]{1,128})$")
_STATUS_FOR_FAULT = {"ResourceNotFoundFault": 404, "InvalidResourceStateFault": 409}


CALLBACK_TRIES = 3


class Misbehaviour(StrEnum):
    NONE = "none"
    WRONG_SIGNATURE = "wrong-signature"
    MISSING_SIGNATURE = "missing-signature"
    TAMPERED_BODY = "tampered-body"
    DUPLICATE = "duplicate"
    NO_CALLBACK = "no-callback"


@dataclass(frozen=True)
class LocalJob:
    job_id: str
    replication_task_arn: str
    start_type: str
    callback_url: str


@dataclass(frozen=True)
class CallbackAttempt:
    """One callback the service sent, and the answer it got."""

    job_id: str
    misbehaviour: Misbehaviour
    status: int
    answer: dict[str, Any]
    headers: dict[str, str]
    body: bytes


class _JobError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class LocalThirdPartyService(LoopbackHttpServer):
    """Jobs, their status endpoint and their signed callbacks, over HTTP on 127.0.0.1."""

    def __init__(self, jobs: SimulatedDms, secret: bytes, wall_clock: Callable[[], float] = time.time) -> None:
        self.simulation = jobs
        self.secret = secret
        self.wall_clock = wall_clock
        self.misbehaviour = Misbehaviour.NONE
        self.requests: Counter[str] = Counter()
        self.callbacks: list[CallbackAttempt] = []
        self._jobs: dict[str, LocalJob] = {}
        self._failures: list[int] = []
        self._lock = threading.Lock()
        super().__init__(self._handler_class(), "local-third-party")

    # --- what a test or the timeline asks of the service -------------------------------------------------

    def fail_next(self, requests: int, status: int = 503) -> None:
        """Answer the next ``requests`` API requests with ``status`` (503, 429, ...) instead."""
        with self._lock:
            self._failures.extend([status] * requests)

    def job(self, job_id: str) -> LocalJob:
        with self._lock:
            return self._jobs[job_id]

    def job_for_task(self, task_arn: str) -> LocalJob:
        with self._lock:
            found = [job for job in self._jobs.values() if job.replication_task_arn == task_arn]
        if len(found) != 1:
            raise LookupError(f"{len(found)} jobs for task {task_arn}")
        return found[0]

    def status_document(self, job: LocalJob) -> dict[str, Any]:
        """The job as ``GET /jobs/{JobId}`` shows it now (and as its callback carries it)."""
        now = self.simulation.clock()
        task = self.simulation.task(job.replication_task_arn).describe(now)
        stats = task.get("ReplicationTaskStats", {})
        return {
            "JobId": job.job_id,
            "ReplicationTaskArn": job.replication_task_arn,
            "Status": task["Status"],
            "StopReason": task.get("StopReason"),
            "LastFailureMessage": task.get("LastFailureMessage"),
            "FullLoadProgressPercent": stats.get("FullLoadProgressPercent"),
            "StartDate": _iso(stats.get("StartDate")),
            "StopDate": _iso(stats.get("StopDate")),
            "ObservedAt": now.isoformat(),
        }

    def call_back(self, job: LocalJob) -> list[CallbackAttempt]:
        """Send the job's callback now, misbehaving as told; return what each request got back."""
        if self.misbehaviour is Misbehaviour.NO_CALLBACK:
            return []
        document = self.status_document(job)
        body = json.dumps(document, separators=(",", ":")).encode()
        headers = signed_headers(self.secret, int(self.wall_clock()), body)
        if self.misbehaviour is Misbehaviour.WRONG_SIGNATURE:
            headers = signed_headers(b"not-the-shared-secret", int(self.wall_clock()), body)
        elif self.misbehaviour is Misbehaviour.MISSING_SIGNATURE:
            headers = {TIMESTAMP_HEADER: headers[TIMESTAMP_HEADER]}
        elif self.misbehaviour is Misbehaviour.TAMPERED_BODY:
            # Signed as it was, then changed on the way: the final state turned around.
            flipped = {**document, "Status": "failed" if document["Status"] == "stopped" else "stopped"}
            body = json.dumps(flipped, separators=(",", ":")).encode()
        sends = 2 if self.misbehaviour is Misbehaviour.DUPLICATE else 1
        attempts = []
        sent = {**headers, "Content-Type": "application/json"}
        for _ in range(sends):
            # A callback answered 5xx is sent again, as webhook senders do (a few tries, then give up): the same
            # signed body, so a retry can never complete anything twice (the token keeps its first answer).
            for _try in range(CALLBACK_TRIES):
                status, answer = post(job.callback_url, body, sent)
                attempts.append(CallbackAttempt(job.job_id, self.misbehaviour, status, answer, sent, body))
                if status < 500:
                    break
        with self._lock:
            self.callbacks.extend(attempts)
        return attempts

    def call_back_task(self, task_arn: str) -> list[CallbackAttempt]:
        return self.call_back(self.job_for_task(task_arn))

    # --- the HTTP API ----------------------------------------------------------------------------------

    def _injected_failure(self) -> int | None:
        with self._lock:
            return self._failures.pop(0) if self._failures else None

    def _put_job(self, job_id: str, request: Any) -> tuple[int, dict[str, Any]]:
        if not isinstance(request, dict):
            raise _JobError(400, "the body must be a JSON object")
        task_arn, start_type, callback_url = (
            request.get("ReplicationTaskArn"),
            request.get("StartReplicationTaskType"),
            request.get("CallbackUrl"),
        )
        if not all(isinstance(v, str) and v for v in (task_arn, start_type, callback_url)):
            raise _JobError(400, "ReplicationTaskArn, StartReplicationTaskType and CallbackUrl are required strings")
        with self._lock:
            existing = self._jobs.get(job_id)
            if existing is not None:
                if (existing.replication_task_arn, existing.start_type) != (task_arn, start_type):
                    raise _JobError(409, f"JobId {job_id} already names another job")
                # Idempotent: the job the first request created, with its first callback URL.
                return 200, {"JobId": job_id, "Created": False}
            try:
                self.simulation.handle(
                    "StartReplicationTask", {"ReplicationTaskArn": task_arn, "StartReplicationTaskType": start_type}
                )
            except SimulatedDmsError as err:
                raise _JobError(_STATUS_FOR_FAULT.get(err.code, 400), err.message) from err
            self._jobs[job_id] = LocalJob(job_id, str(task_arn), str(start_type), str(callback_url))
        return 201, {"JobId": job_id, "Created": True}

    def _get_job(self, job_id: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise _JobError(404, f"job {job_id} not found")
        return 200, self.status_document(job)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        service = self

        class _Handler(LoopbackRequestHandler):
            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                service.requests[self.command] += 1
                match = _JOB_PATH.match(urlsplit(self.path).path)
                try:
                    failure = service._injected_failure()
                    if failure is not None:
                        raise _JobError(failure, "injected failure")
                    if match is None:
                        raise _JobError(404, f"no such route: {self.command} {self.path[:100]}")
                    if self.command == "PUT":
                        status, answer = service._put_job(match.group(1), _json(body))
                    elif self.command == "GET":
                        status, answer = service._get_job(match.group(1))
                    else:
                        raise _JobError(405, f"{self.command} is not supported")
                except _JobError as err:
                    status, answer = err.status, {"Message": err.message}
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve()

            def do_PUT(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

        return _Handler


def _json(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError:
        raise _JobError(400, "the body is not JSON") from None


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def post(url: str, body: bytes, headers: dict[str, str], timeout: float = 30.0) -> tuple[int, dict[str, Any]]:
    """POST ``body`` to ``url``; the status and the JSON answer (``{"raw": ...}`` if it is not JSON)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        status = response.status
    finally:
        connection.close()
    try:
        answer = json.loads(raw)
    except ValueError:
        return status, {"raw": raw.decode("utf-8", "replace")}
    return status, answer if isinstance(answer, dict) else {"raw": answer}
