"""Faults injected under botocore's retry logic: an answer lost after the request was applied, a refused connection.

The faults hook a client's ``before-send`` event, registered last, so they run after moto's own ``before-send``
stub (which applies the request to moto's backend). For a real HTTP endpoint (the local callback endpoint) pass
``apply=send_over_http`` to ``LostAnswers``: the request is sent for real first. Then the hook raises botocore's
``ReadTimeoutError``, as a response that never arrives would, and botocore's retry handler (or the caller, for a
client with retries off) decides what happens next. ``RefusedConnections`` raises ``EndpointConnectionError``
instead, without sending: a request that never left.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from botocore.awsrequest import AWSPreparedRequest
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from botocore.httpsession import URLLib3Session


def send_over_http(request: AWSPreparedRequest) -> None:
    """Send the signed request to its endpoint and drop the answer (a loopback endpoint only, in tests)."""
    URLLib3Session(timeout=10).send(request)


class _SendFault:
    """The first ``count`` requests of ``operation`` on ``client`` fail as ``_fail`` says; counts what it saw."""

    def __init__(self, client: Any, operation: str, count: int = 1) -> None:
        self.client = client
        self.operation = operation
        self.count = count
        self.lost = 0
        self.seen = 0

    def _fail(self, request: AWSPreparedRequest) -> Exception:
        raise NotImplementedError

    def _before_send(self, request: AWSPreparedRequest, event_name: str = "", **_kwargs: Any) -> None:
        if not event_name.endswith(f".{self.operation}"):
            return
        self.seen += 1
        if self.lost >= self.count:
            return
        error = self._fail(request)
        self.lost += 1
        raise error

    def __enter__(self) -> Self:
        self.client.meta.events.register_last("before-send", self._before_send, unique_id=f"fault-{id(self)}")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.client.meta.events.unregister("before-send", unique_id=f"fault-{id(self)}")


class LostAnswers(_SendFault):
    """The first ``count`` requests are applied (by moto, or by ``apply``), then their answers are lost."""

    def __init__(
        self,
        client: Any,
        operation: str,
        count: int = 1,
        apply: Callable[[AWSPreparedRequest], None] | None = None,
    ) -> None:
        super().__init__(client, operation, count)
        self.apply = apply

    def _fail(self, request: AWSPreparedRequest) -> Exception:
        if self.apply is not None:
            self.apply(request)
        return ReadTimeoutError(endpoint_url=request.url, error="injected: the answer was lost")


class RefusedConnections(_SendFault):
    """The first ``count`` requests never leave: the connection is refused."""

    def _fail(self, request: AWSPreparedRequest) -> Exception:
        return EndpointConnectionError(endpoint_url=request.url, error="injected: connection refused")
