"""Progress and stop hooks shared by every search: the callback types, a latch for
``should_stop``, a heartbeat that repeats the last report, and a CP-SAT callback that stops on
request."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ortools.sat.python import cp_model

__all__ = [
    "HEARTBEAT_SECONDS",
    "Heartbeat",
    "ProgressCallback",
    "StopCallback",
    "StopOnRequest",
    "Stopper",
]

log = logging.getLogger(__name__)
# on_progress(elapsed_s, objective, bound, filled_posts)
ProgressCallback = Callable[[float, float, float, int], None]
StopCallback = Callable[[], bool]
# on_progress is repeated with the current best at least this often (seconds) while the search
# runs without improving.
HEARTBEAT_SECONDS = 2.0


class Stopper:
    """Latches ``should_stop``: once it has returned True it is not asked again."""

    def __init__(self, should_stop: StopCallback | None) -> None:
        self.should_stop = should_stop
        self.stopped = False

    def __call__(self) -> bool:
        if not self.stopped and self.should_stop is not None and self.should_stop():
            self.stopped = True
        return self.stopped


class Heartbeat:
    """Wraps an ``on_progress`` hook and, while used as a context manager, repeats the last
    report (same objective, bound and filled posts, current elapsed time) whenever nothing was
    reported for ``HEARTBEAT_SECONDS``, from a background thread."""

    def __init__(self, on_progress: ProgressCallback, elapsed: Callable[[], float]) -> None:
        self.on_progress = on_progress
        self.elapsed = elapsed
        self.lock = threading.Lock()
        self.last: tuple[float, float, int] | None = None
        self.at = 0.0
        self.done = threading.Event()
        self.thread: threading.Thread | None = None

    def __call__(self, elapsed: float, objective: float, bound: float, filled: int) -> None:
        with self.lock:
            self.last = (objective, bound, filled)
            self.at = time.monotonic()
            self.on_progress(elapsed, objective, bound, filled)

    def __enter__(self) -> Heartbeat:
        self.done.clear()
        self.thread = threading.Thread(target=self._beat, name="solver-heartbeat", daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        if self.thread is not None:
            self.thread.join()

    def _beat(self) -> None:
        while not self.done.wait(min(0.5, HEARTBEAT_SECONDS / 4)):
            with self.lock:
                now = time.monotonic()
                if self.last is None or now - self.at < HEARTBEAT_SECONDS:
                    continue
                self.at = now
                try:
                    self.on_progress(self.elapsed(), *self.last)
                except Exception:  # a heartbeat must not kill its thread silently mid-run
                    log.exception("on_progress failed in the heartbeat")


class StopOnRequest(cp_model.CpSolverSolutionCallback):
    """A solution callback that only stops the search once ``stopper()`` is True."""

    def __init__(self, stopper: Stopper) -> None:
        super().__init__()
        self.stopper = stopper

    def on_solution_callback(self) -> None:
        if self.stopper():
            self.stop_search()
