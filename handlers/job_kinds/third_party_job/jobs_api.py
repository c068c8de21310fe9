"""HTTP adapter for the third party's job API: start a job, read its status; HTTP errors -> the error tree.

The API this project targets (and ``local_aws/third_party_service.py`` serves):

- ``PUT {base}/jobs/{JobId}`` with ``{"ReplicationTaskArn", "StartReplicationTaskType", "CallbackUrl"}``: creates
  the job under a client-chosen id (201), or answers 200 with the existing job when the same id comes again, so a
  retried submitter never starts a second job. 404: no such task; 409: the task is busy.
- ``GET {base}/jobs/{JobId}``: the job status document, also the body of the third party's callback:
  ``{"JobId", "ReplicationTaskArn", "Status", "StopReason", "LastFailureMessage", "FullLoadProgressPercent",
  "StartDate", "StopDate", "ObservedAt"}`` in DMS's words, so the shared ``classify_task_state`` decides.

A third party with another vocabulary is translated here, and only here. Retries are decided by the durable step
policies, by exception type: throttling (429), 408, 5xx, timeouts and unreachable hosts are ``RetryableError``;
every other answer is terminal, its message quoting the third party's.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from http.client import HTTPException
from typing import Any, TypedDict
from urllib.parse import quote

from job_kinds.third_party_job.status import classify_job_status
from waiting.domain import WorkRequest, WorkSnapshot, parse_finish_record
from waiting.errors import (
    InvalidInputError,
    MigrationWaitError,
    TaskNotFoundError,
    ThirdPartyJobRejectedError,
    ThirdPartyJobUnavailableError,
)

JOB_ID_PREFIX = "mw-"
_RETRYABLE_STATUSES = frozenset({408, 429})
# The answer is a small JSON document; anything larger is not one.
_MAX_RESPONSE_BYTES = 256 * 1024

Opener = Callable[..., Any]


class JobRequest(TypedDict):
    """The body of ``PUT /jobs/{JobId}``."""

    ReplicationTaskArn: str
    StartReplicationTaskType: str
    CallbackUrl: str


def job_id_for(execution_arn: str) -> str:
    """The job's id, derived from the execution: every retry and replay of the execution names the same job."""
    return JOB_ID_PREFIX + hashlib.sha256(execution_arn.encode()).hexdigest()[:40]


class ThirdPartyJobs:
    """The two calls the third-party variant needs, with explicit timeouts and no hidden retries."""

    def __init__(self, base_url: str, timeout_seconds: float, opener: Opener | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_seconds = timeout_seconds
        # No redirects are followed: a job API that redirects is misconfigured, and a redirect must not move a
        # callback URL (a bearer capability) to another host.
        self._open = opener or urllib.request.build_opener(_NoRedirects).open

    def start_job(self, job_id: str, request: WorkRequest, callback_url: str) -> dict[str, Any]:
        """Create the job (or find the one a previous attempt created); return the third party's answer."""
        body: JobRequest = {
            "ReplicationTaskArn": request.key,
            "StartReplicationTaskType": request.start_type,
            "CallbackUrl": callback_url,
        }
        return self._call("PUT", job_id, json.dumps(body).encode(), request.key)

    def describe_job(self, job_id: str, task_arn: str) -> WorkSnapshot:
        """The job's current state as a snapshot (the role DescribeReplicationTasks plays for DMS)."""
        answer = self._call("GET", job_id, None, task_arn)
        try:
            return parse_finish_record(json.dumps(answer), classify=classify_job_status)
        except InvalidInputError as err:
            raise ThirdPartyJobRejectedError(f"the third party's status of job {job_id} is unreadable: {err}") from err

    def _call(self, method: str, job_id: str, body: bytes | None, task_arn: str) -> dict[str, Any]:
        url = f"{self.base_url}/jobs/{quote(job_id, safe='')}"
        headers = {"Accept": "application/json", "User-Agent": "migration-wait"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        # The scheme is https (http only on 127.0.0.1): ThirdPartySettings checks THIRD_PARTY_API_URL at start.
        request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310
        what = f"{method} /jobs/{job_id} for {task_arn}"
        try:
            with self._open(request, timeout=self.timeout_seconds) as response:
                raw = response.read(_MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as err:
            raise _translate(err, what) from err
        except (urllib.error.URLError, TimeoutError, ConnectionError, HTTPException) as err:
            raise ThirdPartyJobUnavailableError(f"the third party's job API did not answer {what}: {err}") from err
        return _document(raw, what)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _document(raw: bytes, what: str) -> dict[str, Any]:
    if len(raw) > _MAX_RESPONSE_BYTES:
        raise ThirdPartyJobRejectedError(f"the third party answered {what} with more than {_MAX_RESPONSE_BYTES} bytes")
    try:
        document = json.loads(raw)
    except ValueError:
        raise ThirdPartyJobUnavailableError(
            f"the third party answered {what} with something that is not JSON: {raw[:100]!r}"
        ) from None
    if not isinstance(document, dict):
        raise ThirdPartyJobRejectedError(
            f"the third party answered {what} with {type(document).__name__}, not an object"
        )
    return document


def _message(err: urllib.error.HTTPError) -> str:
    try:
        raw = err.read(4096)
    except (OSError, HTTPException):
        return ""
    try:
        document = json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")[:300]
    message = document.get("Message") if isinstance(document, dict) else None
    return str(message)[:300] if message else raw.decode("utf-8", "replace")[:300]


def _translate(err: urllib.error.HTTPError, what: str) -> MigrationWaitError:
    status = err.code
    message = _message(err)
    if status in _RETRYABLE_STATUSES or status >= 500:
        return ThirdPartyJobUnavailableError(f"the third party answered {status} to {what}: {message}")
    if status == 404:
        return TaskNotFoundError(f"the third party answered 404 to {what}: not found: {message}")
    return ThirdPartyJobRejectedError(f"the third party refused {what} ({status}): {message}")
