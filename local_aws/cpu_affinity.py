"""Run a local simulation's threads on one CPU, as a batch job: they hand work to each other thousands of times a run.

A local durable run is a relay of threads (the runner's scheduler and lane, the invocation's handler and checkpoint
threads, the plugins'), each waking the next and waiting for it. Two scheduling choices make each hand-off cheaper,
and change nothing else (the same threads do the same work in the order their locks and queues impose):

- **one CPU**: spread over several cores, every hand-off woke a thread on another core that then had to win
  CPython's GIL from the thread that woke it. 24 h of polling every minute took 4.2 s on two cores, 3.3 s on one.
- **SCHED_BATCH** (``sched(7)``: the thread "is CPU-intensive", so a wake-up does not preempt the running thread):
  on one core a woken thread used to preempt its waker, find the GIL taken and switch back; 61 context switches per
  invocation became 21, and the same run about 4 % shorter.

Linux semantics: both apply to the calling thread and to every thread it starts from then on, so they are set
before a run starts its threads. Elsewhere (no ``os.sched_setaffinity``) these are no-ops, as pinning is where the
process may use only one CPU.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def allowed_cpus() -> list[int]:
    """The CPUs this thread may run on (sorted); empty where the platform cannot tell or pin."""
    if not hasattr(os, "sched_getaffinity") or not hasattr(os, "sched_setaffinity"):
        return []
    return sorted(os.sched_getaffinity(0))


def _batch_scheduling() -> tuple[int, Any] | None:
    """Switch this thread to SCHED_BATCH; what it had before, to put back (None: not available here)."""
    if not hasattr(os, "SCHED_BATCH") or not hasattr(os, "sched_setscheduler"):
        return None
    before = (os.sched_getscheduler(0), os.sched_getparam(0))
    try:
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    except OSError:  # a policy this process may not leave (a real-time one): keep it
        return None
    return before


def run_on_cpu(cpu: int) -> tuple[int, Any] | None:
    """Run this thread, and every thread it starts from now on, on ``cpu`` only, as a batch job; the scheduling
    policy it had, to put back (None: unchanged)."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})
    return _batch_scheduling()


@contextmanager
def on_one_cpu() -> Iterator[None]:
    """Run the block (and the threads it starts) on one of the allowed CPUs, as a batch job; then put both back."""
    cpus = allowed_cpus()
    if len(cpus) <= 1:
        yield
        return
    scheduling = run_on_cpu(cpus[0])
    try:
        yield
    finally:
        if scheduling is not None:
            os.sched_setscheduler(0, *scheduling)
        os.sched_setaffinity(0, cpus)


def runs_on_one_cpu(main: Callable[P, R]) -> Callable[P, R]:
    """A command's ``main`` that runs its local simulations on one CPU (and gives the others back when it returns)."""

    @functools.wraps(main)
    def pinned(*args: P.args, **kwargs: P.kwargs) -> R:
        with on_one_cpu():
            return main(*args, **kwargs)

    return pinned


def pin_worker(counter: Any, cpus: list[int]) -> None:
    """A worker process's initializer: the n-th worker started takes the n-th CPU (round robin over ``cpus``).

    ``counter`` is a ``multiprocessing.Value("i")`` shared by the pool's workers.
    """
    if not cpus:
        return
    with counter.get_lock():
        index = counter.value
        counter.value += 1
    run_on_cpu(cpus[index % len(cpus)])
