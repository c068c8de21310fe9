"""DMS task events from EventBridge: both shapes seen in the wild, terminal or not, and every malformed field."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from job_kinds.dms_task.events import parse_dms_task_event
from waiting.errors import InvalidDmsEventError

ARN = "arn:aws:dms:us-east-1:123456789012:task:AAAABBBB0CCCCDDDDEEEEE1FFFF2GGG3FFFFFF3"


def _documentation_example(
    event_type: str = "REPLICATION_TASK_STARTED", name: str = "DMS-EVENT-0069"
) -> dict[str, Any]:
    # The shape of the example in the DMS user guide ("Using Amazon EventBridge event rules for AWS DMS").
    return {
        "version": "0",
        "id": "11a11b11-222b-333a-44d4-01234a5b67890",
        "detail-type": "DMS Replication Task State Change",
        "source": "aws.dms",
        "account": "123456789012",
        "time": "1970-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": [ARN],
        "detail": {
            "type": "REPLICATION_TASK",
            "category": "StateChange",
            "eventType": event_type,
            "eventName": name,
            "resourceLink": "https://console.aws.amazon.com/dms/v2/home?region=us-east-1#taskDetails/taskName",
            "detailMessage": "Replication task started, with flag = fresh start",
        },
    }


def _captured(event_type: str = "REPLICATION_TASK_STOPPED", event_id: str = "DMS-EVENT-0079") -> dict[str, Any]:
    # The shape of events captured from DMS: the id is detail.eventId.
    event = _documentation_example()
    event["detail"] = {
        "eventType": event_type,
        "detailMessage": "Stop Reason FULL_LOAD_ONLY_FINISHED",
        "type": "REPLICATION_TASK",
        "category": "StateChange",
        "eventId": event_id,
        "resourceLink": "https://console.aws.amazon.com/dms/v2/home?region=us-east-1#taskDetails/orders",
    }
    return event


def test_the_documentation_shape_is_read_with_its_event_name_as_the_id() -> None:
    event = parse_dms_task_event(_documentation_example())

    assert event.replication_task_arn == ARN
    assert event.event_type == "REPLICATION_TASK_STARTED"
    assert event.event_id == "DMS-EVENT-0069"
    assert not event.is_terminal, "a started event must not complete anything"


@pytest.mark.parametrize(
    ("event_type", "event_id"),
    [("REPLICATION_TASK_STOPPED", "DMS-EVENT-0079"), ("REPLICATION_TASK_FAILED", "DMS-EVENT-0078")],
)
def test_captured_stopped_and_failed_events_are_terminal(event_type: str, event_id: str) -> None:
    event = parse_dms_task_event(_captured(event_type, event_id))

    assert event.is_terminal
    assert event.event_id == event_id


def test_an_event_with_only_a_terminal_id_is_terminal() -> None:
    raw = _captured()
    del raw["detail"]["eventType"]

    assert parse_dms_task_event(raw).is_terminal


def test_a_documentation_shaped_stop_event_is_terminal() -> None:
    assert parse_dms_task_event(_documentation_example("REPLICATION_TASK_STOPPED", "DMS-EVENT-0079")).is_terminal


def _without(path: tuple[str, ...]) -> dict[str, Any]:
    event = copy.deepcopy(_captured())
    target = event
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return event


def _with(path: tuple[str, ...], value: object) -> dict[str, Any]:
    event = copy.deepcopy(_captured())
    target = event
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return event


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ("not an event", "must be a JSON object"),
        (_with(("source",), "aws.ec2"), "source"),
        (_without(("source",)), "source"),
        (_with(("detail-type",), "DMS Replication State Change"), "detail-type"),
        (_without(("resources",)), "resources"),
        (_with(("resources",), []), "resources"),
        (_with(("resources",), ["arn:aws:dms:us-east-1:123456789012:rep:INSTANCE"]), "resources[0]"),
        (_with(("resources",), [42]), "resources[0]"),
        (_without(("detail",)), "detail"),
        (_with(("detail",), "stopped"), "detail"),
        (_with(("detail",), {"detailMessage": "no type, no id"}), "detail.eventType"),
        (_with(("detail", "eventType"), 79), "detail.eventType"),
    ],
    ids=[
        "not-an-object",
        "other-source",
        "no-source",
        "serverless-detail-type",
        "no-resources",
        "empty-resources",
        "instance-arn",
        "non-string-arn",
        "no-detail",
        "detail-not-object",
        "no-type-no-id",
        "type-not-string",
    ],
)
def test_a_malformed_event_is_rejected_naming_the_field(raw: object, named: str) -> None:
    with pytest.raises(InvalidDmsEventError) as raised:
        parse_dms_task_event(raw)

    assert named in str(raised.value), f"the error does not name {named!r}: {raised.value}"
