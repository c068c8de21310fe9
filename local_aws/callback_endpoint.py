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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

from aws_durable_execution_sdk_python.lambda_service import ErrorObject
from aws_durable_execution_sdk_python_testing.exceptions import AwsApiException
from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner

_PREFIX = ("2025-12-01", "durable-execution-callbacks")
_ACTIONS = frozenset({"succeed", "fail", "heartbeat"})


class _CallbackRequestError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class LocalCallbackEndpoint:
    """A small HTTP server answering the three callback operations; counts what it accepted and refused."""

    def __init__(self, runner: DurableFunctionTestRunner) -> None:
        self.runner = runner
        self.accepted: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        # A short poll interval: shutdown() waits up to one interval (0.5 s by default) for the serving loop.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="local-callback-endpoint", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> LocalCallbackEndpoint:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

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

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Without it every answer waits for the client's delayed ACK: about 40 ms per call.
            disable_nagle_algorithm = True

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

            def log_message(self, format: str, *args: Any) -> None:
                return

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
