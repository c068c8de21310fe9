"""The polling benchmark's command line: its goal summary, its time breakdown and its answers to bad input."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from local_aws.time_breakdown import PART_KEYS, TimeBreakdown
from scripts import benchmark_polling
from scripts.benchmark_polling import (
    DEFAULT_LABEL,
    BenchmarkRow,
    benchmark_json,
    one_minute_polling_with_breakdown,
    progress_label,
    render_goals,
    render_side_by_side,
)

DAY = timedelta(hours=24)


def _row(label: str, profile: str, polls: int, lag: float) -> BenchmarkRow:
    return BenchmarkRow(label, profile, DAY, polls, polls, lag, 0.1)


def test_the_goals_are_checked_against_the_rows() -> None:
    progress = progress_label(7200)
    rows = [
        _row(DEFAULT_LABEL, "linear", 292, 151),
        _row(progress, "linear", 24, 40),
        _row(DEFAULT_LABEL, "front-loaded", 292, 151),
        _row(progress, "front-loaded", 31, 200),
        _row(DEFAULT_LABEL, "stall", 292, 151),
        _row(progress, "stall", 110, 90),
    ]

    goals = render_goals(rows, 7200).splitlines()

    assert goals[1].startswith("- FAIL at most 30 polls"), goals[1]
    assert goals[2].startswith("- PASS never more polls than the default"), goals[2]
    assert goals[3].startswith("- PASS median detection lag"), goals[3]
    assert ": 90 s" in goals[3], goals[3]
    assert goals[4].startswith("- PASS worst-case lag"), goals[4]


def test_side_by_side_pairs_each_progress_run_with_the_default_one() -> None:
    rows = [_row(DEFAULT_LABEL, "stall", 292, 151), _row(progress_label(7200), "stall", 110, 90)]

    assert "| 24h | stall | 292 | 151 | 110 | 90 |" in render_side_by_side(rows)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--profiles", "zigzag"], "unknown progress profile 'zigzag'"),
        (["--cap", "60"], "POLL_PROGRESS_MAX_INTERVAL_SECONDS must not be smaller"),
        (["--phases", "0"], "--phases must be at least 1"),
        (["--repeats", "0"], "--repeats must be at least 1, got 0"),
        (["--durations", "soon"], "malformed duration 'soon'"),
    ],
)
def test_bad_input_exits_2_naming_the_problem(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        benchmark_polling.main(argv)

    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_the_time_breakdown_splits_the_run_into_parts_that_add_up_to_it() -> None:
    breakdown = TimeBreakdown(
        invocations=100, run_seconds=0.3, handler_seconds=0.2, dms_seconds=0.05, run_without_telemetry_seconds=0.27
    )
    parts = dict(zip(PART_KEYS, (seconds for _, seconds in breakdown.parts()), strict=True))

    assert parts == pytest.approx({"runner": 0.1, "sdk_and_our_code": 0.12, "telemetry_plugin": 0.03, "dms_call": 0.05})
    assert sum(parts.values()) == pytest.approx(breakdown.run_seconds)
    assert [p["ms_per_invocation"] for p in breakdown.to_json()["parts"]] == pytest.approx([1.0, 1.2, 0.3, 0.5])
    assert "| **the run: 100 invocations in 0.30 s** | **3.00** | 100 % |" in breakdown.render()


def test_a_timed_polling_run_times_its_handler_and_dms_calls_inside_the_run() -> None:
    row, breakdown = one_minute_polling_with_breakdown(timedelta(hours=1), repeats=3)

    assert breakdown.repeats == 3
    assert "The median of 3 runs" in breakdown.render()
    assert row.invocations == breakdown.invocations == row.polls, "one invocation per poll"
    assert 0 < breakdown.dms_seconds < breakdown.handler_seconds < breakdown.run_seconds
    written = json.loads(json.dumps(benchmark_json([row], breakdown)))
    assert written["one_minute_polling"]["invocations"] == row.invocations


def test_the_breakdown_reports_the_median_run_and_the_median_ablation(monkeypatch: pytest.MonkeyPatch) -> None:
    # Runs alternate: timed, ablation, timed, ablation, ... The ablation's handler is None here.
    walls = iter([3.0, 2.5, 1.0, 2.9, 2.0, 2.7])
    timed_history_reads = iter([0.3, 0.1, 0.2])

    def fake_run_one(label: str, duration: timedelta, settings: dict[str, str], **kwargs: object) -> BenchmarkRow:
        history = next(timed_history_reads) if kwargs["handler"] is not None else 0.0
        return BenchmarkRow(label, "linear", duration, 10, 10, 30.0, next(walls), history_read_seconds=history)

    monkeypatch.setattr(benchmark_polling, "run_one", fake_run_one)
    monkeypatch.setattr(benchmark_polling, "polling_handler_without_telemetry", lambda: None)

    row, breakdown = one_minute_polling_with_breakdown(DAY, repeats=3)

    assert row.wall_seconds == breakdown.run_seconds == 2.0, "the middle of the timed runs 3.0, 1.0, 2.0"
    assert row.history_read_seconds == 0.2, "the history read of that same run"
    assert breakdown.run_without_telemetry_seconds == 2.7, "the middle of the ablations 2.5, 2.9, 2.7"
    with pytest.raises(ValueError, match="repeats must be at least 1"):
        one_minute_polling_with_breakdown(DAY, repeats=0)
