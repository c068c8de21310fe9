"""A ThreadPoolExecutor stand-in that borrows parked threads instead of starting (and joining) new ones.

The durable SDK runs every invocation on a fresh ``ThreadPoolExecutor(max_workers=2)``: the handler on one thread,
the checkpoint batcher on the other. Locally, with thousands of short invocations, starting and joining those two
threads is a measurable part of each one. ``ReusedThreadsExecutor`` keeps the executor's contract (at most
``max_workers`` tasks at once, FIFO beyond that, futures, ``shutdown(wait=True)`` returns once every task has ended)
and what a task can observe of a fresh worker thread: each task runs in an empty ``contextvars.Context`` (a new
thread's context is empty too) under the thread name the executor would have given it.

The SDK's plugin host and the telemetry exporter start short-lived threads of their own in every invocation (the
plugin-change dispatcher, the export worker): ``ThreadingOnPark`` puts those on the park too, as ``ParkedThread``s.

Only thread-local storage outlives a task. Nothing on the invocation path keeps any across one: the SDK's own
``threading.local`` is per invocation, and the telemetry plugin's per-thread hook frames are back at depth 0, their
lists emptied, when the outermost hook returns.
"""

from __future__ import annotations

import contextvars
import queue
import threading
import types
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

_Task = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class _ParkedThread:
    """A daemon thread that runs the jobs it is handed, one at a time, and parks in between."""

    def __init__(self, park: ThreadPark) -> None:
        self._park = park
        self._inbox: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="parked", daemon=True)
        self._thread.start()

    def hand(self, job: Callable[[], None] | None) -> None:
        self._inbox.put(job)

    def _serve(self) -> None:
        while (job := self._inbox.get()) is not None:
            job()
            threading.current_thread().name = "parked"
            if not self._park.take_back(self):
                return


class ThreadPark:
    """Idle daemon threads, handed out to run a job and taken back when it returns, until ``close``."""

    def __init__(self) -> None:
        self._idle: list[_ParkedThread] = []
        self._lock = threading.Lock()
        self._closed = False

    def run(self, job: Callable[[], None]) -> None:
        with self._lock:
            parked = self._idle.pop() if self._idle else None
        (parked or _ParkedThread(self)).hand(job)

    def take_back(self, parked: _ParkedThread) -> bool:
        with self._lock:
            if self._closed:
                return False
            self._idle.append(parked)
            return True

    def close(self) -> None:
        """Let every idle thread end; a busy one ends when its job returns."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for parked in idle:
            parked.hand(None)


class ReusedThreadsExecutor(Executor):
    """``ThreadPoolExecutor(max_workers, thread_name_prefix)`` on a ``ThreadPark``'s threads."""

    def __init__(self, park: ThreadPark, max_workers: int, thread_name_prefix: str) -> None:
        if max_workers <= 0:
            raise ValueError("max_workers must be greater than 0")
        self._park = park
        self._max_workers = max_workers
        self._prefix = thread_name_prefix
        self._lock = threading.Lock()
        self._all_returned = threading.Condition(self._lock)
        self._waiting: deque[_Task] = deque()
        self._workers = 0
        self._names = 0
        self._shutdown = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            task: _Task = (future, fn, args, kwargs)
            if self._workers >= self._max_workers:
                self._waiting.append(task)
                return future
            self._workers += 1
            name = f"{self._prefix}_{self._names}"
            self._names += 1
        self._park.run(lambda: self._work(task, name))
        return future

    def _work(self, task: _Task | None, name: str) -> None:
        threading.current_thread().name = name
        while task is not None:
            future, fn, args, kwargs = task
            if future.set_running_or_notify_cancel():
                try:
                    result = contextvars.Context().run(fn, *args, **kwargs)
                except BaseException as error:  # noqa: BLE001 - the future carries it, as ThreadPoolExecutor's does
                    future.set_exception(error)
                else:
                    future.set_result(result)
            del future, fn, args, kwargs
            with self._lock:
                task = self._waiting.popleft() if self._waiting else None
                if task is None:
                    self._workers -= 1
                    self._all_returned.notify_all()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._shutdown = True
            if cancel_futures:
                while self._waiting:
                    self._waiting.popleft()[0].cancel()
            if wait:
                self._all_returned.wait_for(lambda: self._workers == 0)


class _RunningOnPark(threading.local):
    """Which ``ParkedThread`` the calling real thread is running right now (None: none)."""

    def __init__(self) -> None:
        self.thread: ParkedThread | None = None


_running = _RunningOnPark()


class ParkedThread:
    """``threading.Thread(target=..., name=..., daemon=...)`` whose run borrows a ``ThreadPark`` thread.

    What a library's code does with a thread it starts for a short job: ``start`` (once), ``is_alive`` (from
    ``start`` until the target returns), ``join`` and ``name``; and ``threading.current_thread()`` answers this
    object inside the target (through ``ThreadingOnPark``), as it answers a real thread inside its own run. The
    target runs in an empty ``contextvars.Context`` under the thread's name, as on a new thread. Anything else a
    ``Thread`` has is not offered, so a library that starts relying on it fails loudly instead of half served.
    """

    def __init__(
        self,
        park: ThreadPark,
        group: None = None,
        *,
        target: Callable[..., Any] | None = None,
        name: str | None = None,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
        daemon: bool | None = None,
    ) -> None:
        if group is not None:
            raise ValueError("group argument must be None for now")
        self._park = park
        self._target = target
        self._args = args
        self._kwargs = kwargs or {}
        self.name = name or "parked-thread"
        self.daemon = bool(daemon)
        self._started = False
        self._ended = threading.Event()

    def start(self) -> None:
        if self._started:
            raise RuntimeError("threads can only be started once")
        self._started = True
        self._park.run(self._run)

    def _run(self) -> None:
        threading.current_thread().name = self.name
        _running.thread = self
        try:
            if self._target is not None:
                contextvars.Context().run(self._target, *self._args, **self._kwargs)
        finally:
            _running.thread = None
            del self._target, self._args, self._kwargs
            self._ended.set()

    def is_alive(self) -> bool:
        return self._started and not self._ended.is_set()

    def join(self, timeout: float | None = None) -> None:
        if not self._started:
            raise RuntimeError("cannot join thread before it is started")
        if _running.thread is self:
            raise RuntimeError("cannot join current thread")
        self._ended.wait(timeout)


class ThreadingOnPark(types.ModuleType):
    """The ``threading`` module, but ``Thread`` starts a ``ParkedThread`` and ``current_thread()`` knows it.

    Put in place of a library module's ``threading`` global, it moves that module's short-lived threads onto the
    park; every other name (locks, events, ``local``) is the real module's.
    """

    def __init__(self, park: ThreadPark) -> None:
        super().__init__("threading")
        self._park = park

    def __getattr__(self, name: str) -> Any:
        return getattr(threading, name)

    def Thread(self, *args: Any, **kwargs: Any) -> ParkedThread:  # noqa: N802 - threading's own name
        return ParkedThread(self._park, *args, **kwargs)

    def current_thread(self) -> threading.Thread | ParkedThread:
        return _running.thread or threading.current_thread()
