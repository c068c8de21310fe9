"""Lambda's callback routes on 127.0.0.1, forwarding to an in-process DurableFunctionTestRunner.

Point ``AWS_ENDPOINT_URL_LAMBDA`` at ``url`` and an unchanged boto3 lambda client completes callbacks of executions
running on the local runner: ``SendDurableExecutionCallbackSuccess`` (``POST /2025-12-01/durable-execution-
callbacks/{CallbackId}/succeed``, the result as the raw body), ``...Failure`` (``.../fail``, the Error structure as
JSON) and ``...Heartbeat`` (``.../heartbeat``). Errors follow Lambda's REST-JSON shape: the code in the
``x-amzn-ErrorType`` header, ``{"Type": "User", "Message": ...}`` in the body. An unknown or closed callback
answers ``ResourceNotFoundException`` (404), as the runner does.

It also reads executions: ``GetDurableExecution`` (``GET /2025-12-01/durable-executions/{DurableExecutionArn}``) and
``GetDurableExecutionHistory`` (``.../history`` with ``IncludeExecutionData``, ``Marker``, ``MaxItems`` and
``ReverseOrder`` in the query), answered from the runner's executor (``get_execution_details``,
``get_execution_history``) as JSON with timestamps in epoch seconds, which botocore's rest-json parser reads. These
two are a shim of ours: the SDK's ``DurableFunctionTestRunner`` does not serve them over any endpoint (its
``WebRunner`` does, as a separate server), and it exposes its executor only privately (``runner._executor``), so
``RunnerContractError`` says so loudly if an upgrade moves it.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from aws_durable_execution_sdk_python.lambda_service import ErrorObject
from aws_durable_execution_sdk_python_testing.exceptions import AwsApiException
from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner

from local_aws.aws_json import aws_json_body
from local_aws.durable_runner import RunnerContractError
from local_aws.loopback_http import LoopbackHttpServer, LoopbackRequestHandler

_PREFIX = ("2025-12-01", "durable-execution-callbacks")
_ACTIONS = frozenset({"succeed", "fail", "heartbeat"})
_EXECUTIONS_PREFIX = ("2025-12-01", "durable-executions")
# Lambda's own page limit for GetDurableExecutionHistory (the model's ItemCount maximum).
_MAX_HISTORY_PAGE = 1000


class _CallbackRequestError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class LocalCallbackEndpoint(LoopbackHttpServer):
    """A small HTTP server answering the three callback operations and the two execution reads; counts them."""

    def __init__(self, runner: DurableFunctionTestRunner) -> None:
        self.runner = runner
        self.accepted: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.reads: Counter[str] = Counter()
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

    def read(self, path: str) -> dict[str, Any]:
        """Answer GetDurableExecution or GetDurableExecutionHistory, or raise _CallbackRequestError."""
        parts = urlsplit(path)
        segments = parts.path.strip("/").split("/")
        if len(segments) not in (3, 4) or tuple(segments[:2]) != _EXECUTIONS_PREFIX:
            raise _CallbackRequestError(404, "UnknownOperationException", f"no such route: GET {path[:200]}")
        # botocore percent-encodes the whole ARN into one path segment, slashes included.
        execution_arn = unquote(segments[2])
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        executor = self._executor()
        try:
            if len(segments) == 3:
                self._count(self.reads, "GetDurableExecution")
                return dict(executor.get_execution_details(execution_arn).to_dict())
            if segments[3] != "history":
                raise _CallbackRequestError(404, "UnknownOperationException", f"no such route: GET {path[:200]}")
            self._count(self.reads, "GetDurableExecutionHistory")
            page = executor.get_execution_history(
                execution_arn,
                include_execution_data=query.get("IncludeExecutionData") == "true",
                reverse_order=query.get("ReverseOrder") == "true",
                marker=query.get("Marker"),
                max_items=_page_size(query.get("MaxItems")),
            )
            events = page.to_dict()
            # The runner never cuts a payload, but it marks callback errors Truncated even when it includes them
            # (create_callback_event_failed / _timed_out pass no include flag). Lambda's Truncated means "cut by
            # size limits", so with the data included nothing here is truncated.
            return _included_in_full(events) if query.get("IncludeExecutionData") == "true" else dict(events)
        except AwsApiException as err:
            raise _CallbackRequestError(err.http_status_code, type(err).__name__, str(err)) from err

    def _executor(self) -> Any:
        executor = getattr(self.runner, "_executor", None)
        if executor is None or not callable(getattr(executor, "get_execution_history", None)):
            raise RunnerContractError(
                "DurableFunctionTestRunner has no '_executor' with get_execution_details / get_execution_history: "
                "the pinned testing SDK changed; update local_aws/callback_endpoint.py"
            )
        return executor

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

            def do_GET(self) -> None:
                try:
                    payload = endpoint.read(self.path)
                except _CallbackRequestError as err:
                    self._answer(err.status, {"Type": "User", "Message": err.message}, err.code)
                except Exception as err:  # noqa: BLE001 - a local stand-in answers 500 like the service would
                    self._answer(500, {"Type": "Service", "Message": str(err)}, "ServiceException")
                else:
                    self._answer(200, payload)

            def _answer(self, status: int, payload: dict[str, Any], error_code: str | None = None) -> None:
                data = aws_json_body(payload)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if error_code:
                    self.send_header("x-amzn-ErrorType", error_code)
                self.end_headers()
                self.wfile.write(data)

        return _Handler


def _included_in_full(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: False if key == "Truncated" else _included_in_full(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_included_in_full(item) for item in value]
    return value


def _page_size(raw: str | None) -> int:
    if raw is None:
        return _MAX_HISTORY_PAGE
    try:
        size = int(raw)
    except ValueError:
        raise _CallbackRequestError(
            400, "InvalidParameterValueException", f"MaxItems is not a number: {raw!r}"
        ) from None
    return min(max(size, 1), _MAX_HISTORY_PAGE)


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
