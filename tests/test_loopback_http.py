"""The loopback HTTP server serves keep-alive requests while open and lets go of its thread and port on close."""

from __future__ import annotations

import http.client
import socket
from http import HTTPStatus

import pytest

from local_aws.loopback_http import LoopbackHttpServer, LoopbackRequestHandler


class _Echo(LoopbackRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_requests_are_answered_on_one_connection_until_close_ends_the_serving_thread() -> None:
    server = LoopbackHttpServer(_Echo, "echo")
    with server:
        host, port = server.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=5)
        answers = []
        for body in (b"one", b"two"):
            connection.request("POST", "/", body=body)
            answers.append(connection.getresponse().read())
        connection.close()
        thread = server._thread

    assert answers == [b"one", b"two"]
    assert not thread.is_alive(), "the serving thread outlived close()"
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, int(port)), timeout=5)


def test_a_server_closed_before_it_started_lets_go_of_its_port() -> None:
    server = LoopbackHttpServer(_Echo, "never-started")
    host, port = server.url.removeprefix("http://").split(":")

    server.close()

    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, int(port)), timeout=5)
