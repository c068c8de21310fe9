"""Scenarios every variant shares, in both modes: locally by default, against a deployed stack in cloud mode.

pytest                                                               # local runner, simulated DMS
pytest --runner-mode cloud --stack-name NAME [--dms-task-arn ARN]    # the deployed functions, real DMS

Only what a deployed stack lets a test observe is asserted here (the execution's status, result and error); the
local-only tests next door also count DMS calls, invocations and replays on the simulation.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.runner_modes import ScenarioBackend

NORMAL_STOP_REASONS = ("FULL_LOAD_ONLY_FINISHED", "FULL_LOAD_COMPLETED", "CACHED_CHANGES_APPLIED", "SERVER_TIME")


def test_a_task_that_stops_normally_completes_the_execution_with_its_final_state(scenario: ScenarioBackend) -> None:
    request = scenario.finishing_task(timedelta(minutes=15))

    outcome = scenario.run(request)

    assert outcome.status == "SUCCEEDED", f"{scenario.variant}: {outcome.status} {outcome.error}"
    assert outcome.result["ReplicationTaskArn"] == request["ReplicationTaskArn"]
    assert outcome.result["Variant"] == scenario.variant
    assert outcome.result["Status"] == "stopped"
    assert any(reason in (outcome.result["StopReason"] or "") for reason in NORMAL_STOP_REASONS), outcome.result
    assert outcome.result["WaitSeconds"] >= 0


def test_an_unknown_task_fails_the_execution_saying_it_was_not_found(scenario: ScenarioBackend) -> None:
    task_arn = scenario.unknown_task()

    outcome = scenario.run({"ReplicationTaskArn": task_arn})

    assert outcome.status == "FAILED", f"{scenario.variant}: expected FAILED, got {outcome.status}"
    assert "not found" in outcome.error_message, outcome.error


@pytest.mark.parametrize(
    ("event", "named"),
    [
        ({}, "ReplicationTaskArn is required"),
        ({"ReplicationTaskArn": "not-an-arn"}, "ReplicationTaskArn"),
        (
            {"ReplicationTaskArn": "arn:aws:dms:us-east-1:123456789012:task:X", "StartReplicationTaskType": "go"},
            "StartReplicationTaskType",
        ),
    ],
    ids=["missing-arn", "malformed-arn", "unknown-start-type"],
)
def test_invalid_input_fails_the_execution_naming_the_field(
    scenario: ScenarioBackend, event: dict[str, str], named: str
) -> None:
    outcome = scenario.run(event)

    assert outcome.status == "FAILED", f"{scenario.variant}: expected FAILED, got {outcome.status}"
    assert named in outcome.error_message, outcome.error


@pytest.mark.cloud_only
def test_a_task_in_another_account_is_refused_by_the_functions_own_policy(scenario: ScenarioBackend) -> None:
    # The role may start tasks of its own account only (template.yaml): IAM refuses the start before DMS looks. The
    # look before the start (DescribeReplicationTasks, which IAM cannot scope) sees no such task first, so the
    # execution fails on "not found" (first run against the stand-in, which plays IAM's refusal of the start).
    task_arn = scenario.foreign_account_task()

    outcome = scenario.run({"ReplicationTaskArn": task_arn})

    assert outcome.status == "FAILED", f"{scenario.variant}: expected FAILED, got {outcome.status}"
    refused = ("not authorized", "AccessDenied", "not found")
    assert any(words in outcome.error_message for words in refused), outcome.error
