"""Run a local simulation's process on one CPU: its threads hand work to each other thousands of times a run.

A local durable run is a relay of threads (the runner's scheduler and lane, the invocation's handler and checkpoint
threads, the plugins'), each waking the next and waiting for it. Spread over several cores, every hand-off wakes a
thread on another core that must then win CPython's GIL from the thread that woke it: measured here, a fifth of a
1-minute poll's time went to that contention (24 h of polling every minute: 4.2 s on two cores, 3.3 s on one).
On one core the woken thread simply runs when the waker blocks. Nothing else changes: the same threads do the same
work in the same order their locks and queues impose.

Linux only (``os.sched_setaffinity``); elsewhere these are no-ops, as they are where the process may use one CPU.
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
    """The CPUs this process may run on (sorted); empty where the platform cannot tell or pin."""
    if not hasattr(os, "sched_getaffinity") or not hasattr(os, "sched_setaffinity"):
        return []
    return sorted(os.sched_getaffinity(0))


def pin_to_cpu(cpu: int) -> None:
    """Run this process (every thread it has and starts) on ``cpu`` only."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})


@contextmanager
def on_one_cpu() -> Iterator[None]:
    """Run the block on one of the allowed CPUs, then allow every one of them again."""
    cpus = allowed_cpus()
    if len(cpus) <= 1:
        yield
        return
    pin_to_cpu(cpus[0])
    try:
        yield
    finally:
        os.sched_setaffinity(0, cpus)


def pin_worker(counter: Any, cpus: list[int]) -> None:
    """A worker process's initializer: the n-th worker started takes the n-th CPU (round robin over ``cpus``).

    ``counter`` is a ``multiprocessing.Value("i")`` shared by the pool's workers.
    """
    if not cpus:
        return
    with counter.get_lock():
        index = counter.value
        counter.value += 1
    pin_to_cpu(cpus[index % len(cpus)])


def runs_on_one_cpu(main: Callable[P, R]) -> Callable[P, R]:
    """A command's ``main`` that runs its local simulations on one CPU (and gives the others back when it returns)."""

    @functools.wraps(main)
    def pinned(*args: P.args, **kwargs: P.kwargs) -> R:
        with on_one_cpu():
            return main(*args, **kwargs)

    return pinned
