"""The simulated DMS Serverless replication, seen through a boto3 dms client: provisioning before any data moves,
progress, stop reasons, failures, deprovisioning 48 hours after a stop, the start rules, faults and its events."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.retries.standard
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local_aws.dms_serverless_simulation import (
    DEPROVISION_AFTER,
    DEPROVISIONING_TAKES,
    START_REPLICATION_RERUN_MESSAGE,
    ReplicationPlan,
)
from local_aws.dms_simulation import (
    FAILURE_STOP_REASON,
    SUCCESS_STOP_REASON,
    USER_STOP_REASON,
    SimulatedDms,
    SimulatedOutcome,
)
from local_aws.dms_transport import SimulatedDmsTransport
from local_aws.faults import FaultKind

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PROVISIONING = timedelta(minutes=10)
ONE_HOUR = ReplicationPlan(full_load=timedelta(hours=1), provisioning=PROVISIONING, tables=4)
FAILS_HALFWAY = ReplicationPlan(
    full_load=timedelta(hours=1),
    provisioning=PROVISIONING,
    outcome=SimulatedOutcome.FAILS,
    failure_messages=("Last Error disk full Stop Reason FATAL_ERROR Error Level FATAL", "second message"),
    tables=4,
)
# Should the simulation miss a call, it fails at once instead of reaching for the network.
_NOWHERE = "http://127.0.0.1:9"
SINGLE_ATTEMPT = Config(retries={"mode": "standard", "total_max_attempts": 1})
RETRYING = Config(retries={"mode": "standard", "max_attempts": 3})


class ManualClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def at(self, delta: timedelta) -> None:
        self.now = T0 + delta


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def dms(clock: ManualClock) -> Iterator[SimulatedDms]:
    simulation = SimulatedDms(clock=clock)
    with SimulatedDmsTransport(simulation):
        yield simulation


@pytest.fixture(autouse=True)
def _no_botocore_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's retries keep their number and order; only the jittered sleep between them goes."""
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda _self, _ctx: 0.0)


def _client(config: Config = SINGLE_ATTEMPT) -> Any:
    return boto3.client("dms", region_name="us-east-1", endpoint_url=_NOWHERE, config=config)


def _start(arn: str, start_type: str = "start-replication", client: Any = None) -> dict[str, Any]:
    replication: dict[str, Any] = (client or _client()).start_replication(
        ReplicationConfigArn=arn, StartReplicationType=start_type
    )["Replication"]
    return replication


def _describe(arn: str) -> dict[str, Any]:
    answer = _client().describe_replications(Filters=[{"Name": "replication-config-arn", "Values": [arn]}])
    assert len(answer["Replications"]) == 1, f"expected exactly this replication, got {answer['Replications']}"
    replication: dict[str, Any] = answer["Replications"][0]
    return replication


def _tables(stats: dict[str, Any]) -> tuple[int, int, int, int]:
    """(TablesLoaded, TablesLoading, TablesQueued, TablesErrored)"""
    return stats["TablesLoaded"], stats["TablesLoading"], stats["TablesQueued"], stats["TablesErrored"]


def _error(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def _ran_once(dms: SimulatedDms, clock: ManualClock, replication_type: str = "full-load") -> str:
    """A replication whose first run finished (or, for CDC, was stopped) a minute ago."""
    arn = dms.add_replication("orders", ONE_HOUR, replication_type=replication_type)
    _start(arn)
    if replication_type == "full-load-and-cdc":
        clock.at(PROVISIONING + timedelta(hours=2))
        _client().stop_replication(ReplicationConfigArn=arn)
    clock.at(PROVISIONING + timedelta(hours=3))
    return arn


# --- the lifecycle ----------------------------------------------------------------------------------------------


def test_a_replication_never_started_is_created_with_no_capacity_and_no_stats(dms: SimulatedDms) -> None:
    arn = dms.add_replication("orders", ONE_HOUR)

    replication = _describe(arn)

    assert arn.startswith("arn:aws:dms:us-east-1:123456789012:replication-config:")
    assert "orders" not in arn.lower(), "the ARN must end in a resource id, not the identifier"
    assert replication["Status"] == "created"
    assert replication["ReplicationConfigIdentifier"] == "orders"
    assert replication["ReplicationType"] == "full-load"
    assert "ProvisionData" not in replication, "nothing is provisioned before the first start"
    assert "ReplicationStats" not in replication


def test_a_start_goes_through_the_provisioning_phases_before_any_data_moves(
    dms: SimulatedDms, clock: ManualClock
) -> None:
    arn = dms.add_replication("orders", ONE_HOUR)

    answer = _start(arn)
    seen = []
    for second in range(0, 11 * 60, 10):
        clock.at(timedelta(seconds=second))
        replication = _describe(arn)
        seen.append(
            (
                replication["Status"],
                replication.get("ProvisionData", {}).get("ProvisionState"),
                replication["ReplicationStats"]["FullLoadProgressPercent"],
            )
        )

    assert answer["Status"] == "initializing"
    assert answer["StartReplicationType"] == "start-replication"
    statuses = list(dict.fromkeys(status for status, _state, _progress in seen))
    assert statuses == [
        "initializing",
        "preparing_metadata_resources",
        "testing_connection",
        "fetching_metadata",
        "calculating_capacity",
        "provisioning_capacity",
        "replication_starting",
        "running",
    ], "the replication must go through every documented state in order"
    assert {state for status, state, _p in seen if status == "provisioning_capacity"} == {"provisioning"}
    assert {state for status, state, _p in seen if status in ("replication_starting", "running")} == {"provisioned"}
    assert all(progress == 0 for status, _state, progress in seen if status != "running"), "no data moves before"


def test_provisioning_takes_39_minutes_unless_the_plan_says_otherwise(dms: SimulatedDms, clock: ManualClock) -> None:
    arn = dms.add_replication("orders", ReplicationPlan(full_load=timedelta(hours=1)))
    _start(arn)

    clock.at(timedelta(minutes=39, seconds=-1))
    before = _describe(arn)
    clock.at(timedelta(minutes=39))
    after = _describe(arn)

    assert before["Status"] == "replication_starting"
    assert after["Status"] == "running"
    assert after["ReplicationStats"]["FullLoadStartDate"] == T0 + timedelta(minutes=39)


def test_a_running_replication_reports_its_progress_tables_and_dates(dms: SimulatedDms, clock: ManualClock) -> None:
    arn = dms.add_replication("orders", ONE_HOUR)
    _start(arn)

    clock.at(PROVISIONING + timedelta(minutes=30))
    replication = _describe(arn)

    stats = replication["ReplicationStats"]
    assert replication["Status"] == "running"
    assert stats["FullLoadProgressPercent"] == 50
    assert _tables(stats) == (2, 1, 1, 0)
    assert stats["ElapsedTimeMillis"] == (PROVISIONING + timedelta(minutes=30)) // timedelta(milliseconds=1)
    assert stats["StartDate"] == T0
    assert stats["FreshStartDate"] == T0
    assert stats["FullLoadStartDate"] == T0 + PROVISIONING
    assert replication["ProvisionData"]["DateProvisioned"] < T0 + PROVISIONING
    assert replication["ProvisionData"]["ProvisionedCapacityUnits"] == 2
    for absent in ("StopReason", "ReplicationLastStopTime", "ReplicationDeprovisionTime"):
        assert absent not in replication, f"a running replication has no {absent}"
    assert "StopDate" not in stats
    assert "FullLoadFinishDate" not in stats


def test_a_finished_full_load_stops_with_its_stop_reason_and_final_stats(dms: SimulatedDms, clock: ManualClock) -> None:
    arn = dms.add_replication("orders", ONE_HOUR)
    _start(arn)
    finished_at = T0 + PROVISIONING + timedelta(hours=1)

    clock.at(PROVISIONING + timedelta(hours=2))
    replication = _describe(arn)

    stats = replication["ReplicationStats"]
    assert replication["Status"] == "stopped"
    assert replication["StopReason"] == SUCCESS_STOP_REASON == "Stop Reason FULL_LOAD_ONLY_FINISHED"
    assert replication["ReplicationLastStopTime"] == finished_at
    assert replication["ReplicationDeprovisionTime"] == finished_at + timedelta(hours=48)
    assert "FailureMessages" not in replication
    assert stats["FullLoadProgressPercent"] == 100
    assert _tables(stats) == (4, 0, 0, 0)
    assert stats["StopDate"] == finished_at
    assert stats["FullLoadFinishDate"] == finished_at
    assert stats["ElapsedTimeMillis"] == (PROVISIONING + timedelta(hours=1)) // timedelta(milliseconds=1)


def test_a_stopped_replication_keeps_its_capacity_48_hours_then_deprovisions(
    dms: SimulatedDms, clock: ManualClock
) -> None:
    arn = dms.add_replication("orders", ONE_HOUR)
    _start(arn)
    finished = PROVISIONING + timedelta(hours=1)

    states = []
    for moment in (
        finished + timedelta(hours=48, seconds=-1),
        finished + timedelta(hours=48),
        finished + timedelta(hours=48) + DEPROVISIONING_TAKES,
    ):
        clock.at(moment)
        replication = _describe(arn)
        states.append((replication["Status"], replication["ProvisionData"]["ProvisionState"]))

    assert states == [("stopped", "provisioned"), ("stopped", "deprovisioning"), ("stopped", "deprovisioned")]


def test_dates_travel_as_epoch_seconds_on_the_wire(dms: SimulatedDms, clock: ManualClock) -> None:
    arn = dms.add_replication("orders", ONE_HOUR)
    raw: list[bytes] = []
    client = _client()
    client.meta.events.register("after-call.database-migration-service.StartReplication", _keep_body(raw))

    _start(arn, client=client)

    assert b'"StartDate": 1772442000.0' in raw[0], f"StartDate must be epoch seconds: {raw[0]!r}"


def _keep_body(into: list[bytes]) -> Any:
    def keep(http_response: Any, **_kwargs: Any) -> None:
        into.append(http_response.content)

    return keep


# --- start and stop rules ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("start_type", ["resume-processing", "reload-target"])
def test_a_replication_that_never_ran_refuses_every_start_but_start_replication(
    dms: SimulatedDms, start_type: str
) -> None:
    arn = dms.add_replication("orders", ONE_HOUR)

    with pytest.raises(ClientError) as refused:
        _start(arn, start_type)

    code, message = _error(refused)
    assert code == "InvalidParameterCombinationException"
    assert "never ran" in message, "the refusal must say why"
    assert dms.replication(arn).runs == [], "a refused start must not start a run"
    assert _describe(arn)["Status"] == "created"


def test_start_replication_on_a_replication_that_ran_before_is_refused_with_dms_message(
    dms: SimulatedDms, clock: ManualClock
) -> None:
    arn = _ran_once(dms, clock)

    with pytest.raises(ClientError) as refused:
        _start(arn, "start-replication")

    assert _error(refused) == ("InvalidParameterCombinationException", START_REPLICATION_RERUN_MESSAGE)
    assert START_REPLICATION_RERUN_MESSAGE.endswith("valid only for replications running for the first time")


def test_a_full_load_replication_cannot_resume_processing(dms: SimulatedDms, clock: ManualClock) -> None:
    arn = _ran_once(dms, clock)

    with pytest.raises(ClientError) as refused:
        _start(arn, "resume-processing")

    code, message = _error(refused)
    assert code == "InvalidParameterCombinationException"
    assert "isn't applicable for a full-load replication" in message


def test_a_full_load_replication_that_ran_before_reloads_the_target_as_a_fresh_start(
    dms: SimulatedDms, clock: ManualClock
) -> None:
    arn = _ran_once(dms, clock)
    reloaded_at = clock.now

    answer = _start(arn, "reload-target")

    assert answer["Status"] == "initializing"
    assert answer["StartReplicationType"] == "reload-target"
    assert answer["ReplicationStats"]["FreshStartDate"] == reloaded_at
    assert answer["ReplicationStats"]["FullLoadProgressPercent"] == 0
    assert "StopReason" not in answer, "the previous run's stop reason is gone once this run started"
    assert answer["ReplicationLastStopTime"] == T0 + PROVISIONING + timedelta(hours=1), "the last stop is kept"


def test_a_cdc_replication_that_ran_before_resumes_from_its_fresh_start(dms: SimulatedDms, clock: ManualClock) -> None:
    arn = _ran_once(dms, clock, replication_type="full-load-and-cdc")

    answer = _start(arn, "resume-processing")

    assert answer["StartReplicationType"] == "resume-processing"
    assert answer["ReplicationStats"]["StartDate"] == clock.now
    assert answer["ReplicationStats"]["FreshStartDate"] == T0, "a resume keeps the fresh start it resumes"


def test_a_replication_added_with_a_previous_run_must_be_reloaded(dms: SimulatedDms, clock: ManualClock) -> None:
    arn = dms.add_replication("orders", ONE_HOUR, previous_run=ONE_HOUR)

    with pytest.raises(ClientError) as refused:
        _start(arn, "start-replication")
    replication = _describe(arn)
    _start(arn, "reload-target")

    assert _error(refused)[0] == "InvalidParameterCombinationException"
    assert replication["Status"] == "stopped"
    assert replication["ReplicationLastStopTime"] == clock.now
    assert dms.replication(arn).start_calls == 1, "the previous run was not a call"


@pytest.mark.parametrize("after", [timedelta(0), timedelta(minutes=5), PROVISIONING + timedelta(minutes=1)])
def test_a_replication_in_progress_refuses_another_start(
    dms: SimulatedDms, clock: ManualClock, after: timedelta
) -> None:
    arn = _ran_once(dms, clock)
    _start(arn, "reload-target")
    restarted = clock.now - T0

    clock.at(restarted + after)
    with pytest.raises(ClientError) as refused:
        _start(arn, "reload-target")

    code, message = _error(refused)
    assert code == "InvalidResourceStateFault"
    assert _describe(arn)["Status"] in message
    assert len(dms.replication(arn).runs) == 2


def test_a_deprovisioning_replication_refuses_a_start_until_it_is_deprovisioned(
    dms: SimulatedDms, clock: ManualClock
) -> None:
    arn = dms.add_replication("orders", ONE_HOUR)
    _start(arn)
    release = PROVISIONING + timedelta(hours=1) + DEPROVISION_AFTER

    clock.at(release)
    with pytest.raises(ClientError) as refused:
        _start(arn, "reload-target")
    clock.at(release + DEPROVISIONING_TAKES)
    answer = _start(arn, "reload-target")

    assert _error(refused)[0] == "InvalidResourceStateFault"
    assert answer["ProvisionData"]["ProvisionState"] == "deprovisioned", "until this run provisions its own capacity"


def test_a_stopped_run_stops_after_stopping_with_a_normal_stop_where_it_was(
    dms: SimulatedDms, clock: ManualClock
) -> None:
    arn = dms.add_replication("orders", ONE_HOUR)
    _start(arn)
    clock.at(PROVISIONING + timedelta(minutes=15))
    stop_at = clock.now

    answer = _client().stop_replication(ReplicationConfigArn=arn)["Replication"]
    clock.at(PROVISIONING + timedelta(minutes=30))
    replication = _describe(arn)

    assert answer["Status"] == "stopping"
    assert replication["Status"] == "stopped"
    assert replication["StopReason"] == USER_STOP_REASON == "Stop Reason NORMAL"
    stats = replication["ReplicationStats"]
    assert stats["FullLoadProgressPercent"] == 25, "progress stays where the stop found it"
    assert stats["StopDate"] == replication["ReplicationLastStopTime"] == stop_at + timedelta(minutes=1)
    assert "FullLoadFinishDate" not in stats
    assert (stats["TablesLoaded"], stats["TablesLoading"], stats["TablesQueued"]) == (1, 0, 3)


@pytest.mark.parametrize("state", ["created", "stopped", "stopping"])
def test_stop_replication_refuses_a_replication_with_nothing_ongoing(
    dms: SimulatedDms, clock: ManualClock, state: str
) -> None:
    arn = dms.add_replication("orders", ONE_HOUR)
    if state != "created":
        _start(arn)
        clock.at(PROVISIONING + timedelta(minutes=5))
        _client().stop_replication(ReplicationConfigArn=arn)
    if state == "stopped":
        clock.at(PROVISIONING + timedelta(hours=1))

    with pytest.raises(ClientError) as refused:
        _client().stop_replication(ReplicationConfigArn=arn)

    assert _describe(arn)["Status"] == state
    assert _error(refused)[0] == "InvalidResourceStateFault"


def test_a_cdc_replication_keeps_replicating_after_its_full_load_until_stopped(
    dms: SimulatedDms, clock: ManualClock
) -> None:
    arn = dms.add_replication("orders", ONE_HOUR, replication_type="full-load-and-cdc")
    _start(arn)

    clock.at(PROVISIONING + timedelta(days=3))
    replication = _describe(arn)

    assert replication["Status"] == "running", "full-load-and-cdc does not stop after its full load"
    assert replication["ReplicationStats"]["FullLoadProgressPercent"] == 100
    assert replication["ReplicationStats"]["FullLoadFinishDate"] == T0 + PROVISIONING + timedelta(hours=1)
    assert "StopReason" not in replication
    with pytest.raises(ValueError, match="until it is stopped"):
        dms.terminal_replication_event(arn)


# --- failures ---------------------------------------------------------------------------------------------------


def test_a_failing_plan_fails_with_its_failure_messages_and_a_fatal_stop_reason(
    dms: SimulatedDms, clock: ManualClock
) -> None:
    arn = dms.add_replication("orders", FAILS_HALFWAY)
    _start(arn)
    failed_at = T0 + PROVISIONING + timedelta(minutes=30)

    clock.at(PROVISIONING + timedelta(minutes=29))
    before = _describe(arn)
    clock.at(PROVISIONING + timedelta(hours=2))
    replication = _describe(arn)

    assert before["Status"] == "running"
    assert "FailureMessages" not in before
    assert replication["Status"] == "failed"
    assert replication["FailureMessages"] == list(FAILS_HALFWAY.failure_messages), "FailureMessages is a list"
    assert replication["StopReason"] == FAILURE_STOP_REASON == "Stop Reason FATAL_ERROR"
    assert replication["ReplicationLastStopTime"] == failed_at
    assert replication["ReplicationDeprovisionTime"] == failed_at + timedelta(hours=48)
    stats = replication["ReplicationStats"]
    assert stats["FullLoadProgressPercent"] == 50
    assert _tables(stats) == (2, 0, 1, 1)
    assert "FullLoadFinishDate" not in stats


def test_a_replication_failing_while_provisioning_fails_before_any_data_moved(
    dms: SimulatedDms, clock: ManualClock
) -> None:
    plan = ReplicationPlan(
        full_load=timedelta(hours=1),
        provisioning=PROVISIONING,
        outcome=SimulatedOutcome.FAILS,
        fail_while_provisioning=True,
        failure_messages=("Test connection failed for endpoint 'source'",),
    )
    arn = dms.add_replication("orders", plan)
    _start(arn)

    clock.at(PROVISIONING)
    replication = _describe(arn)

    assert replication["Status"] == "failed"
    assert replication["FailureMessages"] == ["Test connection failed for endpoint 'source'"]
    assert "ProvisionData" not in replication, "no capacity was provisioned"
    assert "ReplicationDeprovisionTime" not in replication
    assert "FullLoadStartDate" not in replication["ReplicationStats"]
    assert replication["ReplicationStats"]["FullLoadProgressPercent"] == 0


def test_failure_messages_outlive_the_failed_run(dms: SimulatedDms, clock: ManualClock) -> None:
    arn = dms.add_replication("orders", FAILS_HALFWAY)
    _start(arn)
    clock.at(timedelta(hours=2))
    dms.replication(arn).next_plan = ONE_HOUR

    _start(arn, "reload-target")
    clock.at(timedelta(hours=5))
    replication = _describe(arn)

    assert replication["Status"] == "stopped"
    assert replication["StopReason"] == SUCCESS_STOP_REASON
    assert replication["FailureMessages"] == list(FAILS_HALFWAY.failure_messages), "read Status, not the messages"


# --- not found --------------------------------------------------------------------------------------------------


def test_an_unknown_replication_is_not_found(dms: SimulatedDms) -> None:
    unknown = "arn:aws:dms:us-east-1:123456789012:replication-config:NOPE"

    with pytest.raises(ClientError) as described:
        _client().describe_replications(Filters=[{"Name": "replication-config-arn", "Values": [unknown]}])
    with pytest.raises(ClientError) as started:
        _start(unknown)
    with pytest.raises(ClientError) as stopped:
        _client().stop_replication(ReplicationConfigArn=unknown)

    assert [_error(e)[0] for e in (described, started, stopped)] == ["ResourceNotFoundFault"] * 3
    assert dms.calls["DescribeReplications"] == 1


def test_an_unknown_replication_can_be_an_empty_list_instead(dms: SimulatedDms) -> None:
    dms.empty_list_when_not_found = True

    unknown = "arn:aws:dms:us-east-1:123456789012:replication-config:NOPE"

    answer = _client().describe_replications(Filters=[{"Name": "replication-config-arn", "Values": [unknown]}])

    assert answer["Replications"] == []


def test_replications_are_found_by_config_id_and_an_unknown_filter_is_refused(dms: SimulatedDms) -> None:
    arn = dms.add_replication("orders", ONE_HOUR)
    dms.add_replication("invoices", ONE_HOUR)

    by_id = _client().describe_replications(Filters=[{"Name": "replication-config-id", "Values": ["orders"]}])
    with pytest.raises(ClientError) as refused:
        _client().describe_replications(Filters=[{"Name": "replication-task-arn", "Values": [arn]}])

    assert [r["ReplicationConfigArn"] for r in by_id["Replications"]] == [arn]
    assert _error(refused)[0] == "InvalidParameterValueException"


# --- faults -----------------------------------------------------------------------------------------------------


def test_a_throttled_start_is_not_applied_and_is_recorded(dms: SimulatedDms) -> None:
    arn = dms.add_replication("orders", ONE_HOUR)
    dms.throttle(1, operation="StartReplication")

    with pytest.raises(ClientError) as throttled:
        _start(arn)

    assert _error(throttled)[0] == "ThrottlingException"
    assert dms.replication(arn).runs == []
    assert [(f.operation, f.fault) for f in dms.firings] == [("StartReplication", FaultKind.THROTTLE)]


def test_a_throttled_describe_is_retried_by_botocore(dms: SimulatedDms) -> None:
    arn = dms.add_replication("orders", ONE_HOUR)
    dms.fail_next(2, operation="DescribeReplications")

    answer = _client(RETRYING).describe_replications(Filters=[{"Name": "replication-config-arn", "Values": [arn]}])

    assert answer["Replications"][0]["Status"] == "created"
    assert dms.calls["DescribeReplications"] == 3


def test_a_lost_start_answer_starts_the_replication_and_the_retry_is_refused(dms: SimulatedDms) -> None:
    arn = dms.add_replication("orders", ONE_HOUR)
    dms.lose_answer_next(1, operation="StartReplication")

    with pytest.raises(ClientError) as replayed:
        _start(arn, client=_client(RETRYING))

    assert _error(replayed)[0] == "InvalidResourceStateFault", "botocore replays the call and DMS refuses the second"
    assert dms.replication(arn).start_calls == 1, "the lost start was applied"
    assert dms.calls["StartReplication"] == 2
    assert [f.fault for f in dms.firings] == [FaultKind.LOSE_ANSWER]


def test_an_injected_error_applies_to_stop_replication(dms: SimulatedDms, clock: ManualClock) -> None:
    arn = dms.add_replication("orders", ONE_HOUR)
    _start(arn)
    dms.fail_next(1, code="AccessDeniedFault", message="no", operation="StopReplication")

    with pytest.raises(ClientError) as denied:
        _client().stop_replication(ReplicationConfigArn=arn)

    assert _error(denied) == ("AccessDeniedFault", "no")
    assert dms.replication(arn).runs[0].stop_requested_at is None


# --- events -----------------------------------------------------------------------------------------------------


def test_the_terminal_event_of_a_finished_full_load(dms: SimulatedDms, clock: ManualClock) -> None:
    arn = dms.add_replication("orders", ONE_HOUR)
    _start(arn)
    resource_id = arn.rsplit(":", 1)[1]

    event = dms.terminal_replication_event(arn)

    assert {k: v for k, v in event.items() if k != "id"} == {
        "version": "0",
        "detail-type": "DMS Replication State Change",
        "source": "aws.dms",
        "account": "123456789012",
        "time": "2026-03-02T10:10:00Z",
        "region": "us-east-1",
        "resources": [arn],
        "detail": {
            "type": "REPLICATION_CONFIG",
            "category": "StateChange",
            "eventType": "REPLICATION_STOPPED",
            "detailMessage": f"Replication with resource id, '{resource_id}', has stopped.",
        },
    }


def test_a_failure_event_names_no_reason_and_the_internal_task_announces_no_failure(
    dms: SimulatedDms, clock: ManualClock
) -> None:
    arn = dms.add_replication("orders", FAILS_HALFWAY)
    _start(arn)
    clock.at(timedelta(hours=2))

    terminal = dms.terminal_replication_event(arn)
    events = dms.replication_events(arn)

    assert terminal["detail"]["eventType"] == "REPLICATION_FAILED"
    assert terminal["detail"]["category"] == "Failure"
    assert "disk full" not in str(terminal), "the failure is read with DescribeReplications"
    assert events[-1] == terminal
    task_events = [e["detail"]["eventType"] for e in events if e["detail-type"] == "DMS Replication Task State Change"]
    assert task_events == ["REPLICATION_TASK_STARTED"], "DMS Serverless sends no REPLICATION_TASK_FAILED"


def test_the_events_published_so_far_in_order(dms: SimulatedDms, clock: ManualClock) -> None:
    arn = dms.add_replication("orders", ONE_HOUR)
    _start(arn)

    clock.at(PROVISIONING + timedelta(minutes=5))
    running = dms.replication_events(arn)
    clock.at(PROVISIONING + timedelta(hours=1) + DEPROVISION_AFTER + DEPROVISIONING_TAKES)
    everything = dms.replication_events(arn)

    assert [e["detail"]["eventType"] for e in running] == [
        "REPLICATION_INITIALIZING",
        "REPLICATION_PREPARING_METADATA_RESOURCES",
        "REPLICATION_TESTING_CONNECTION",
        "REPLICATION_FETCHING_METADATA",
        "REPLICATION_CALCULATING_CAPACITY",
        "REPLICATION_PROVISIONING_CAPACITY",
        "REPLICATION_PROVISIONED",
        "REPLICATION_STARTED",
        "REPLICATION_RUNNING",
        "REPLICATION_TASK_STARTED",
    ]
    assert [e["detail"]["eventType"] for e in everything[len(running) :]] == [
        "REPLICATION_STOPPED",
        "REPLICATION_TASK_STOPPED",
        "REPLICATION_DEPROVISIONING",
        "REPLICATION_DEPROVISIONED",
    ]
    task_arns = {e["resources"][0] for e in everything if e["detail-type"] == "DMS Replication Task State Change"}
    assert len(task_arns) == 1
    assert task_arns.pop().startswith("arn:aws:dms:us-east-1:123456789012:task:serv-res-id-")
    assert all(e["resources"] == [arn] for e in everything if e["detail-type"] == "DMS Replication State Change")


def test_each_run_has_its_own_terminal_event(dms: SimulatedDms, clock: ManualClock) -> None:
    arn = _ran_once(dms, clock)
    _start(arn, "reload-target")

    previous = dms.terminal_replication_event(arn, run=-2)
    latest = dms.terminal_replication_event(arn)

    assert previous["time"] == "2026-03-02T10:10:00Z"
    assert latest["time"] == "2026-03-02T13:20:00Z"
    assert previous["id"] != latest["id"]
    with pytest.raises(ValueError, match="no run -3"):
        dms.terminal_replication_event(arn, run=-3)


def test_a_replication_never_started_has_no_terminal_event(dms: SimulatedDms) -> None:
    arn = dms.add_replication("orders", ONE_HOUR)

    with pytest.raises(ValueError, match="never started"):
        dms.terminal_replication_event(arn)
    assert dms.replication_events(arn) == []
