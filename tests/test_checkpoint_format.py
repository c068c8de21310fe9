"""What the functions checkpoint: plain, compact JSON, never the SDK's type envelope, and nothing JSON cannot hold.

Every step result and the polling state are TypedDicts of strings, numbers, booleans and None
(``waiting.checkpoint_format.CHECKPOINT_JSON``): the bytes written are billed, and each replay decodes them again.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_durable_execution_sdk_python.exceptions import SerDesError
from aws_durable_execution_sdk_python.serdes import EXTENDED_TYPES_SERDES, SerDesContext, deserialize, serialize

import polling_handler
from local_aws.dms_simulation import TaskPlan
from local_aws.durable_runner import LocalDurableRunner
from tests.callback_support import callback_environments, run_with_event_delivered
from tests.conftest import LocalEnvironmentFactory
from waiting.checkpoint_format import CHECKPOINT_JSON

ENVELOPE_KEYS = {"t", "v"}


def checkpointed_results(runner: LocalDurableRunner, execution_arn: str) -> dict[str, str]:
    """Each named step's (and the wait_for_condition's) checkpointed result, as written."""
    return {
        op.name or op.operation_id: op.step_details.result
        for op in runner.store.load(execution_arn).operations
        if op.step_details is not None and op.step_details.result is not None
    }


def assert_plain_compact_json(results: dict[str, str]) -> None:
    assert results, "nothing was checkpointed"
    for name, written in results.items():
        value = json.loads(written)
        assert not (isinstance(value, dict) and set(value) == ENVELOPE_KEYS), f"{name} is in the SDK's envelope"
        assert written == json.dumps(value, separators=(",", ":")), f"{name} is not compact JSON: {written}"


def test_the_polling_state_and_steps_are_checkpointed_as_plain_compact_json(
    make_local_environment: LocalEnvironmentFactory,
) -> None:
    env = make_local_environment(polling_handler.handler)
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(hours=1)))
    execution_arn = env.runner.start({"ReplicationTaskArn": arn})
    assert env.runner.wait(execution_arn).status == "SUCCEEDED"

    results = checkpointed_results(env.runner, execution_arn)

    assert_plain_compact_json(results)
    state = json.loads(results["wait-for-replication-task"])
    assert state["Snapshot"]["Status"] == "stopped", "the final poll state reads as the PollState it is"
    assert json.loads(results["start-replication-task"])["ReplicationTaskArn"] == arn


def test_the_callback_variants_steps_are_checkpointed_as_plain_compact_json() -> None:
    with callback_environments() as make:
        env = make()
        arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(hours=1)))
        measured = run_with_event_delivered(env, {"ReplicationTaskArn": arn}, name="format")
        assert measured.status == "SUCCEEDED", measured.error
        (execution_arn,) = [e.durable_execution_arn for e in env.runner.store.list_all()]

        assert_plain_compact_json(checkpointed_results(env.runner, execution_arn))


@pytest.mark.parametrize(
    "value",
    [{"At": datetime(2026, 11, 30, tzinfo=UTC)}, {"Rate": math.nan}, {"Rate": math.inf}],
    ids=["datetime", "nan", "infinity"],
)
def test_a_value_json_cannot_hold_fails_the_checkpoint_instead_of_being_written(value: dict[str, Any]) -> None:
    with pytest.raises(SerDesError, match="Serialization failed"):
        serialize(CHECKPOINT_JSON, value, "op-1", "arn:execution")


def test_a_record_an_earlier_version_wrote_in_the_sdks_envelope_is_still_read_as_plain_data() -> None:
    record = {
        "ReplicationTaskArn": "arn:aws:dms:us-east-1:123456789012:task:ORDERS",
        "Adopted": True,
        "RunBoundAt": None,
    }
    written_by_an_earlier_version = EXTENDED_TYPES_SERDES.serialize(record, SerDesContext("op-1", "arn:execution"))
    assert set(json.loads(written_by_an_earlier_version)) == ENVELOPE_KEYS

    assert deserialize(CHECKPOINT_JSON, written_by_an_earlier_version, "op-1", "arn:execution") == record


def test_plain_json_reads_back_as_written() -> None:
    written = serialize(CHECKPOINT_JSON, {"Polls": 3, "Snapshot": None, "Adopted": False}, "op-1", "arn:execution")

    assert written == '{"Polls":3,"Snapshot":null,"Adopted":false}'
    assert deserialize(CHECKPOINT_JSON, written, "op-1", "arn:execution") == {
        "Polls": 3,
        "Snapshot": None,
        "Adopted": False,
    }
