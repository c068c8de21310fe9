"""What the adapters read from botocore: an error's code, message, status and transience; when the service answered."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple

from botocore.exceptions import BotoCoreError, ClientError

from waiting.errors import MigrationWaitError, RequestRejectedError, RetryableError, TaskNotFoundError

# The throttling codes DMS, DynamoDB, Lambda and Secrets Manager answer with. One set for all of them: every code
# here is also in botocore's own throttling list (standard retry mode), which it applies to every service alike.
THROTTLING_CODES = frozenset(
    {
        "LimitExceededException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ThrottledException",
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
    }
)


class AwsErrorDetails(NamedTuple):
    code: str
    message: str
    http_status: int


def error_details(err: ClientError) -> AwsErrorDetails:
    """The error's code and message, and the HTTP status it came with (0 if none is known)."""
    error = err.response.get("Error", {})
    return AwsErrorDetails(
        code=str(error.get("Code", "")),
        message=error.get("Message", ""),
        http_status=err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0),
    )


def is_transient(err: ClientError) -> bool:
    """Throttling or a server error (5xx): the same call may succeed later."""
    details = error_details(err)
    return details.code in THROTTLING_CODES or details.http_status >= 500


def server_time(response: Mapping[str, Any], fallback: Callable[[], datetime]) -> datetime:
    """When the service answered, from the response's HTTP Date header.

    Observation times come from the work owner's clock, not the Lambda's, so they compare directly with the work's
    StartDate and StopDate (no clock skew in run binding or in the detection lag). Endpoints that send no Date header
    fall back to ``fallback``.
    """
    headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    raw = headers.get("date")
    if raw:
        try:
            parsed = parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return fallback()
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return fallback()


def translate_client_error(
    err: ClientError | BotoCoreError,
    what: str,
    *,
    not_found: frozenset[str] = frozenset(),
    transient: frozenset[str] = frozenset(),
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> MigrationWaitError:
    """Any service's error on the project's tree: not found, transient (with when it answered) or rejected.

    Throttling and 5xx are transient for every service; ``transient`` adds a service's own codes.
    """
    if isinstance(err, BotoCoreError):
        return RetryableError(f"{what}: the service could not be reached: {err}", observed_at=clock())
    code, message, _ = error_details(err)
    if code in not_found:
        return TaskNotFoundError(f"{what}: {code}: {message}")
    if is_transient(err) or code in transient:
        return RetryableError(f"{what}: {code}: {message}", observed_at=server_time(err.response, clock))
    return RequestRejectedError(f"{what}: rejected: {code}: {message}")
