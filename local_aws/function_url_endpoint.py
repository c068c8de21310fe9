"""A Lambda function URL on 127.0.0.1: HTTP requests in, the real handler called with a function URL event, out again.

Each request becomes a payload format 2.0 event as Lambda builds it for a function URL (lower-cased headers,
``rawPath``, ``requestContext.http``, a text body as is and any other body base64-encoded), the handler's answer
(``statusCode``, ``headers``, ``body``, ``isBase64Encoded``) becomes the HTTP response. As on AWS, a request over
6 MB is refused before the function sees it (413) and a function that raises answers 502 without details.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local_aws.loopback_http import LoopbackHttpServer, LoopbackRequestHandler

# Lambda's limit for a synchronous invocation's request payload.
MAX_REQUEST_BYTES = 6 * 1024 * 1024
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/x-www-form-urlencoded")

FunctionUrlHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


class LocalFunctionUrlEndpoint(LoopbackHttpServer):
    """Serves ``handler`` the way a function URL with AuthType NONE would; counts the status codes it answered."""

    def __init__(self, handler: FunctionUrlHandler, context_factory: Callable[[], Any]) -> None:
        self.handler = handler
        self.context_factory = context_factory
        self.answered: list[int] = []
        self._lock = threading.Lock()
        super().__init__(self._handler_class(), "local-function-url")

    def invoke(self, method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str) -> dict[str, Any]:
        """The handler's answer to one request, given as a function URL event."""
        return self.handler(function_url_event(method, target, headers, body, source_ip), self.context_factory())

    def _record(self, status: int) -> None:
        with self._lock:
            self.answered.append(status)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class _Handler(LoopbackRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_REQUEST_BYTES:
                    self.rfile.read(length)
                    self._send(413, {"content-type": "application/json"}, b'{"Message":"Request Entity Too Large"}')
                    return
                body = self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                try:
                    answer = endpoint.invoke(self.command, self.path, headers, body, self.client_address[0])
                except Exception:  # noqa: BLE001 - as on AWS: a function error is a bare 502, no details
                    self._send(502, {"content-type": "application/json"}, b'{"Message":"Internal Server Error"}')
                    return
                except BaseException as crash:  # a simulated crash (local_aws.faults): the runtime died mid-request
                    if isinstance(crash, KeyboardInterrupt | SystemExit):
                        raise
                    self._send(502, {"content-type": "application/json"}, b'{"Message":"Internal Server Error"}')
                    return
                self._send(*_http_answer(answer))

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def do_PUT(self) -> None:
                self._serve()

            def _send(self, status: int, headers: dict[str, str], data: bytes) -> None:
                endpoint._record(status)
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return _Handler


def function_url_event(
    method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str = "127.0.0.1"
) -> dict[str, Any]:
    """The payload format 2.0 event Lambda hands a function behind a function URL."""
    parts = urlsplit(target)
    content_type = headers.get("content-type", "")
    is_text = not body or any(content_type.startswith(t) for t in _TEXT_TYPES)
    text: str | None = None
    if is_text:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": parts.path or "/",
        "rawQueryString": parts.query,
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "local",
            "domainName": headers.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": parts.path or "/",
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": text is None,
    }
    if parts.query:
        event["queryStringParameters"] = dict(parse_qsl(parts.query))
    if body:
        event["body"] = text if text is not None else base64.b64encode(body).decode()
    return event


def _http_answer(answer: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    status = int(answer.get("statusCode", 200))
    headers = {str(k): str(v) for k, v in (answer.get("headers") or {}).items()}
    raw = answer.get("body") or ""
    if not isinstance(raw, str):
        raw = json.dumps(raw)
    data = base64.b64decode(raw) if answer.get("isBase64Encoded") else raw.encode()
    return status, headers, data
