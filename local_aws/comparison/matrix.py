"""The scenario matrix: which runs to make, making them (in worker processes), pricing them and checking them."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import timedelta

from local_aws.comparison.checks import CheckResult, check_runs
from local_aws.comparison.cost import PricedRun, price_run
from local_aws.comparison.function_config import FunctionConfig, function_config, load_function_configs
from local_aws.comparison.measure import RunMeasurement, Scenario, ScenarioOutcome
from local_aws.comparison.modelled import MODELLED_VARIANTS, ModelledVariant, derive_modelled
from local_aws.comparison.prices import PriceList
from local_aws.comparison.variants import MEASURED_VARIANTS, run_scenario
from local_aws.cpu_affinity import allowed_cpus, on_one_cpu, pin_worker
from local_aws.progress_profiles import LINEAR

DEFAULT_DURATIONS = "15m,1h,6h,24h,3d"
QUICK_DURATIONS = "15m,6h"
DEFAULT_FAILURE_DURATION = timedelta(hours=1)

Progress = Callable[[int, int, str], None]


class MatrixInputError(ValueError):
    """A request the matrix cannot run (unknown variant, a model without its measured twin)."""


def all_variant_ids() -> list[str]:
    return [*MEASURED_VARIANTS, *MODELLED_VARIANTS]


@dataclass(frozen=True)
class MatrixPlan:
    measured: list[str]
    modelled: list[str]
    durations: list[timedelta]
    failure_duration: timedelta | None

    def scenarios(self) -> list[Scenario]:
        plan = [
            Scenario(v, d, profile=profile)
            for v in self.measured
            for d in self.durations
            for profile in MEASURED_VARIANTS[v].profiles
        ]
        if self.failure_duration is not None:
            plan += [Scenario(v, self.failure_duration, ScenarioOutcome.FAILURE) for v in self.measured]
        return plan


def plan_matrix(
    variant_ids: Sequence[str], durations: list[timedelta], failure_duration: timedelta | None
) -> MatrixPlan:
    unknown = [v for v in variant_ids if v not in MEASURED_VARIANTS and v not in MODELLED_VARIANTS]
    if unknown:
        raise MatrixInputError(
            f"unknown variant(s): {', '.join(unknown)}; known variants: {', '.join(all_variant_ids())}"
        )
    measured = [v for v in MEASURED_VARIANTS if v in variant_ids]
    modelled = [v for v in MODELLED_VARIANTS if v in variant_ids]
    for model_id in modelled:
        twin = MODELLED_VARIANTS[model_id].based_on
        if twin is not None and twin not in measured:
            raise MatrixInputError(f"{model_id} is modelled from {twin}'s measured polls: add {twin} to --variants")
    if modelled and not measured:
        raise MatrixInputError("modelled variants are derived from measured runs: add at least one measured variant")
    return MatrixPlan(measured, modelled, durations, failure_duration)


@dataclass(frozen=True)
class ComparisonResult:
    priced: list[PricedRun]
    checks: list[CheckResult]
    wall_seconds: float
    jobs: int
    functions: dict[str, FunctionConfig] = field(default_factory=dict)

    @property
    def failed_checks(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.passed]


def _expected_cost(scenario: Scenario) -> float:
    """Rough relative run time, to start the longest runs first so two workers finish together."""
    variant = MEASURED_VARIANTS[scenario.variant]
    interval = float(variant.settings.get("POLL_MAX_INTERVAL_SECONDS", 300)) if variant.kind == "polling" else 1e9
    return scenario.duration.total_seconds() / interval


def run_measured(scenarios: list[Scenario], jobs: int, progress: Progress) -> list[RunMeasurement]:
    """Run every scenario; results come back in the plan's order whatever order they finish in."""
    done: dict[int, RunMeasurement] = {}
    total = len(scenarios)
    if jobs <= 1:
        with on_one_cpu():
            for index, scenario in enumerate(scenarios):
                done[index] = run_scenario(scenario)
                progress(len(done), total, _describe(scenario))
    else:
        order = sorted(range(total), key=lambda i: -_expected_cost(scenarios[i]))
        context = _worker_start_method()
        # Each worker on a CPU of its own (local_aws/cpu_affinity.py): two workers, two cores, no thread relay
        # crossing cores.
        started_workers = context.Value("i", 0)
        with ProcessPoolExecutor(
            max_workers=jobs, mp_context=context, initializer=pin_worker, initargs=(started_workers, allowed_cpus())
        ) as pool:
            futures = {pool.submit(run_scenario, scenarios[i]): i for i in order}
            for future in as_completed(futures):
                index = futures[future]
                done[index] = future.result()
                progress(len(done), total, _describe(scenarios[index]))
    return [done[i] for i in range(total)]


def _worker_start_method() -> multiprocessing.context.BaseContext:
    """fork when this process runs a single thread: the workers start with everything it imported (half a second
    each, at the start of every run); spawn otherwise, since a fork would copy another thread's locks mid-use (a test
    runner's, a server's)."""
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _describe(scenario: Scenario) -> str:
    described = f"{scenario.variant} {scenario.duration.total_seconds():g}s {scenario.outcome.value}"
    return described if scenario.profile == LINEAR.name else f"{described} {scenario.profile}"


def _config(functions: dict[str, FunctionConfig], name: str | None, modelled: bool) -> FunctionConfig | None:
    if name is None:
        return None
    if modelled:
        # A modelled row's function need not be deployed: without it, the template's Globals price it.
        return functions.get(name) or functions["Globals"]
    return function_config(functions, name)


def run_comparison(plan: MatrixPlan, prices: PriceList, jobs: int, progress: Progress) -> ComparisonResult:
    started = time.perf_counter()
    functions = load_function_configs()
    for variant_id in plan.measured:  # fail before hours of simulated work, not after
        variant = MEASURED_VARIANTS[variant_id]
        function_config(functions, variant.function)
        if variant.completer_function is not None:
            function_config(functions, variant.completer_function)
    measured = run_measured(plan.scenarios(), jobs, progress)
    models: list[ModelledVariant] = [MODELLED_VARIANTS[m] for m in plan.modelled]
    rows = measured + derive_modelled(models, measured)
    priced = []
    for run in rows:
        function = _config(functions, run.function, run.modelled)
        if function is None:  # pragma: no cover - every variant names its function
            raise MatrixInputError(f"{run.variant} names no function to price")
        completer = _config(functions, run.completer_function, run.modelled)
        priced.append(price_run(run, prices, function, completer))
    kinds = {v: MEASURED_VARIANTS[v].kind for v in plan.measured}
    checks = check_runs(measured, kinds)
    return ComparisonResult(
        priced=priced,
        checks=checks,
        wall_seconds=time.perf_counter() - started,
        jobs=jobs,
        functions=functions,
    )
