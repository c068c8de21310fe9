"""Callback variant settings, the safety-net schedule, and the callback result the execution accepts."""

from __future__ import annotations

import json

import pytest

from job_kinds.dms_task.rules import classify_task_state
from waiting.callback_rounds import round_timeout_seconds
from waiting.domain import WorkOutcome, parse_finish_record
from waiting.errors import InvalidInputError, InvalidSettingError
from waiting.settings import CallbackSettings, CompleterSettings

TABLE = {"CALLBACK_TABLE_NAME": "migration-wait-callbacks"}


def test_defaults_apply_when_only_the_table_is_set() -> None:
    settings = CallbackSettings.from_env(TABLE)

    assert settings.table_name == "migration-wait-callbacks"
    assert settings.callback_timeout_seconds == 84 * 3600
    assert settings.max_wait_seconds == 7 * 24 * 3600
    assert settings.max_rounds == 2, "the default safety net should look at DMS at most twice"


def test_the_completer_defaults_to_a_ten_second_grace_for_re_registrations() -> None:
    assert CompleterSettings.from_env(TABLE).reregistration_grace_seconds == 10.0


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "CALLBACK_TABLE_NAME is required"),
        ({"CALLBACK_TABLE_NAME": "  "}, "CALLBACK_TABLE_NAME is required"),
        ({"CALLBACK_TABLE_NAME": "no spaces allowed"}, "CALLBACK_TABLE_NAME"),
        ({**TABLE, "CALLBACK_TIMEOUT_SECONDS": "an hour"}, "CALLBACK_TIMEOUT_SECONDS"),
        ({**TABLE, "CALLBACK_TIMEOUT_SECONDS": "0"}, "CALLBACK_TIMEOUT_SECONDS"),
        ({**TABLE, "MAX_WAIT_SECONDS": "10"}, "MAX_WAIT_SECONDS"),
        ({**TABLE, "CALLBACK_TIMEOUT_SECONDS": "60"}, "CALLBACK_TIMEOUT_SECONDS"),
    ],
    ids=["missing-table", "blank-table", "bad-table", "timeout-not-number", "timeout-zero", "max-too-short", "rounds"],
)
def test_a_bad_setting_fails_fast_naming_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(InvalidSettingError) as raised:
        CallbackSettings.from_env(env)

    assert named in str(raised.value), f"the error does not name {named!r}: {raised.value}"


def test_too_many_safety_net_rounds_are_refused_with_the_operation_limit_as_the_reason() -> None:
    with pytest.raises(InvalidSettingError) as raised:
        CallbackSettings.from_env({**TABLE, "CALLBACK_TIMEOUT_SECONDS": "60"})

    assert "10080 safety-net rounds" in str(raised.value)
    assert "3,000 durable operations" in str(raised.value)


def test_the_completer_refuses_a_negative_grace() -> None:
    with pytest.raises(InvalidSettingError, match="REREGISTRATION_GRACE_SECONDS"):
        CompleterSettings.from_env({**TABLE, "REREGISTRATION_GRACE_SECONDS": "-1"})


def test_rounds_use_the_full_period_until_the_maximum_wait_shortens_the_last() -> None:
    settings = CallbackSettings(table_name="t", callback_timeout_seconds=3600, max_wait_seconds=9000)

    assert round_timeout_seconds(settings, 0) == 3600
    assert round_timeout_seconds(settings, 7200) == 1800
    assert round_timeout_seconds(settings, 8999.5) == 1, "a round always waits at least one second"


def _record(**overrides: object) -> str:
    record: dict[str, object] = {
        "Status": "stopped",
        "StopReason": "Stop Reason FULL_LOAD_ONLY_FINISHED",
        "LastFailureMessage": None,
        "FullLoadProgressPercent": 100,
        "StopDate": "2026-11-26T10:00:00+00:00",
        "ObservedAt": "2026-11-26T10:00:05+00:00",
        "StartDate": "2026-11-26T09:00:00+00:00",
    }
    record.update(overrides)
    return json.dumps(record)


def test_a_finish_record_carries_the_outcome_its_writer_classified() -> None:
    snapshot = parse_finish_record(_record(Outcome="succeeded"))

    assert snapshot.outcome is WorkOutcome.SUCCEEDED
    assert snapshot.start_date is not None
    assert snapshot.start_date.isoformat() == "2026-11-26T09:00:00+00:00"


def test_a_record_without_its_outcome_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInputError, match="Outcome"):
        parse_finish_record(_record())


def test_a_document_from_outside_is_classified_by_the_kind_and_its_own_outcome_ignored() -> None:
    document = _record(Status="failed", LastFailureMessage="ORA-01555", Outcome="succeeded")

    snapshot = parse_finish_record(document, classify=classify_task_state)

    assert snapshot.outcome is WorkOutcome.FAILED, "a third party must not decide the outcome against its own status"
    assert "ORA-01555" in snapshot.failure_reason()


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        (None, "JSON string"),
        ("not json", "not JSON"),
        ("[1, 2]", "JSON object"),
        (_record(Status=None), "Status"),
        (_record(ObservedAt=None), "ObservedAt"),
        (_record(ObservedAt="yesterday"), "ObservedAt"),
        (_record(ObservedAt="2026-11-26T10:00:05"), "ObservedAt"),
        (_record(FullLoadProgressPercent="all"), "FullLoadProgressPercent"),
        (_record(StopReason=7), "StopReason"),
    ],
    ids=[
        "none",
        "not-json",
        "not-object",
        "no-status",
        "no-observed",
        "bad-time",
        "naive-time",
        "bad-progress",
        "reason",
    ],
)
def test_an_unusable_callback_result_is_rejected_naming_the_field(raw: object, named: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        parse_finish_record(raw)

    assert named in str(raised.value), f"the error does not name {named!r}: {raised.value}"
