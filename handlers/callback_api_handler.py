"""CallbackApiFunction: a third party calls back its signed URL; complete the execution waiting for that job."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext

from callback_api.receiver import CallbackAnswer, build_receiver, function_url_request_problem
from callback_api.signing_secrets import signing_secrets
from waiting.errors import RetryableError
from waiting.observability import get_logger
from waiting.settings import CallbackApiSettings

# debug=False whatever POWERTOOLS_DEV says: a response never carries a stack trace.
app = LambdaFunctionUrlResolver(debug=False)


@app.post("/callbacks/<token>")
def receive_callback(token: str) -> Response[Any]:
    settings = CallbackApiSettings.from_env()
    secrets = signing_secrets(
        settings.secret_id,
        settings.secret_cache_seconds,
        settings.secret_rotation_overlap_seconds,
        settings.secret_forced_refresh_seconds,
    )
    event = app.current_event
    try:
        body = (
            base64.b64decode(event.body or "", validate=True)
            if event.is_base64_encoded
            else (event.body or "").encode()
        )
    except binascii.Error:
        return _json(CallbackAnswer(400, {"Outcome": "rejected-malformed", "Message": "the body is not valid base64"}))
    return _json(build_receiver(settings, secrets, get_logger()).receive(token, dict(event.headers), body))


@app.not_found
def unknown_route(_error: Exception) -> Response[Any]:
    return _json(CallbackAnswer(404, {"Outcome": "unknown-route", "Message": "POST /callbacks/<token> only"}))


def unavailable(error: RetryableError) -> Response[Any]:
    get_logger().warning("A dependency is unavailable; the third party should retry", extra={"error": str(error)})
    answer = CallbackAnswer(503, {"Outcome": "unavailable", "Message": "temporarily unavailable; retry later"})
    return _json(answer, {"Retry-After": "5"})


def internal_error(error: Exception) -> Response[Any]:
    # Only a misconfiguration (a missing table, a denied permission) or a bug gets here; the log has the details.
    get_logger().exception("Could not handle a third-party callback", extra={"error": str(error)})
    return _json(CallbackAnswer(500, {"Outcome": "internal-error", "Message": "internal error"}))


# Registered by call: the resolver's decorators are untyped.
app.exception_handler(RetryableError)(unavailable)
app.exception_handler(Exception)(internal_error)


def _json(answer: CallbackAnswer, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(answer.status, content_types.APPLICATION_JSON, answer.body, headers=headers)


def not_a_function_url_request(problem: str) -> dict[str, Any]:
    """A function URL response built by hand: the resolver cannot build one for an event it cannot read."""
    body = {"Outcome": "rejected-not-a-function-url-request", "Message": problem}
    return {
        "statusCode": 400,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": json.dumps(body, separators=(",", ":")),
        "isBase64Encoded": False,
    }


def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    get_logger().append_keys(function_request_id=context.aws_request_id)
    problem = function_url_request_problem(event)
    if problem is not None:
        get_logger().warning("Invoked with something that is not a function URL request", extra={"error": problem})
        return not_a_function_url_request(problem)
    return app.resolve(event, context)
