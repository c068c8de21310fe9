"""Faults injected under botocore's retry logic: a request that reaches the service, whose answer never comes back.

``LostAnswers`` hooks a client's ``before-send`` event, registered last, so it runs after moto's own ``before-send``
stub (which applies the request to moto's backend). For a real HTTP endpoint (the local callback endpoint) pass
``apply=send_over_http``: the request is sent for real first. Then the hook raises botocore's ``ReadTimeoutError``,
as a response that never arrives would, and botocore's retry handler (or the caller) decides what happens next.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from botocore.awsrequest import AWSPreparedRequest
from botocore.exceptions import ReadTimeoutError
from botocore.httpsession import URLLib3Session


def send_over_http(request: AWSPreparedRequest) -> None:
    """Send the signed request to its endpoint and drop the answer (a loopback endpoint only, in tests)."""
    URLLib3Session(timeout=10).send(request)


class LostAnswers:
    """The first ``count`` requests of ``operation`` on ``client`` are applied, then their answers are lost."""

    def __init__(
        self,
        client: Any,
        operation: str,
        count: int = 1,
        apply: Callable[[AWSPreparedRequest], None] | None = None,
    ) -> None:
        self.client = client
        self.operation = operation
        self.count = count
        self.apply = apply
        self.lost = 0
        self.seen = 0

    def _before_send(self, request: AWSPreparedRequest, event_name: str = "", **_kwargs: Any) -> None:
        if not event_name.endswith(f".{self.operation}"):
            return
        self.seen += 1
        if self.lost >= self.count:
            return
        if self.apply is not None:
            self.apply(request)
        self.lost += 1
        raise ReadTimeoutError(endpoint_url=request.url, error="injected: the answer was lost")

    def __enter__(self) -> Self:
        self.client.meta.events.register_last("before-send", self._before_send, unique_id=f"lost-{id(self)}")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.client.meta.events.unregister("before-send", unique_id=f"lost-{id(self)}")
