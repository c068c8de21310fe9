"""The callback benchmark runs end to end on a small burst and checks its own promises (smoke test, not timing)."""

from __future__ import annotations

import pytest

from scripts import benchmark_callback


def test_a_small_burst_completes_every_execution_exactly_once(capsys: pytest.CaptureFixture[str]) -> None:
    exit_code = benchmark_callback.main(["--durations", "15m,72h", "--burst", "20", "--concurrency", "4"])

    out = capsys.readouterr().out
    assert exit_code == 0, out
    assert "| 15m | 2 | 5 |" in out, "a 15-minute migration should take 2 invocations and 5 durable operations"
    assert "| 3d | 2 | 5 |" in out, "a 72-hour migration should take the same work as a 15-minute one"
    assert "| completer outcomes | 20 completed |" in out
    assert "| the same 20 events again | 20 ignored-no-waiting-execution; 0 callbacks accepted |" in out


def test_bad_arguments_are_refused_with_exit_code_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        benchmark_callback.main(["--durations", "soon"])

    assert raised.value.code == 2
    assert "malformed duration 'soon'" in capsys.readouterr().err
