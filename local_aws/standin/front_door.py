"""The stand-in's Lambda and CloudFormation endpoint on 127.0.0.1: what the SDK's WebRunner does not serve, in front
of everything it does.

Served here (shims of ours, not the SDK's):

- ``Invoke`` (``POST /2015-03-31/functions/{FunctionName}/invocations``). A caller's Invoke of a durable function's
  alias starts an execution, as Lambda does: ``InvocationType=Event`` answers 202 with ``X-Amz-Durable-Execution-Arn``,
  ``RequestResponse`` waits for the end and answers the result; ``X-Amz-Durable-Execution-Name`` names it (the same
  name and input again returns the same execution, another input is ``DurableExecutionAlreadyStartedException``);
  an unqualified name is refused, as Lambda refuses it for a durable function. The WebRunner's own Invoke of a
  handler (marked ``X-Dex-Handler-Invoke: true``) runs the handler once and answers its output. A plain function
  (the completer) runs on Invoke; ``Event`` runs it in the background, as an asynchronous invocation.
- ``DescribeStacks`` (CloudFormation's query API): the stack's outputs (``functions.stack_outputs``).

Everything else (GetDurableExecution, GetDurableExecutionHistory, ListDurableExecutionsByFunction, the callback
operations, checkpoints, StopDurableExecution) is passed through to the WebRunner's own HTTP API unchanged.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

from aws_durable_execution_sdk_python_testing.exceptions import AwsApiException
from aws_durable_execution_sdk_python_testing.invoker import INVOCATION_MARKER_HEADER
from aws_durable_execution_sdk_python_testing.model import StartDurableExecutionInput
from aws_durable_execution_sdk_python_testing.runner import WebRunner

from local_aws.loopback_http import LoopbackHttpServer, LoopbackRequestHandler
from local_aws.standin import sdk_internals
from local_aws.standin.functions import (
    ACCOUNT,
    EXECUTION_TIMEOUT_SECONDS,
    REGION,
    RETENTION_DAYS,
    StandInFunction,
    function_named,
    stack_outputs,
)

_INVOKE_PREFIX = ("2015-03-31", "functions")
_FINISHED = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED"})
# Lambda ends a synchronous invocation after 15 minutes.
_SYNCHRONOUS_LIMIT_SECONDS = 900
_PROXY_TIMEOUT_SECONDS = 60


class LambdaError(Exception):
    """An answer in Lambda's REST-JSON error shape."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class StandInLambdaContext:
    """What a handler reads from its Lambda context (Powertools and the durable SDK)."""

    function_name: str
    invoked_function_arn: str
    log_group_name: str
    function_version: str = "1"
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_stream_name: str = "standin"
    tenant_id: str | None = None

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class FrontDoor(LoopbackHttpServer):
    """Lambda's and CloudFormation's endpoint for the stand-in stack ``stack``, in front of ``runner``'s API."""

    def __init__(self, stack: str, on_invocation: Callable[[bool], None]) -> None:
        self.runner: WebRunner | None = None
        self.runner_url = urlsplit("http://127.0.0.1:0")
        self.stack = stack
        self._on_invocation = on_invocation
        self._handlers: dict[str, Callable[..., Any]] = {}
        self._lock = threading.Lock()
        super().__init__(self._handler_class(), "standin-front-door")

    def attach(self, runner: WebRunner, runner_url: str) -> None:
        """The WebRunner to start executions on and pass requests to (it needs this endpoint's URL first)."""
        self.runner = runner
        self.runner_url = urlsplit(runner_url)

    def _runner(self) -> WebRunner:
        if self.runner is None:
            raise LambdaError(503, "ServiceException", "the stand-in is still starting")
        return self.runner

    # --- Invoke ---------------------------------------------------------------------------------------------

    def invoke(self, path: str, headers: dict[str, str], body: bytes) -> Answer:
        parts = urlsplit(path)
        segments = parts.path.strip("/").split("/")
        name = unquote(segments[2])
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        function = function_named(self.stack, name)
        if function is None:
            raise LambdaError(404, "ResourceNotFoundException", f"Function not found: {name}")
        qualifier = query.get("Qualifier") or (name.split(":")[-1] if name.count(":") in (1, 7) else None)
        invocation_type = headers.get("x-amz-invocation-type", "RequestResponse")
        if headers.get(INVOCATION_MARKER_HEADER.lower()) == "true":
            return self.run_handler(function, qualifier, body)
        if not function.durable:
            if invocation_type == "Event":
                threading.Thread(target=self.run_handler, args=(function, qualifier, body), daemon=True).start()
                return Answer(202, b"")
            return self.run_handler(function, qualifier, body)
        if not qualifier:
            raise LambdaError(
                400,
                "InvalidParameterValueException",
                "A durable function must be invoked with a qualified ARN (a version or an alias)",
            )
        arn = self._start(function, qualifier, headers.get("x-amz-durable-execution-name"), body)
        arn_header = {"X-Amz-Durable-Execution-Arn": arn, "X-Amz-Executed-Version": "1"}
        if invocation_type == "Event":
            return Answer(202, b"", arn_header)
        return self._wait(arn, arn_header)

    def handler(self, function: StandInFunction) -> Callable[..., Any]:
        with self._lock:
            if function.resource not in self._handlers:
                self._handlers[function.resource] = function.load()
            return self._handlers[function.resource]

    def run_handler(self, function: StandInFunction, qualifier: str | None, body: bytes) -> Answer:
        name = function.physical_name(self.stack)
        context = StandInLambdaContext(
            function_name=name,
            invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
            + (f":{qualifier}" if qualifier else ""),
            log_group_name=function.log_group(self.stack),
        )
        self._on_invocation(True)
        try:
            output = self.handler(function)(json.loads(body or b"{}"), context)
        except Exception as err:  # noqa: BLE001 - Lambda answers a function error, it does not crash
            payload = {"errorMessage": str(err), "errorType": type(err).__name__}
            return Answer(200, json.dumps(payload).encode(), {"X-Amz-Function-Error": "Unhandled"})
        finally:
            self._on_invocation(False)
        return Answer(200, json.dumps(output, default=str).encode())

    def _start(self, function: StandInFunction, qualifier: str, name: str | None, body: bytes) -> str:
        payload = body.decode() if body else "{}"
        physical = function.physical_name(self.stack)
        execution_name = name or str(uuid.uuid4())
        for execution in sdk_internals.executions(self._runner()):
            start = execution.start_input
            if start.function_name == physical and start.execution_name == execution_name:
                if (start.input or "{}") == payload:
                    return str(execution.durable_execution_arn)
                raise LambdaError(
                    409,
                    "DurableExecutionAlreadyStartedException",
                    f"A durable execution named {execution_name} already exists with a different input",
                )
        start_input = StartDurableExecutionInput(
            account_id=ACCOUNT,
            function_name=physical,
            function_qualifier=qualifier,
            execution_name=execution_name,
            execution_timeout_seconds=EXECUTION_TIMEOUT_SECONDS,
            execution_retention_period_days=RETENTION_DAYS,
            invocation_id=str(uuid.uuid4()),
            input=payload,
        )
        try:
            return str(sdk_internals.executor(self._runner()).start_execution(start_input).execution_arn)
        except AwsApiException as err:
            raise LambdaError(err.http_status_code, type(err).__name__, str(err)) from err

    def _wait(self, arn: str, headers: dict[str, str]) -> Answer:
        deadline = time.monotonic() + _SYNCHRONOUS_LIMIT_SECONDS
        executor = sdk_internals.executor(self._runner())
        while time.monotonic() < deadline:
            details = executor.get_execution_details(arn)
            if details.status in _FINISHED:
                if details.status == "SUCCEEDED":
                    return Answer(200, (details.result or "null").encode(), headers)
                error = details.error.to_dict() if details.error is not None else {"ErrorMessage": details.status}
                return Answer(200, json.dumps(error).encode(), {**headers, "X-Amz-Function-Error": "Unhandled"})
            time.sleep(0.05)
        return Answer(200, b"null", headers)

    # --- CloudFormation -------------------------------------------------------------------------------------

    def describe_stacks(self, form: dict[str, str]) -> Answer:
        requested = form.get("StackName", self.stack)
        if requested != self.stack:
            return _xml_error("ValidationError", f"Stack with id {requested} does not exist")
        outputs = "".join(
            f"<member><OutputKey>{escape(k)}</OutputKey><OutputValue>{escape(v)}</OutputValue></member>"
            for k, v in stack_outputs(self.stack).items()
        )
        stack_id = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{self.stack}/standin"
        xml = (
            '<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">'
            f"<DescribeStacksResult><Stacks><member><StackName>{escape(self.stack)}</StackName>"
            f"<StackId>{stack_id}</StackId><CreationTime>2026-01-01T00:00:00Z</CreationTime>"
            f"<StackStatus>CREATE_COMPLETE</StackStatus><Outputs>{outputs}</Outputs></member></Stacks>"
            "</DescribeStacksResult><ResponseMetadata><RequestId>standin</RequestId></ResponseMetadata>"
            "</DescribeStacksResponse>"
        )
        return Answer(200, xml.encode(), {"Content-Type": "text/xml"})

    # --- everything else: the WebRunner's API -----------------------------------------------------------------

    def by_name(self, path: str) -> str:
        """ListDurableExecutionsByFunction with the function's ARN: the runner knows functions by name only."""
        parts = urlsplit(path)
        segments = parts.path.strip("/").split("/")
        if len(segments) == 4 and segments[1] == "functions" and segments[3] == "durable-executions":
            function = function_named(self.stack, unquote(segments[2]))
            if function is not None:
                segments[2] = function.physical_name(self.stack)
                return "/" + "/".join(segments) + (f"?{parts.query}" if parts.query else "")
        return path

    def proxy(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        connection = http.client.HTTPConnection(
            self.runner_url.hostname or "127.0.0.1", self.runner_url.port, timeout=_PROXY_TIMEOUT_SECONDS
        )
        try:
            forwarded = {k: v for k, v in headers.items() if k.lower() not in ("host", "content-length")}
            connection.request(method, path, body=body or None, headers=forwarded)
            response = connection.getresponse()
            data = response.read()
            dropped = ("content-length", "transfer-encoding", "server", "date")
            kept = {k: v for k, v in response.getheaders() if k.lower() not in dropped}
            return Answer(response.status, data, kept)
        finally:
            connection.close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        door = self

        class _Handler(LoopbackRequestHandler):
            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                segments = urlsplit(self.path).path.strip("/").split("/")
                try:
                    if self.command == "POST" and self.path.split("?")[0] == "/" and b"Action=" in body:
                        form = {k: v[-1] for k, v in parse_qs(body.decode()).items()}
                        if form.get("Action") != "DescribeStacks":
                            raise LambdaError(400, "InvalidAction", "the stand-in serves DescribeStacks only")
                        answer = door.describe_stacks(form)
                    elif self.command == "POST" and len(segments) == 4 and tuple(segments[:2]) == _INVOKE_PREFIX:
                        answer = door.invoke(self.path, headers, body)
                    else:
                        answer = door.proxy(self.command, door.by_name(self.path), dict(self.headers.items()), body)
                except LambdaError as err:
                    answer = Answer(
                        err.status,
                        json.dumps({"Type": "User", "Message": err.message}).encode(),
                        {"x-amzn-ErrorType": err.code, "Content-Type": "application/json"},
                    )
                except Exception as err:  # noqa: BLE001 - a stand-in answers 500 like the service would
                    answer = Answer(
                        500,
                        json.dumps({"Type": "Service", "Message": str(err)}).encode(),
                        {"x-amzn-ErrorType": "ServiceException", "Content-Type": "application/json"},
                    )
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def do_PUT(self) -> None:
                self._serve()

        return _Handler


def _xml_error(code: str, message: str) -> Answer:
    xml = (
        '<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type>'
        f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        "<RequestId>standin</RequestId></ErrorResponse>"
    )
    return Answer(400, xml.encode(), {"Content-Type": "text/xml"})
