"""The comparison command: a --quick smoke run (report structure and self-checks), bad input (run as the installed
command: one line, exit 2, before any work, never a traceback), failing self-checks."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from local_aws.comparison import matrix
from local_aws.comparison.checks import CheckResult, check_runs
from local_aws.comparison.cost import COMPONENTS
from local_aws.comparison.prices import DEFAULT_PRICES_FILE
from local_aws.progress_profiles import PROFILES
from scripts import compare
from tests.installed_commands import assert_one_line_error, console_command, isolated_environment
from tests.installed_commands import run as run_command
from tests.test_comparison_cost import a_run

RUN_KEYS = {
    "variant",
    "duration_seconds",
    "outcome",
    "invocations",
    "durable_operations",
    "bytes_written",
    "detection_lag_seconds",
    "cost_per_execution_usd",
    "cost_breakdown_usd",
    "modelled",
    "profile",
}


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("comparison")
    exit_code = compare.main(["--quick", "--out", str(out)])
    assert exit_code == 0, "compare --quick failed (see its output above)"
    for name in ("report.json", "report.md", "cost_per_execution.png", "invocations.png", "lag_vs_cost.png"):
        assert (out / name).stat().st_size > 0, f"{name} was not written"
    report: dict[str, Any] = json.loads((out / "report.json").read_text())
    return report


@pytest.mark.slow
def test_quick_report_has_the_documented_structure(quick_report: dict[str, Any]) -> None:
    runs = quick_report["runs"]
    assert runs, "no runs in report.json"
    for run in runs:
        missing = RUN_KEYS - set(run)
        assert not missing, f"{run['variant']}: report.json run lacks {missing}"
        assert isinstance(run["modelled"], bool)
        assert set(run["cost_breakdown_usd"]) == set(COMPONENTS)
        assert run["cost_per_execution_usd"] == pytest.approx(sum(run["cost_breakdown_usd"].values()))
        assert run["cost_per_execution_usd"] > 0, f"{run['variant']} costs nothing"
    assert {r["duration_seconds"] for r in runs if r["scenario"] == "success"} == {900, 6 * 3600}
    assert {r["variant"] for r in runs if r["modelled"]} >= {"sfn-poll-loop-default", "sfn-wait-for-task-token"}
    assert any(r["scenario"] == "failure" and r["outcome"] == "failed" for r in runs if not r["modelled"])
    prices = quick_report["prices"]["prices"]
    assert json.loads(DEFAULT_PRICES_FILE.read_text())["prices"] == prices


@pytest.mark.slow
def test_quick_report_self_checks_all_passed_and_cover_every_measured_shape(quick_report: dict[str, Any]) -> None:
    checks = quick_report["self_checks"]
    failed = [c for c in checks if not c["passed"]]
    assert not failed, f"self-checks failed: {failed}"
    names = " ".join(c["name"] for c in checks)
    assert "history grows by 3 events per poll (polling-default)" in names
    assert "history grows by 3 events per poll (polling-fixed-1m)" in names
    assert "history grows by 3 events per poll (polling-progress)" in names


@pytest.mark.slow
def test_quick_report_runs_the_progress_aware_variant_over_every_profile(quick_report: dict[str, Any]) -> None:
    progress = [r for r in quick_report["runs"] if r["variant"] == "polling-progress" and r["scenario"] == "success"]
    others = {r["profile"] for r in quick_report["runs"] if r["variant"] != "polling-progress"}

    assert {(r["duration_seconds"], r["profile"]) for r in progress} == {
        (d, p) for d in (900, 6 * 3600) for p in PROFILES
    }
    assert others == {"linear"}, "only the schedule that reads the progress runs over the profiles"
    assert all(r["outcome"] == "succeeded" for r in progress)


@pytest.mark.slow
def test_quick_report_counts_polling_operations_by_the_documented_rule(quick_report: dict[str, Any]) -> None:
    for run in (r for r in quick_report["runs"] if r["variant"].startswith("polling-")):
        # The look (1) + the start step (1) + wait_for_condition (1 + polls).
        assert run["durable_operations"] == 3 + run["polls"], run["durable_operations_parts"]
        # Less the look: DescribeReplicationTasks for a task, DescribeReplications for a serverless replication.
        describes = run["dms_calls"].get("DescribeReplicationTasks", 0) + run["dms_calls"].get(
            "DescribeReplications", 0
        )
        assert run["invocations"] == run["polls"] == describes - 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--variants", "polling-default,carrier-pigeon"], "unknown variant(s): carrier-pigeon"),
        (["--durations", "15m,6hours"], "malformed duration '6hours'"),
        (["--failure-duration", "soon"], "malformed duration 'soon'"),
        (["--variants", "sfn-poll-loop-1m"], "sfn-poll-loop-1m is modelled from polling-fixed-1m"),
        (["--quick", "--durations", "1h"], "--quick and --durations are exclusive"),
    ],
)
def test_bad_input_exits_2_naming_the_problem(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert compare.main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"usd": None}, "missing price 'lambda_requests_per_million'"),
        ({"usd": -0.2}, "price 'lambda_requests_per_million' (usd) must not be negative"),
    ],
)
def test_a_bad_price_file_exits_2_naming_the_price(
    tmp_path: Path, change: dict[str, Any], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads(DEFAULT_PRICES_FILE.read_text())
    if change["usd"] is None:
        del document["prices"]["lambda_requests_per_million"]
    else:
        document["prices"]["lambda_requests_per_million"]["usd"] = change["usd"]
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(document))

    assert compare.main(["--prices", str(path), "--durations", "15m"]) == 2
    assert message in capsys.readouterr().err


def _unwritable_directory(tmp_path: Path) -> Path:
    """A directory no file can be created in: read-only for an ordinary user; /proc for root, whom modes don't stop."""
    if os.geteuid() == 0:
        return Path("/proc")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    return locked


# Each case names a mistake and what its one line must say; "{tmp}" is the test's own directory.
COMMAND_LINE_MISTAKES = {
    "out-is-a-file": (["--out", "{tmp}/a-file"], ["--out", "a-file is a file, not a directory"]),
    "out-in-proc": (["--out", "/proc/forbidden"], ["--out /proc/forbidden", "cannot write in /proc"]),
    "out-unwritable": (["--out", "{unwritable}/report"], ["--out", "cannot write in"]),
    "prices-a-directory": (["--prices", "{tmp}"], ["is a directory, not a JSON file"]),
    "prices-missing": (["--prices", "{tmp}/no-such.json"], ["price file not found"]),
    "prices-not-json": (["--prices", "{tmp}/a-file"], ["a-file is not valid JSON"]),
    "prices-wrong-shape": (["--prices", "{tmp}/list.json"], ["expected an object with a 'prices' object"]),
    "prices-binary": (["--prices", "{tmp}/binary.json"], ["not a JSON file (not UTF-8 text)"]),
    "variants-empty": (["--variants", ","], ["--variants names no variant", "polling-default"]),
    "variants-unknown": (["--variants", "carrier-pigeon"], ["unknown variant(s): carrier-pigeon"]),
    "durations-malformed": (["--durations", "15m,6hours"], ["--durations: malformed duration '6hours'"]),
    "durations-empty": (["--durations", ","], ["--durations: no durations given"]),
    "durations-zero": (["--durations", "0m"], ["must be positive"]),
    "durations-huge": (["--durations", "99999999999d"], ["longer than 366 days"]),
    "failure-duration": (["--failure-duration", "soon"], ["--failure-duration: malformed duration 'soon'"]),
    "jobs-zero": (["--jobs", "0"], ["--jobs must be at least 1"]),
    "jobs-not-a-number": (["--jobs", "two"], ["argument --jobs: invalid int value: 'two'"]),
    "unknown-option": (["--fast"], ["unrecognized arguments: --fast"]),
}


@pytest.mark.parametrize("case", sorted(COMMAND_LINE_MISTAKES))
def test_a_mistake_is_one_line_and_exit_2_before_any_work(case: str, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not json\n")
    (tmp_path / "list.json").write_text("[]\n")
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00{")
    arguments, fragments = COMMAND_LINE_MISTAKES[case]
    argv = [a.format(tmp=tmp_path, unwritable=_unwritable_directory(tmp_path)) for a in arguments]

    # Everything else valid and small: without the check, the run would start (and print its progress).
    result = run_command(
        [console_command("migration-wait-compare"), "--variants", "polling-default", "--durations", "15m", *argv]
        if case.startswith(("out", "prices", "jobs", "unknown"))
        else [console_command("migration-wait-compare"), *argv],
        isolated_environment(tmp_path),
    )

    assert_one_line_error(result, 2, *fragments)
    assert result.stdout == "", f"the command did work before refusing:\n{result}"
    assert not list(tmp_path.glob("**/report*")), "a report was written"


def test_a_failing_self_check_fails_the_command_loudly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = CheckResult("history grows by 3 events per poll (polling-default)", False, "history - 3 x polls = [4, 5]")
    monkeypatch.setattr(matrix, "check_runs", lambda runs, kinds: [broken])

    exit_code = compare.main(["--variants", "polling-default", "--durations", "15m", "--failure-duration", "none"])

    assert exit_code == 1
    assert "SELF-CHECK FAILED: history grows by 3 events per poll" in capsys.readouterr().err


def test_the_history_check_fails_when_the_history_does_not_grow_by_3_per_poll() -> None:
    fine = a_run(variant="polling-default", kind="polling", polls=7, invocations=7, history_events=25)
    off = replace(fine, duration_seconds=7200, polls=16, invocations=16, history_events=53)

    results = {c.name: c for c in check_runs([fine, off], {"polling-default": "polling"})}

    check = results["history grows by 3 events per poll (polling-default)"]
    assert not check.passed
    assert "[4, 5]" in check.detail


def test_the_callback_check_fails_when_a_count_depends_on_the_duration() -> None:
    short = a_run(variant="callback-event", invocations=2, durable_operations=6, callback_waits=1, events_delivered=1)
    long = replace(short, duration_seconds=86400, invocations=3)

    results = {c.name: c for c in check_runs([short, long], {"callback-event": "callback"})}

    check = results["callback counts do not depend on the duration (callback-event)"]
    assert not check.passed
    assert "invocations 3 at 86400s" in check.detail


def test_the_callback_check_accepts_counts_that_grow_only_with_safety_net_checks() -> None:
    one = a_run(variant="callback-lost", invocations=2, durable_operations=8, callback_waits=1, safety_net_checks=1)
    one = replace(one, store_operations=6, checkpointed_updates=100)
    two = replace(
        one, duration_seconds=86400, invocations=3, durable_operations=13, callback_waits=2, safety_net_checks=2
    )
    three = replace(
        two, duration_seconds=3 * 86400, invocations=4, durable_operations=18, callback_waits=3, safety_net_checks=3
    )

    # Each run's telemetry record counted what the store counted.
    runs = [replace(r, telemetry_operations=r.durable_operations, telemetry_polls=r.polls) for r in (one, two, three)]
    results = {c.name: c for c in check_runs(runs, {"callback-lost": "callback"})}

    assert all(c.passed for c in results.values()), [c for c in results.values() if not c.passed]
    assert "invocations +1" in results["callback counts do not depend on the duration (callback-lost)"].detail


def test_a_task_that_outlasts_the_variants_maximum_wait_is_expected_to_fail() -> None:
    gave_up = a_run(variant="polling-fixed-1m", kind="polling", execution_status="FAILED")
    gave_up = replace(gave_up, duration_seconds=3 * 86400, task_seconds=3 * 86400, max_wait_seconds=2 * 86400)
    claimed_success = replace(gave_up, execution_status="SUCCEEDED")

    results = {c.name: c for c in check_runs([gave_up], {})}
    wrong = {c.name: c for c in check_runs([claimed_success], {})}

    name = "outcome polling-fixed-1m 259200s success"
    assert results[name].passed, results[name].detail
    assert not wrong[name].passed
    assert "outlasts MAX_WAIT_SECONDS" in wrong[name].detail


def test_the_telemetry_check_fails_when_the_record_counts_differently_or_is_missing() -> None:
    counted = a_run(variant="polling-default", duration_seconds=900, durable_operations=10, polls=7)
    differs = replace(counted, telemetry_operations=11, telemetry_polls=7)
    missing = replace(counted, duration_seconds=86400)

    results = {c.name: c for c in check_runs([differs, missing], {})}

    name = "durable operations agree with the telemetry record polling-default"
    assert not results[f"{name} 900s success"].passed
    assert "telemetry record: 11 operations" in results[f"{name} 900s success"].detail
    assert not results[f"{name} 86400s success"].passed
    assert "no DurableExecutionTelemetry record" in results[f"{name} 86400s success"].detail


def _without_wall_times(report: dict[str, Any]) -> dict[str, Any]:
    kept = {k: v for k, v in report.items() if k not in ("generated_at", "matrix_wall_seconds")}
    kept["runs"] = [{k: v for k, v in run.items() if k != "wall_seconds"} for run in report["runs"]]
    return kept


@pytest.mark.slow
def test_two_runs_on_the_frozen_clock_report_exactly_the_same_figures(tmp_path: Path) -> None:
    reports = []
    for name in ("first", "second"):
        out = tmp_path / name
        args = ["--frozen-clock", "--variants", "polling-fixed-1m,callback-lost-event-1h", "--durations", "1h,6h"]
        assert compare.main([*args, "--jobs", "1", "--out", str(out)]) == 0
        reports.append(json.loads((out / "report.json").read_text()))

    assert _without_wall_times(reports[0]) == _without_wall_times(reports[1]), (
        "two runs on the frozen clock differ: some figure depends on timing, so a harness change cannot be shown "
        "to leave results unchanged"
    )
    assert compare.FROZEN_CLOCK_VARIABLE not in os.environ, "--frozen-clock leaked into the environment"


def test_worker_processes_fork_only_from_a_single_threaded_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matrix.threading, "active_count", lambda: 1)
    assert matrix._worker_start_method().get_start_method() == "fork"
    monkeypatch.setattr(matrix.threading, "active_count", lambda: 3)
    assert matrix._worker_start_method().get_start_method() == "spawn", "forked a process that runs other threads"


@pytest.mark.slow
def test_forked_workers_report_what_one_process_reports(tmp_path: Path) -> None:
    """The installed command (one thread when it starts its workers, so they fork) against the same matrix run here
    in one process, both on the frozen clock."""
    args = ["--frozen-clock", "--variants", "polling-default,callback-event", "--durations", "15m,1h"]
    assert compare.main([*args, "--jobs", "1", "--out", str(tmp_path / "one")]) == 0
    command = run_command(
        [console_command("migration-wait-compare"), *args, "--jobs", "2", "--out", str(tmp_path / "forked")],
        env=isolated_environment(tmp_path),
    )
    assert command.code == 0, str(command)

    def figures(name: str) -> dict[str, Any]:
        report = _without_wall_times(json.loads((tmp_path / name / "report.json").read_text()))
        return {k: v for k, v in report.items() if k != "jobs"}

    assert figures("forked") == figures("one"), "the forked workers measured something else than one process did"
