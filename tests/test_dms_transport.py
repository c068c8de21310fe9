"""The simulated DMS transport answers each boto3 DMS call exactly once, whatever order sessions were created in."""

from __future__ import annotations

from datetime import timedelta

import boto3
import pytest
from botocore.config import Config

from local_aws import dms_transport
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
