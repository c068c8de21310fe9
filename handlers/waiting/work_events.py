"""The port a kind's events plug into the completer through: recognise an event, parse it, read the work it names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from waiting.domain import WorkSnapshot
from waiting.errors import InvalidEventError


@dataclass(frozen=True)
class WorkEvent:
    """One event about some work, as much of it as the completer needs."""

    key: str  # the work's ARN: the correlation key
    is_terminal: bool
    event_type: str | None


class WorkEvents(Protocol):
    """The port: one kind's events, as the completer sees them."""

    def recognises(self, raw: dict[str, Any]) -> bool:
        """Whether the event is this kind's (its source and detail-type); cheap, never raises."""
        ...

    def parse(self, raw: dict[str, Any]) -> WorkEvent:
        """The event, validated; InvalidEventError naming the field when it is malformed."""
        ...

    def describe(self, key: str) -> WorkSnapshot:
        """The work's state as its owner reports it now."""
        ...


def event_detail(raw: dict[str, Any], *required_texts: str) -> dict[str, Any]:
    """An event's ``detail`` object, with each named field a non-empty string; InvalidEventError names the field."""
    detail = raw.get("detail")
    if not isinstance(detail, dict):
        raise InvalidEventError(f"detail must be a JSON object, got {type(detail).__name__}")
    for name in required_texts:
        if not isinstance(detail.get(name), str) or not detail[name]:
            raise InvalidEventError(f"detail.{name} must be a non-empty string")
    return detail


@dataclass(frozen=True)
class EventSource:
    """A kind's events from three parts: which events are its (``source`` and ``detail-type``), how one reads as a
    ``WorkEvent``, and how the work it names is read back from its owner."""

    source: str
    detail_type: str
    read_event: Callable[[dict[str, Any]], WorkEvent]
    describe_work: Callable[[str], WorkSnapshot]

    def recognises(self, raw: dict[str, Any]) -> bool:
        return raw.get("source") == self.source and raw.get("detail-type") == self.detail_type

    def parse(self, raw: dict[str, Any]) -> WorkEvent:
        return self.read_event(raw)

    def describe(self, key: str) -> WorkSnapshot:
        return self.describe_work(key)
