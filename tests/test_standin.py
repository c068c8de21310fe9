"""The local stand-in of a deployed stack, and the deployed commands run end to end against it as a user runs them:
migration-wait-standin in the background, then start, watch to the end, list, report, complete (installed commands,
endpoint settings only, no traceback). Also: what the stand-in plays against template.yaml, and its SDK contract."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aws_durable_execution_sdk_python.lambda_service import OperationStatus
from aws_durable_execution_sdk_python_testing.execution import Execution
from aws_durable_execution_sdk_python_testing.executor import Executor
from aws_durable_execution_sdk_python_testing.runner import WebRunner
from aws_durable_execution_sdk_python_testing.worker.status import InvocationState

from local_aws.comparison.function_config import load_function_configs
from local_aws.standin import functions, sdk_internals
from local_aws.standin.log_shipping import telemetry_function
from tests.installed_commands import TRACEBACK, CommandRun, console_command, isolated_environment, run

TASK = "arn:aws:dms:us-east-1:123456789012:task:ORDERS"
FAILING_TASK = "arn:aws:dms:us-east-1:123456789012:task:ORDERS-FAILS"
_START_TIMEOUT_SECONDS = 60


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """migration-wait-standin running in the background; the settings it wrote (what a user exports)."""
    home = tmp_path_factory.mktemp("standin")
    env_file = home / "standin.env"
    process = subprocess.Popen(  # noqa: S603 - this project's own command
        [console_command("migration-wait-standin"), "--env-file", str(env_file)],
        env=isolated_environment(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while not env_file.exists() or not env_file.read_text().strip():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the stand-in did not start: {process.stderr.read() if process.stderr else ''}")
            time.sleep(0.1)
        settings = {}
        for line in env_file.read_text().splitlines():
            name, _, value = line.removeprefix("export ").partition("=")
            settings[name] = value.strip("'")
        yield settings
    finally:
        process.terminate()
        process.wait(timeout=30)


def _deployed(standin: dict[str, str], tmp_path: Path, *argv: str) -> CommandRun:
    result = run([console_command("migration-wait-deployed"), *argv], isolated_environment(tmp_path, **standin))
    assert TRACEBACK not in result.stderr, f"a traceback:\n{result}"
    return result


def _start(standin: dict[str, str], tmp_path: Path, name: str, *argv: str) -> str:
    started = _deployed(standin, tmp_path, "start", "--stack-name", "migration-wait", "--name", name, *argv)
    assert started.code == 0, str(started)
    return str(json.loads(started.stdout)["DurableExecutionArn"])


def test_start_then_watch_follows_a_polling_wait_to_its_end(standin: dict[str, str], tmp_path: Path) -> None:
    arn = _start(standin, tmp_path, "orders-polling", "--task-arn", TASK)

    watched = _deployed(standin, tmp_path, "watch", "--execution-arn", arn, "--interval", "0.2")

    assert watched.code == 0, str(watched)
    assert "SUCCEEDED" in watched.stdout
    assert "progress 100%" in watched.stdout, watched.stdout
    assert "polls " in watched.stdout
    assert json.loads(watched.stdout[watched.stdout.index("{") :])["Result"]["Status"] == "stopped"


def test_a_failing_task_is_watched_to_a_failed_execution_exit_1(standin: dict[str, str], tmp_path: Path) -> None:
    arn = _start(standin, tmp_path, "orders-fails", "--task-arn", FAILING_TASK)

    watched = _deployed(standin, tmp_path, "watch", "--execution-arn", arn, "--interval", "0.2")

    assert watched.code == 1, str(watched)
    assert "FAILED" in watched.stdout


def test_list_shows_the_variants_executions_with_their_state(standin: dict[str, str], tmp_path: Path) -> None:
    arn = _start(standin, tmp_path, "orders-listed", "--task-arn", TASK, "--start-type", "reload-target")
    _deployed(standin, tmp_path, "watch", "--execution-arn", arn, "--interval", "0.2")

    listed = _deployed(standin, tmp_path, "list", "--stack-name", "migration-wait")

    assert listed.code == 0, str(listed)
    assert "orders-listed" in listed.stdout
    assert "SUCCEEDED" in listed.stdout


def test_report_prices_the_stacks_executions_from_their_telemetry_records(
    standin: dict[str, str], tmp_path: Path
) -> None:
    arn = _start(standin, tmp_path, "orders-reported", "--task-arn", TASK, "--start-type", "reload-target")
    _deployed(standin, tmp_path, "watch", "--execution-arn", arn, "--interval", "0.2")
    time.sleep(0.5)  # the record's log line is shipped in the background

    reported = _deployed(standin, tmp_path, "report", "--stack-name", "migration-wait", "--json")

    assert reported.code == 0, str(reported)
    runs = json.loads(reported.stdout)["runs"]
    ours = [r for r in runs if r["label"] == "orders-reported"]
    assert ours, f"no row for the execution in {[r['label'] for r in runs]}"
    assert ours[0]["durable_operations"] == ours[0]["polls"] + 3, ours[0]["durable_operations_parts"]
    assert ours[0]["invocations"] == ours[0]["polls"], ours[0]
    assert ours[0]["cost_per_execution_usd"] > 0


def test_completing_an_unknown_callback_is_one_line_exit_1(standin: dict[str, str], tmp_path: Path) -> None:
    result = _deployed(standin, tmp_path, "complete", "--callback-id", "bm8tc3VjaC1jYWxsYmFjaw==")

    assert result.code == 1, str(result)
    assert len(result.stderr.strip().splitlines()) == 1, str(result)


def test_the_stand_in_plays_the_templates_functions_and_outputs() -> None:
    configs = load_function_configs()
    outputs = functions.stack_outputs("s")

    for function in functions.FUNCTIONS:
        assert function.resource in configs, f"{function.resource} is not in template.yaml"
        assert configs[function.resource].retention_days == (functions.RETENTION_DAYS if function.durable else None)
    for key in ("PollingFunctionAlias", "CallbackFunctionAlias", "PollingFunctionLogGroupName", "CallbackTableName"):
        assert key in outputs
    template = Path(__file__).resolve().parents[1].joinpath("template.yaml").read_text()
    # The default MaxWaitSeconds (604800) row of ExecutionTimeoutByMaxWait.
    assert f'"604800": {{Seconds: {functions.EXECUTION_TIMEOUT_SECONDS}}}' in template


def test_a_telemetry_line_is_routed_to_the_function_it_names() -> None:
    record = {"recordType": "DurableExecutionTelemetry", "functionName": "mw-PollingFunction"}
    line = json.dumps({"timestamp": "t", "level": "INFO", "message": json.dumps(record)})

    assert telemetry_function(line) == "mw-PollingFunction"
    assert telemetry_function('{"level": "INFO", "message": "Handled an event"}') is None


def test_the_testing_sdk_still_has_what_the_stand_in_reaches_into() -> None:
    assert isinstance(Execution.__dict__.get("new"), staticmethod), "Execution.new moved: update sdk_internals"
    set_on_start = WebRunner.start.__code__.co_names
    for name in ("_executor", "_store", "_clock", "_server"):
        assert name in set_on_start, f"WebRunner.start no longer sets {name}: update local_aws/standin/sdk_internals.py"
    for name in ("_invocation_gate", "_invoke_execution"):
        assert callable(getattr(Executor, name, None)), f"Executor.{name} moved: update sdk_internals"
    assert "_pending_wakeup" in Executor.__init__.__code__.co_names, "Executor._pending_wakeup moved"
    assert callable(getattr(Execution, "has_unseen_changes", None)), "Execution.has_unseen_changes moved"


class _Executor:
    def __init__(self, gate: InvocationState, wakeup: Future[None] | None) -> None:
        self._gate = gate
        self._pending_wakeup = {} if wakeup is None else {"arn": wakeup}
        self.invoked: list[str] = []

    def _invocation_gate(self, _arn: str) -> InvocationState:
        return self._gate

    def _invoke_execution(self, arn: str) -> None:
        self.invoked.append(arn)


@dataclass
class _Execution:
    status: OperationStatus = OperationStatus.READY
    unseen: bool = True
    failed_attempts: int = 0
    is_complete: bool = False
    durable_execution_arn: str = "arn"

    @property
    def operations(self) -> list[Any]:
        return [SimpleNamespace(status=OperationStatus.SUCCEEDED), SimpleNamespace(status=self.status)]

    @property
    def consecutive_failed_invocation_attempts(self) -> int:
        return self.failed_attempts

    def has_unseen_changes(self) -> bool:
        return self.unseen


def _done() -> Future[None]:
    future: Future[None] = Future()
    future.set_result(None)
    return future


@pytest.mark.parametrize(
    ("gate", "wakeup", "execution", "owed"),
    [
        (InvocationState.PRE_INVOKE, None, _Execution(), True),
        (InvocationState.PRE_INVOKE, "done", _Execution(), True),
        (InvocationState.INVOKING, None, _Execution(), False),
        (InvocationState.PRE_INVOKE, "armed", _Execution(), False),
        (InvocationState.PRE_INVOKE, None, _Execution(unseen=False), False),
        (InvocationState.PRE_INVOKE, None, _Execution(status=OperationStatus.PENDING), False),
        (InvocationState.PRE_INVOKE, None, _Execution(failed_attempts=1), False),
        (InvocationState.PRE_INVOKE, None, _Execution(is_complete=True), False),
    ],
    ids=["owed", "owed-wakeup-done", "invoking", "wakeup-armed", "all-seen", "not-ready", "retrying", "complete"],
)
def test_an_execution_is_resumed_only_when_the_runner_owes_it_an_invocation_and_nothing_will_make_it(
    gate: InvocationState, wakeup: str | None, execution: _Execution, owed: bool
) -> None:
    """A READY operation the handler has not seen, no invocation running, none scheduled, none failed: Lambda would
    invoke it; anything else is the runner's own business."""
    future = {"done": _done(), "armed": Future(), None: None}[wakeup]
    runner = SimpleNamespace(_executor=_Executor(gate, future))

    assert sdk_internals.forgotten_resumption(runner, execution) is owed  # type: ignore[arg-type]


def test_resuming_invokes_the_execution_as_the_runner_does() -> None:
    runner = SimpleNamespace(_executor=_Executor(InvocationState.PRE_INVOKE, None))

    sdk_internals.resume(runner, "arn")  # type: ignore[arg-type]

    assert runner._executor.invoked == ["arn"]
