"""The time budget of one search: seconds on the wall clock, or deterministic time.

On the wall clock every phase asks :meth:`Budget.remaining` (seconds left of the limit).

With ``deterministic=True`` a search must return the same roster on any machine and under any
load, so nothing it decides may depend on the clock. The budget is then a charge for every
CP-SAT call (:func:`cp_sat_seconds`: its deterministic time, plus the loading and presolve
that CP-SAT's deterministic clock does not count, from the model's size) *plus* a charge for
the work done outside CP-SAT, counted from the size of what was done (:func:`work`): building
a model, building a window's problem, checking a roster, a step of the constructive phases.

Calibration (2 cores, 2026-12): every call and phase of deterministic runs on Curtois
Instance1-8 and generated 50-150 staff, 12-52 week instances (flat and windowed) was measured
with ``time.thread_time`` (``time.process_time`` for a multi-worker call) against CP-SAT's
``deterministic_time`` and the counts charged below; the constants are those measurements in
CPU seconds (least squares over 1,363 calls, per phase kind). A budget second is then
``WALL_SHARE`` of a measured second, so that a quiet run ends at about that share of its
limit and the estimates' spread (about +-25 % per phase kind) stays inside the limit.

The wall clock still bounds a deterministic search: past ``WALL_BACKSTOP`` times the limit
:meth:`Budget.remaining` is 0 whatever the deterministic time says (a machine far slower or
busier than the calibration), and the search returns its best roster so far. Only then does
the result depend on the machine; a warning says so.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

__all__ = [
    "CP_SAT_UNITS_PER_SECOND",
    "WALL_BACKSTOP",
    "WALL_SHARE",
    "Budget",
    "cp_sat_seconds",
    "model_items",
    "work",
]

log = logging.getLogger(__name__)

# A deterministic search stops on the wall clock at this multiple of its limit.
WALL_BACKSTOP = 1.35
# A budget second is this share of a measured second (see the module doc): a quiet
# deterministic run of limit T takes about WALL_SHARE * T of wall time. The estimates below
# are within about 15 % of the measured CPU per phase kind, so a run ends between about 0.6
# and 0.9 of its limit.
WALL_SHARE = 0.75
# CP-SAT deterministic time per CPU second of a single-worker call, fitted with the per-call
# and per-item costs below (least squares over the neighbourhoods of Instance3, Instance8 and
# generated 50-100 staff instances, flat and windowed: 0.63): one rate predicts each run's
# neighbourhood CPU within 0.93-1.15 of the measured.
# With interleaved search a call on w workers runs each about as long as its limit: its
# deterministic time is about w times the limit (Instance8's full model limited to 2.0 units:
# 2.0 units and 2.1 CPU s on 1 worker, 4.6 and 4.2 on 2, 8.6 and 8.8 on 4) and its wall time
# that of one worker, so it is charged its units over w.
MEASURED_UNITS_PER_CPU_SECOND = 0.6
# CP-SAT units per budget second: a call limited to ``seconds`` gets
# ``seconds * CP_SAT_UNITS_PER_SECOND`` and is charged ``units / CP_SAT_UNITS_PER_SECOND``.
CP_SAT_UNITS_PER_SECOND = MEASURED_UNITS_PER_CPU_SECOND * WALL_SHARE
# CPU seconds of a CP-SAT call that its deterministic time leaves out: a fixed cost per call
# (parameters, solver set-up; 8.6 ms fitted), and per model variable plus constraint, loading
# and presolving the model (CP-SAT's presolve rules count no deterministic time). Mostly fixed
# models (a neighbourhood of the flat search, with its copy of the whole model; a window
# neighbourhood; a completion) cost 1.6 us an item (fitted with the rate above); a model of
# free variables under the full presolve (the window-by-window construction's windows)
# 14-17 us an item (13 us at the former, shorter limits).
CP_SAT_CALL_SECONDS = 0.01
CP_SAT_SECONDS_PER_ITEM = 1.5e-6
CP_SAT_SECONDS_PER_FREE_ITEM = 1.6e-5
# CPU seconds per unit of work outside CP-SAT (see work()): per model variable or constraint
# built (measured 4.8-7.7 us over every build of the runs above), per assignment or shift
# walked over by a Python pass (the callers' multipliers: the person-by-person roster 5.7e-6
# to 3.7e-5 s per candidate choice, charged 7 items; a check 8e-6 s per assignment).
PER_MODEL_ITEM = 7e-6
PER_ITEM = 1.5e-6


def model_items(model: Any) -> int:
    """Variables plus constraints of a CP-SAT model (a ``cp_model.CpModel``): what
    :func:`cp_sat_seconds` and :func:`work` count a model's size in."""
    proto = model.proto
    return len(proto.variables) + len(proto.constraints)


def cp_sat_seconds(units: float, items: int = 0, free_items: int = 0, *, workers: int = 1) -> float:
    """Budget seconds charged for a CP-SAT call that took ``units`` of deterministic time on
    a model of ``items`` variables plus constraints (mostly fixed, or presolved lightly) or of
    ``free_items`` (mostly free, under CP-SAT's full presolve), see :func:`model_items`, with
    ``workers`` workers in interleaved search."""
    overhead = (
        CP_SAT_CALL_SECONDS
        + items * CP_SAT_SECONDS_PER_ITEM
        + free_items * CP_SAT_SECONDS_PER_FREE_ITEM
    )
    return units / (CP_SAT_UNITS_PER_SECOND * max(1, workers)) + overhead / WALL_SHARE


def work(items: int = 0, model_items: int = 0) -> float:
    """Deterministic seconds charged for a pass over ``items`` (assignments, shifts, choices)
    and for building a CP-SAT model of ``model_items`` variables plus constraints."""
    return (items * PER_ITEM + model_items * PER_MODEL_ITEM) / WALL_SHARE


class Budget:
    """``time_limit`` seconds of wall clock, or of deterministic time (see the module doc).

    ``clock`` is the wall clock (a test passes a fake one). Thread-safe enough for its use:
    charges come from the searching thread only.
    """

    def __init__(
        self,
        time_limit: float,
        *,
        deterministic: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.time_limit = time_limit
        self.deterministic = deterministic
        self.clock = clock
        self.started = clock()
        self.spent = 0.0  # deterministic time
        self.warned = False

    def elapsed(self) -> float:
        """Wall seconds since the search started."""
        return self.clock() - self.started

    def wall_left(self) -> float:
        """Wall seconds left before the backstop of a deterministic run (any mode)."""
        return WALL_BACKSTOP * self.time_limit - self.elapsed()

    def charge(self, amount: float) -> None:
        """Count ``amount`` deterministic seconds as spent (ignored on the wall clock)."""
        self.spent += amount

    def remaining(self) -> float:
        """Seconds (or deterministic seconds) left of the limit; in deterministic mode none
        once the wall clock passes the backstop (until then the clock is not read into it)."""
        if not self.deterministic:
            return self.time_limit - self.elapsed()
        left = self.time_limit - self.spent
        if self.elapsed() < WALL_BACKSTOP * self.time_limit:
            return left
        if not self.warned:
            self.warned = True
            log.warning(
                "deterministic search stopped by the wall clock after %.1fs "
                "(%.1f of %.1f deterministic seconds spent): the result depends on load",
                self.elapsed(),
                self.spent,
                self.time_limit,
            )
        return min(left, 0.0)
