"""ReusedThreadsExecutor keeps ThreadPoolExecutor's contract, ParkedThread a short-lived Thread's, on parked threads."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator

import pytest

from local_aws.invocation_threads import ParkedThread, ReusedThreadsExecutor, ThreadingOnPark, ThreadPark

_VAR: contextvars.ContextVar[str] = contextvars.ContextVar("var")
WAIT = 10  # seconds: a bound for a broken executor, never reached when it works


@pytest.fixture
def park() -> Iterator[ThreadPark]:
    park = ThreadPark()
    yield park
    park.close()


def test_tasks_return_their_results_and_raise_their_errors_through_futures(park: ThreadPark) -> None:
    with ReusedThreadsExecutor(park, 2, "pool") as executor:
        ok = executor.submit(lambda a, b: a + b, 1, b=2)
        failed = executor.submit(lambda: 1 / 0)

        assert ok.result(timeout=WAIT) == 3
        with pytest.raises(ZeroDivisionError):
            failed.result(timeout=WAIT)


def test_no_more_than_max_workers_tasks_run_at_once_and_the_rest_wait_in_order(park: ThreadPark) -> None:
    release = threading.Event()
    started: list[int] = []
    changed = threading.Condition()

    def task(index: int) -> None:
        with changed:
            started.append(index)
            changed.notify_all()
        release.wait(WAIT)

    executor = ReusedThreadsExecutor(park, 2, "pool")
    futures = [executor.submit(task, i) for i in range(4)]
    with changed:
        changed.wait_for(lambda: len(started) >= 2, timeout=WAIT)
        assert sorted(started) == [0, 1], "more than max_workers tasks started before any finished"
    assert not any(f.done() for f in futures[:2])
    release.set()
    executor.shutdown(wait=True)

    assert all(f.done() for f in futures), "shutdown(wait=True) returned before every task ended"
    assert started[2:] == [2, 3], "waiting tasks did not run in submission order"


def test_threads_are_reused_named_like_the_executors_and_start_each_task_in_an_empty_context(
    park: ThreadPark,
) -> None:
    seen: list[tuple[threading.Thread, str, str | None]] = []

    def task() -> None:
        seen.append((threading.current_thread(), threading.current_thread().name, _VAR.get(None)))
        _VAR.set("leaked")

    for _ in range(3):
        with ReusedThreadsExecutor(park, 2, "dex-handler") as executor:
            executor.submit(task).result(timeout=WAIT)

    threads = {thread for thread, _, _ in seen}
    assert len(threads) == 1, "each executor started a new thread instead of borrowing the parked one"
    assert [name for _, name, _ in seen] == ["dex-handler_0"] * 3
    assert [value for _, _, value in seen] == [None] * 3, "a context variable leaked from one task to the next"


def test_a_shut_down_executor_refuses_work_and_cancels_waiting_tasks_when_asked(park: ThreadPark) -> None:
    release = threading.Event()
    executor = ReusedThreadsExecutor(park, 1, "pool")
    running = executor.submit(release.wait, WAIT)
    waiting = executor.submit(lambda: "never")

    executor.shutdown(wait=False, cancel_futures=True)
    release.set()

    assert waiting.cancelled()
    assert running.result(timeout=WAIT) is True
    with pytest.raises(RuntimeError, match="after shutdown"):
        executor.submit(lambda: None)


def test_a_closed_park_lets_its_threads_end(park: ThreadPark) -> None:
    with ReusedThreadsExecutor(park, 1, "pool") as executor:
        thread = executor.submit(threading.current_thread).result(timeout=WAIT)

    park.close()
    thread.join(WAIT)

    assert not thread.is_alive(), "a parked thread outlived its park"


def test_a_parked_thread_runs_its_target_once_and_is_alive_until_it_returns(park: ThreadPark) -> None:
    release = threading.Event()
    calls: list[tuple[int, str]] = []
    on_park = ThreadingOnPark(park)

    thread = on_park.Thread(
        target=lambda n, word: (calls.append((n, word)), release.wait(WAIT)),
        args=(1,),
        kwargs={"word": "x"},
        name="plugin-change",
        daemon=True,
    )
    assert isinstance(thread, ParkedThread)
    assert not thread.is_alive(), "alive before start"
    thread.start()
    assert thread.is_alive(), "not alive while its target runs"
    with pytest.raises(RuntimeError, match="only be started once"):
        thread.start()
    release.set()
    thread.join(WAIT)

    assert not thread.is_alive(), "still alive after its target returned"
    assert calls == [(1, "x")]


def test_inside_a_parked_thread_current_thread_is_that_thread_with_its_name_and_an_empty_context(
    park: ThreadPark,
) -> None:
    on_park = ThreadingOnPark(park)
    seen: list[tuple[object, str, str | None]] = []

    def target() -> None:
        seen.append((on_park.current_thread(), threading.current_thread().name, _VAR.get(None)))
        _VAR.set("leaked")

    threads = [on_park.Thread(target=target, name=f"worker-{i}", daemon=True) for i in range(2)]
    for thread in threads:
        thread.start()
        thread.join(WAIT)

    assert [who for who, _, _ in seen] == threads, "current_thread() inside the target is not the ParkedThread"
    assert [name for _, name, _ in seen] == ["worker-0", "worker-1"]
    assert [value for _, _, value in seen] == [None, None], (
        "a context variable leaked from one thread's run to the next"
    )
    assert on_park.current_thread() is threading.current_thread(), "outside a parked run it is the real thread"


def test_parked_threads_borrow_the_park_and_leave_every_other_threading_name_alone(park: ThreadPark) -> None:
    on_park = ThreadingOnPark(park)
    real_threads: set[threading.Thread] = set()
    for _ in range(3):
        thread = on_park.Thread(target=lambda: real_threads.add(threading.current_thread()))
        thread.start()
        thread.join(WAIT)

    assert len(real_threads) == 1, "each ParkedThread started a new real thread instead of borrowing a parked one"
    assert on_park.Lock is threading.Lock
    assert on_park.Event is threading.Event
    assert on_park.local is threading.local


def test_a_parked_thread_refuses_what_a_thread_refuses(park: ThreadPark) -> None:
    on_park = ThreadingOnPark(park)
    with pytest.raises(RuntimeError, match="before it is started"):
        on_park.Thread(target=lambda: None).join()
    with pytest.raises(ValueError, match="group"):
        on_park.Thread(object(), target=lambda: None)  # type: ignore[arg-type]
    errors: list[BaseException] = []

    def joins_itself() -> None:
        try:
            on_park.current_thread().join()
        except RuntimeError as error:
            errors.append(error)

    thread = on_park.Thread(target=joins_itself)
    thread.start()
    thread.join(WAIT)
    assert [str(e) for e in errors] == ["cannot join current thread"]
