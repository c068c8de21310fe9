"""The simulated DMS transport answers each boto3 DMS call exactly once, whatever order sessions were created in."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSPreparedRequest
from botocore.config import Config

from local_aws import dms_transport
from local_aws.aws_json import aws_json_body
from local_aws.dms_simulation import SimulatedDms, TaskPlan
from local_aws.dms_transport import SimulatedDmsTransport

# Should the simulation miss a call, it fails at once instead of reaching for the network.
_NOWHERE = {"endpoint_url": "http://127.0.0.1:9", "config": Config(retries={"total_max_attempts": 1})}


def _start_once(dms: SimulatedDms) -> str:
    arn = dms.add_task("orders", TaskPlan(duration=timedelta(hours=1)))
    with SimulatedDmsTransport(dms):
        boto3.client("dms", region_name="us-east-1", **_NOWHERE).start_replication_task(
            ReplicationTaskArn=arn, StartReplicationTaskType="start-replication"
        )
    return arn


def test_a_default_session_created_after_the_transport_was_installed_gets_each_call_answered_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", boto3.DEFAULT_SESSION)  # restored after the test
    with SimulatedDmsTransport(SimulatedDms()):
        pass  # the transport is installed by now, whatever ran before this test
    boto3.setup_default_session()  # a session built afterwards carries the built-in handler already
    dms = SimulatedDms()

    arn = _start_once(dms)

    assert dms.calls["StartReplicationTask"] == 1, "the simulation answered one API call more than once"
    assert dms.task(arn).start_calls == 1


def test_an_older_default_session_put_back_after_installation_is_hooked_at_the_next_activation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with SimulatedDmsTransport(SimulatedDms()):
        pass
    # As moto does when a mock ends: it puts back the default session it found, which may predate the transport.
    older = boto3.Session()
    older.events.unregister("before-send", dms_transport._dispatch)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", older)
    dms = SimulatedDms()

    _start_once(dms)

    assert dms.calls["StartReplicationTask"] == 1, "the call did not reach the simulation"


class _Captured(Exception):  # noqa: N818 - stops the request once it is seen
    pass


def _authorization_sent(client: Any, stop: bool) -> str | None:
    """The Authorization header of a DescribeReplicationTasks request, as botocore is about to send it.

    With ``stop``, the request goes no further (there is no simulation to answer it, and no network).
    """
    seen: list[str | None] = []

    def capture(request: AWSPreparedRequest, **_kwargs: Any) -> None:
        value = request.headers.get("Authorization")
        seen.append(value.decode() if isinstance(value, bytes) else value)
        if stop:
            raise _Captured

    client.meta.events.register_first("before-send.database-migration-service", capture)
    with contextlib.suppress(_Captured):
        client.describe_replication_tasks()
    return seen[0]


def test_calls_the_simulation_answers_go_unsigned_and_others_keep_their_signature() -> None:
    dms = SimulatedDms()
    dms.add_task("orders", TaskPlan(duration=timedelta(hours=1)))

    with SimulatedDmsTransport(dms):
        simulated = _authorization_sent(boto3.client("dms", region_name="us-east-1", **_NOWHERE), stop=False)
    outside = _authorization_sent(boto3.client("dms", region_name="us-east-1", **_NOWHERE), stop=True)

    assert simulated is None, "a call the simulation answers still paid for a SigV4 signature"
    assert dms.calls["DescribeReplicationTasks"] == 1, "the unsigned call did not reach the simulation"
    assert outside is not None, "a DMS call made while no simulation is active was not signed"
    assert outside.startswith("AWS4-HMAC-SHA256")


def test_an_answer_reaches_boto3_with_its_dates_as_dms_sends_them() -> None:
    dms = SimulatedDms()
    arn = _start_once(dms)
    with SimulatedDmsTransport(dms):
        (task,) = boto3.client("dms", region_name="us-east-1", **_NOWHERE).describe_replication_tasks()[
            "ReplicationTasks"
        ]

    run = dms.task(arn).latest_run
    assert run is not None
    assert task["ReplicationTaskStartDate"] == run.started_at, "epoch seconds on the wire, a datetime in boto3"
    assert task["ReplicationTaskStats"]["StartDate"] == run.started_at


def test_a_value_aws_json_has_no_form_for_is_refused_not_sent() -> None:
    with pytest.raises(TypeError, match="set has no form in AWS's JSON protocols"):
        aws_json_body({"Odd": {1, 2}})
