"""The fault-injection matrix as a specification: under every fault, every variant ends as a healthy wait should.

One test per scenario (``local_aws/fault_matrix.py``): the execution ends as expected, DMS accepted one start, the
callback was completed at most once, the result carries this run's data, the execution did not fail while its task
ran, and a delivered event was not left to the safety net. A scenario whose fault never fired proves nothing, so
that fails too.
"""

from __future__ import annotations

import pytest

from local_aws.fault_matrix import MatrixSummary, Scenario, format_table, run_scenario, scenarios


@pytest.mark.parametrize("scenario", scenarios(), ids=lambda s: s.key)
def test_the_wait_survives_the_fault(scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "CRITICAL")

    outcome = run_scenario(scenario)

    assert outcome.as_expected, format_table(MatrixSummary([outcome])) + f"\nerror: {outcome.error}"
    assert outcome.starts_accepted == 1, "DMS must accept exactly one start for the run"
    if "baseline" not in scenario.fault:
        assert outcome.faults_fired >= 1, "the fault was never injected: the scenario proves nothing"
