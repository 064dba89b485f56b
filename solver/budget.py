"""The time budget of one search: seconds on the wall clock, or deterministic time.

On the wall clock every phase asks :meth:`Budget.remaining` (seconds left of the limit).

With ``deterministic=True`` a search must return the same roster on any machine and under any
load, so nothing it decides may depend on the clock. The budget is then the CP-SAT
deterministic time of every solve (:meth:`Budget.charge`) *plus* a fixed charge for the work
done outside CP-SAT, counted from the size of what was done (:func:`work`): building a model,
building a window's problem, checking a roster, a step of the constructive phases. Without
that charge a search whose sub-solves are small spends most of its wall time in Python, free,
and a "60 s" deterministic run took minutes. The charges are calibrated so that one unit is
about one second of one core of a 2024 laptop; they need not be exact, only proportional.

The wall clock still bounds a deterministic search: past ``WALL_BACKSTOP`` times the limit
:meth:`Budget.remaining` is 0 whatever the deterministic time says (a machine far slower or
busier than the calibration), and the search returns its best roster so far. Only then does
the result depend on the machine; a warning says so.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

__all__ = ["CP_SAT_UNITS_PER_SECOND", "WALL_BACKSTOP", "Budget", "cp_sat_seconds", "work"]

log = logging.getLogger(__name__)

# A deterministic search stops on the wall clock at this multiple of its limit.
WALL_BACKSTOP = 1.35
# Deterministic seconds charged per unit of work outside CP-SAT (see work()): per model
# variable or constraint built (measured: 2.8 s of CPU for the 183,000 of a 100-staff half
# year's rolling construction), per assignment or shift walked over by a Python pass.
PER_MODEL_ITEM = 1.5e-5
PER_ITEM = 1.5e-6
# CP-SAT deterministic time per second of a deterministic budget. CP-SAT's unit is far smaller
# than a second on the single-worker window models of solver.windowed and solver.construct:
# measured on a 9,000-variable window of a generated 100-staff half year, 0.3 units took
# 1.6-2.9 s of CPU, and the rolling construction's windows about 0.07 units per CPU second.
# A budget second is therefore this many CP-SAT units (a CP-SAT call is limited to
# seconds * CP_SAT_UNITS_PER_SECOND and charged units / CP_SAT_UNITS_PER_SECOND).
CP_SAT_UNITS_PER_SECOND = 0.08


def cp_sat_seconds(units: float) -> float:
    """Budget seconds charged for ``units`` of CP-SAT deterministic time."""
    return units / CP_SAT_UNITS_PER_SECOND


def work(items: int = 0, model_items: int = 0) -> float:
    """Deterministic seconds charged for a pass over ``items`` (assignments, shifts, choices)
    and for building a CP-SAT model of ``model_items`` variables plus constraints."""
    return items * PER_ITEM + model_items * PER_MODEL_ITEM


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
