"""The simulated DMS transport answers each boto3 DMS call exactly once, whatever order sessions were created in."""

from __future__ import annotations

from datetime import timedelta

import boto3
import pytest

from local_aws.dms_simulation import SimulatedDms, TaskPlan
from local_aws.dms_transport import SimulatedDmsTransport


def test_a_default_session_created_after_the_transport_was_installed_gets_each_call_answered_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", boto3.DEFAULT_SESSION)  # restored after the test
    with SimulatedDmsTransport(SimulatedDms()):
        pass  # the transport is installed by now, whatever ran before this test
    boto3.setup_default_session()  # a session built afterwards carries the built-in handler already
    dms = SimulatedDms()
    arn = dms.add_task("orders", TaskPlan(duration=timedelta(hours=1)))

    with SimulatedDmsTransport(dms):
        boto3.client("dms", region_name="us-east-1").start_replication_task(
            ReplicationTaskArn=arn, StartReplicationTaskType="start-replication"
        )

    assert dms.calls["StartReplicationTask"] == 1, "the simulation answered one API call more than once"
    assert dms.task(arn).start_calls == 1
