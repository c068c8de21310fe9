"""What the adapters read from a botocore ClientError: code, message, HTTP status, and whether it is transient."""

from __future__ import annotations

from typing import NamedTuple

from botocore.exceptions import ClientError

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
