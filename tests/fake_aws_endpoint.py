"""A stand-in AWS endpoint on 127.0.0.1 for commands run as subprocesses: canned answers per service, in each
service's own protocol (CloudFormation's XML, DMS's JSON 1.1, Lambda's REST JSON), so botocore parses them as
it parses AWS's. Nothing it answers is real; it only lets a test see what a command makes of each refusal.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from local_aws.loopback_http import LoopbackHttpServer, LoopbackRequestHandler

# Credential=KEY/DATE/REGION/SERVICE/aws4_request: which service botocore signed the request for.
_SIGNED_SERVICE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([a-z0-9-]+)/aws4_request")
_CLOUDFORMATION_NS = "http://cloudformation.amazonaws.com/doc/2010-05-15/"


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def cloudformation_error(code: str, message: str, status: int = 400) -> Answer:
    body = (
        f'<ErrorResponse xmlns="{_CLOUDFORMATION_NS}"><Error><Type>Sender</Type><Code>{code}</Code>'
        f"<Message>{message}</Message></Error><RequestId>fake</RequestId></ErrorResponse>"
    )
    return Answer(status, body.encode(), {"Content-Type": "text/xml"})


def cloudformation_stack(name: str, outputs: dict[str, str]) -> Answer:
    members = "".join(
        f"<member><OutputKey>{key}</OutputKey><OutputValue>{value}</OutputValue></member>"
        for key, value in outputs.items()
    )
    body = (
        f'<DescribeStacksResponse xmlns="{_CLOUDFORMATION_NS}"><DescribeStacksResult><Stacks><member>'
        f"<StackName>{name}</StackName><CreationTime>2026-11-26T12:00:00Z</CreationTime>"
        f"<StackStatus>CREATE_COMPLETE</StackStatus><Outputs>{members}</Outputs>"
        "</member></Stacks></DescribeStacksResult>"
        "<ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></DescribeStacksResponse>"
    )
    return Answer(200, body.encode(), {"Content-Type": "text/xml"})


def json_answer(document: dict[str, Any], status: int = 200) -> Answer:
    return Answer(status, json.dumps(document).encode(), {"Content-Type": "application/x-amz-json-1.1"})


def json_error(code: str, message: str, status: int = 400) -> Answer:
    return json_answer({"__type": code, "message": message}, status)


def rest_json_error(code: str, message: str, status: int) -> Answer:
    return Answer(
        status,
        json.dumps({"Type": "User", "message": message}).encode(),
        {"Content-Type": "application/json", "x-amzn-ErrorType": code},
    )


class _FakeAwsHandler(LoopbackRequestHandler):
    answers: ClassVar[dict[str, Answer]] = {}
    asked: ClassVar[list[str]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        match = _SIGNED_SERVICE.search(self.headers.get("Authorization", ""))
        service = match.group(1) if match else "unsigned"
        self.asked.append(service)
        answer = self.answers.get(service) or json_error("InternalFailure", f"no canned answer for {service}", 500)
        self.send_response(answer.status)
        for name, value in {**answer.headers, "Content-Length": str(len(answer.body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(answer.body)

    do_GET = do_POST = do_PUT = _answer


class FakeAwsEndpoint(LoopbackHttpServer):
    """``with FakeAwsEndpoint({"cloudformation": answer, ...}) as aws``: aws.url answers every request it gets
    with the answer for the service the request was signed for; aws.asked lists those services in order."""

    def __init__(self, answers: dict[str, Answer]) -> None:
        handler = type("FakeAwsHandler", (_FakeAwsHandler,), {"answers": dict(answers), "asked": []})
        super().__init__(handler, "fake-aws-endpoint")
        self.asked: list[str] = handler.asked
