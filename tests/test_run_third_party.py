"""The third-party demo runs end to end and shows what it promises (smoke test, not timing)."""

from __future__ import annotations

import pytest

from scripts import run_third_party


def test_a_job_that_succeeds_is_completed_through_a_signed_callback(capsys: pytest.CaptureFixture[str]) -> None:
    exit_code = run_third_party.main(["--duration", "6h"])

    out = capsys.readouterr().out
    assert exit_code == 0, out
    assert "x-callback-signature: v1=" in out
    assert 'CallbackApiFunction answered 200 {"Outcome": "completed"' in out
    assert "execution SUCCEEDED" in out
    assert "invocations 2, durable operations 4, callbacks completed 1" in out
    assert "/callbacks/<token: 43 characters>" in out, "the token must not be printed"


def test_a_tampered_callback_is_refused_and_the_safety_net_reports_the_failure(
    capsys: pytest.CaptureFixture[str],
) -> None:
    exit_code = run_third_party.main(["--duration", "3d", "--fails", "--misbehave", "tampered-body"])

    out = capsys.readouterr().out
    assert exit_code == 0, out
    assert "CallbackApiFunction answered 401" in out
    assert "safety-net timeouts: 1; job status reads (GET /jobs/...): 1" in out
    assert "execution FAILED" in out
    assert "ORA-01555" in out
    assert "callbacks completed 0" in out


def test_bad_arguments_are_refused_with_exit_code_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        run_third_party.main(["--misbehave", "sulk"])

    assert raised.value.code == 2
    assert "sulk" in capsys.readouterr().err
