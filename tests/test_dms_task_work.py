"""The reconciling start: a retried attempt asks DMS whether the earlier, ambiguous attempt took effect.

A fake gateway stands for DMS (``FakeDmsGateway``): the start is ``dms_task_work``'s decision, not DMS's behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from job_kinds.dms_task.rules import StartReplicationTaskType, classify_task_state
from job_kinds.dms_task.work import dms_task_work, start_took_effect
from waiting.domain import WorkRequest, WorkSnapshot
from waiting.errors import DmsRequestRejectedError, StartNotConfirmedError
from waiting.work_start import AskableWork

ARN = "arn:aws:dms:us-east-1:123456789012:task:ORDERS"
LOOKED_AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
REQUEST = WorkRequest(ARN, StartReplicationTaskType.RELOAD_TARGET)


def _state(
    status: str, start: datetime | None = None, stop: datetime | None = None, observed: timedelta = timedelta(minutes=1)
) -> WorkSnapshot:
    return WorkSnapshot(
        status, None, None, None, stop, LOOKED_AT + observed, start, outcome=classify_task_state(status, None)
    )


# The look: the previous run's end, seen by DMS at LOOKED_AT (the run bound).
BEFORE = _state("stopped", LOOKED_AT - timedelta(days=1), LOOKED_AT - timedelta(hours=20), observed=timedelta(0))


@dataclass
class FakeDmsGateway:
    now: WorkSnapshot
    refuse_start: bool = False
    starts: list[str] = field(default_factory=list)

    def describe_task(self, task_arn: str) -> WorkSnapshot:
        return self.now

    def start_task(self, task_arn: str, start_type: str) -> datetime:
        if self.refuse_start:
            raise DmsRequestRejectedError("InvalidResourceStateFault: Replication task is currently starting")
        self.starts.append(start_type)
        return LOOKED_AT + timedelta(seconds=5)


@dataclass(frozen=True)
class Attempt:
    attempt: int
    logger: Any = None


def _work(gateway: FakeDmsGateway) -> AskableWork:
    return dms_task_work(gateway)  # type: ignore[arg-type]


def test_the_first_attempt_starts_without_looking_again() -> None:
    gateway = FakeDmsGateway(now=BEFORE)

    outcome = _work(gateway).start(REQUEST, "execution", BEFORE, Attempt(1))  # type: ignore[arg-type]

    assert gateway.starts == ["reload-target"]
    assert not outcome.adopted


def test_a_retry_adopts_the_run_the_earlier_attempt_started() -> None:
    gateway = FakeDmsGateway(now=_state("starting", LOOKED_AT + timedelta(seconds=2)))

    outcome = _work(gateway).start(REQUEST, "execution", BEFORE, Attempt(2))  # type: ignore[arg-type]

    assert gateway.starts == [], "the earlier start took effect: starting again would be refused, or start twice"
    assert outcome.adopted
    assert outcome.started_at == LOOKED_AT + timedelta(seconds=2)


def test_a_retry_starts_when_dms_still_shows_the_previous_run() -> None:
    gateway = FakeDmsGateway(now=BEFORE)

    outcome = _work(gateway).start(REQUEST, "execution", BEFORE, Attempt(2))  # type: ignore[arg-type]

    assert gateway.starts == ["reload-target"], "the earlier attempt was never applied (throttled, crashed before)"
    assert not outcome.adopted


def test_a_retry_refused_while_dms_does_not_show_the_run_yet_is_retried_not_failed() -> None:
    gateway = FakeDmsGateway(now=BEFORE, refuse_start=True)

    with pytest.raises(StartNotConfirmedError):
        _work(gateway).start(REQUEST, "execution", BEFORE, Attempt(2))  # type: ignore[arg-type]


def test_a_first_attempt_refused_is_a_terminal_error() -> None:
    gateway = FakeDmsGateway(now=BEFORE, refuse_start=True)

    with pytest.raises(DmsRequestRejectedError) as refused:
        _work(gateway).start(REQUEST, "execution", BEFORE, Attempt(1))  # type: ignore[arg-type]

    assert not isinstance(refused.value, StartNotConfirmedError)


@pytest.mark.parametrize(
    ("now", "took_effect"),
    [
        (_state("running", LOOKED_AT + timedelta(seconds=3)), True),
        (_state("stopped", LOOKED_AT + timedelta(seconds=3), LOOKED_AT + timedelta(hours=1)), True),
        (_state("starting"), True),
        (BEFORE, False),
        (_state("ready"), False),
    ],
    ids=["running-since", "finished-since", "starting-no-date-yet", "previous-run", "never-ran"],
)
def test_what_counts_as_the_earlier_start_having_taken_effect(now: WorkSnapshot, took_effect: bool) -> None:
    assert start_took_effect(BEFORE, now) is took_effect


def test_a_task_that_was_busy_at_the_look_was_not_started_by_us() -> None:
    busy = _state("running", LOOKED_AT - timedelta(hours=1))

    assert not start_took_effect(busy, _state("running", LOOKED_AT - timedelta(hours=1)))
