"""Lambda's callback routes on 127.0.0.1, forwarding to an in-process DurableFunctionTestRunner.

Point ``AWS_ENDPOINT_URL_LAMBDA`` at ``url`` and an unchanged boto3 lambda client completes callbacks of executions
running on the local runner: ``SendDurableExecutionCallbackSuccess`` (``POST /2025-12-01/durable-execution-
callbacks/{CallbackId}/succeed``, the result as the raw body), ``...Failure`` (``.../fail``, the Error structure as
JSON) and ``...Heartbeat`` (``.../heartbeat``). Errors follow Lambda's REST-JSON shape: the code in the
``x-amzn-ErrorType`` header, ``{"Type": "User", "Message": ...}`` in the body. An unknown or closed callback
answers ``ResourceNotFoundException`` (404), as the runner does.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote, urlsplit

from aws_durable_execution_sdk_python.lambda_service import ErrorObject
from aws_durable_execution_sdk_python_testing.exceptions import AwsApiException
from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner

from local_aws.loopback_http import LoopbackHttpServer, LoopbackRequestHandler

_PREFIX = ("2025-12-01", "durable-execution-callbacks")
_ACTIONS = frozenset({"succeed", "fail", "heartbeat"})


class _CallbackRequestError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class LocalCallbackEndpoint(LoopbackHttpServer):
    """A small HTTP server answering the three callback operations; counts what it accepted and refused."""

    def __init__(self, runner: DurableFunctionTestRunner) -> None:
        self.runner = runner
        self.accepted: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self._lock = threading.Lock()
        super().__init__(self._handler_class(), "local-callback-endpoint")

    def handle(self, path: str, body: bytes) -> None:
        """Apply one request to the runner, or raise _CallbackRequestError with Lambda's answer."""
        segments = urlsplit(path).path.strip("/").split("/")
        if len(segments) != 4 or tuple(segments[:2]) != _PREFIX or segments[3] not in _ACTIONS:
            raise _CallbackRequestError(404, "UnknownOperationException", f"no such route: POST {path[:200]}")
        callback_id, action = unquote(segments[2]), segments[3]
        try:
            if action == "succeed":
                self.runner.send_callback_success(callback_id, body)
            elif action == "fail":
                self.runner.send_callback_failure(callback_id, _error_object(body))
            else:
                self.runner.send_callback_heartbeat(callback_id)
        except AwsApiException as err:
            self._count(self.refused, action)
            raise _CallbackRequestError(err.http_status_code, type(err).__name__, str(err)) from err
        self._count(self.accepted, action)

    def _count(self, counter: Counter[str], action: str) -> None:
        with self._lock:
            counter[action] += 1

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class _Handler(LoopbackRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    endpoint.handle(self.path, body)
                except _CallbackRequestError as err:
                    self._answer(err.status, {"Type": "User", "Message": err.message}, err.code)
                except Exception as err:  # noqa: BLE001 - a local stand-in answers 500 like the service would
                    self._answer(500, {"Type": "Service", "Message": str(err)}, "ServiceException")
                else:
                    self._answer(200, {})

            def _answer(self, status: int, payload: dict[str, Any], error_code: str | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if error_code:
                    self.send_header("x-amzn-ErrorType", error_code)
                self.end_headers()
                self.wfile.write(data)

        return _Handler


def _error_object(body: bytes) -> ErrorObject | None:
    if not body:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        raise _CallbackRequestError(400, "InvalidParameterValueException", "the Error body is not JSON") from None
    if not isinstance(data, dict):
        raise _CallbackRequestError(400, "InvalidParameterValueException", "the Error body must be a JSON object")
    return ErrorObject.from_dict(data)
