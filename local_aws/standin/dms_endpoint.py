"""The DMS simulation over HTTP on 127.0.0.1, for boto3 dms clients pointed at it with
``AWS_ENDPOINT_URL_DATABASE_MIGRATION_SERVICE`` (the JSON 1.1 protocol: ``X-Amz-Target: AmazonDMSv20160101.<Op>``).

The functions' role may start and stop the tasks of its own account only (template.yaml), so a start or stop of a
task in another account is refused as IAM refuses it, before DMS looks.
"""

from __future__ import annotations

import json
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

from local_aws.aws_json import aws_json_body
from local_aws.dms_simulation import SimulatedAnswerLost, SimulatedDms, SimulatedDmsError
from local_aws.loopback_http import LoopbackHttpServer, LoopbackRequestHandler

_TARGET_PREFIX = "AmazonDMSv20160101."
_ACCOUNT_SCOPED = frozenset({"StartReplicationTask", "StopReplicationTask"})


class DmsEndpoint(LoopbackHttpServer):
    """Answers DMS's API from ``simulation``, at the simulation's clock."""

    def __init__(self, simulation: SimulatedDms) -> None:
        self.simulation = simulation
        super().__init__(self._handler_class(), "standin-dms")

    def answer(self, operation: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        arn = params.get("ReplicationTaskArn")
        if operation in _ACCOUNT_SCOPED and isinstance(arn, str) and arn.split(":")[4:5] != [self.simulation.account]:
            role = f"arn:aws:sts::{self.simulation.account}:assumed-role/migration-wait-standin/function"
            return 400, {
                "__type": "AccessDeniedFault",
                "message": f"User: {role} is not authorized to perform: dms:{operation} on resource: {arn} "
                "because no identity-based policy allows the action",
            }
        try:
            return 200, self.simulation.handle(operation, params)
        except SimulatedDmsError as fault:
            return fault.status, {"__type": fault.code, "message": fault.message}
        except SimulatedAnswerLost:
            return 500, {"__type": "InternalFailure", "message": "the answer was lost"}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class _Handler(LoopbackRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                operation = str(self.headers.get("X-Amz-Target", "")).removeprefix(_TARGET_PREFIX)
                try:
                    params = json.loads(body or b"{}")
                except ValueError:
                    params = {}
                status, payload = endpoint.answer(operation, params if isinstance(params, dict) else {})
                data = aws_json_body(payload)
                # send_response_only: send_response would add the real clock's Date ahead of the simulation's.
                self.send_response_only(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Date", format_datetime(endpoint.simulation.clock(), usegmt=True))
                self.send_header("x-amzn-RequestId", f"standin-{endpoint.simulation.calls.total()}")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return _Handler
