"""Local simulations run on one CPU per process, and give the others back."""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor

import pytest

from local_aws.cpu_affinity import allowed_cpus, on_one_cpu, pin_worker, runs_on_one_cpu

CPUS = allowed_cpus()
needs_two_cpus = pytest.mark.skipif(len(CPUS) < 2, reason="pinning shows only where a process may use two CPUs")


@needs_two_cpus
def test_a_block_runs_on_one_cpu_as_a_batch_job_and_everything_is_put_back_after_it() -> None:
    policy = os.sched_getscheduler(0)
    seen_by_a_thread: list[tuple[set[int], int]] = []
    with on_one_cpu():
        assert os.sched_getaffinity(0) == {CPUS[0]}
        assert os.sched_getscheduler(0) == os.SCHED_BATCH
        thread = threading.Thread(
            target=lambda: seen_by_a_thread.append((os.sched_getaffinity(0), os.sched_getscheduler(0)))
        )
        thread.start()
        thread.join()
    assert seen_by_a_thread == [({CPUS[0]}, os.SCHED_BATCH)], "a thread started in the block runs elsewhere"
    assert sorted(os.sched_getaffinity(0)) == CPUS
    assert os.sched_getscheduler(0) == policy


@needs_two_cpus
def test_a_command_main_runs_pinned_and_gives_the_cpus_back_even_when_it_fails() -> None:
    seen: list[set[int]] = []

    @runs_on_one_cpu
    def main(fail: bool) -> int:
        seen.append(os.sched_getaffinity(0))
        if fail:
            raise SystemExit(2)
        return 0

    assert main(False) == 0
    with pytest.raises(SystemExit):
        main(True)
    assert seen == [{CPUS[0]}, {CPUS[0]}]
    assert sorted(os.sched_getaffinity(0)) == CPUS


def _cpus() -> tuple[int, ...]:
    return tuple(sorted(os.sched_getaffinity(0)))


@needs_two_cpus
def test_the_workers_of_a_pool_take_the_cpus_in_turn() -> None:
    counter = multiprocessing.get_context("spawn").Value("i", 0)
    taken = []
    try:
        for _ in range(3):  # three workers starting, in this process one after the other
            pin_worker(counter, CPUS)
            taken.append(_cpus())
    finally:
        os.sched_setaffinity(0, CPUS)
    assert taken == [(CPUS[0],), (CPUS[1],), (CPUS[0],)]


@needs_two_cpus
def test_a_pool_worker_runs_on_one_cpu() -> None:
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        max_workers=2, mp_context=context, initializer=pin_worker, initargs=(context.Value("i", 0), CPUS)
    )
    with pool:
        seen = {pool.submit(_cpus).result() for _ in range(4)}
    assert all(len(cpus) == 1 for cpus in seen), f"a worker may use several CPUs: {seen}"
