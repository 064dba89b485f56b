"""Muster's rostering engine: a pure CP-SAT library (no Flask, no SQLAlchemy, no database).

``solve(problem, time_limit=...)`` returns the best roster found (large problems go to
``solve_large``); ``check(problem, roster)`` validates and scores any roster independently of
the solver; ``explain(problem, roster)`` gives the :class:`Reason` for each unfilled post;
``solve_repair(problem, holes, time_limit=...)`` fills holes in a told roster changing nothing
else the holes do not force.
"""

from solver.check import CheckReport, Violation, check
from solver.decompose import solve_large
from solver.dispatch import solve
from solver.explain import Reason, explain
from solver.model import (
    Assignment,
    Availability,
    Demand,
    Person,
    Problem,
    Request,
    Rules,
    Shift,
    SlotTable,
    Solution,
    UnfilledPost,
)
from solver.repair import solve_repair

__all__ = [
    "Assignment",
    "Availability",
    "CheckReport",
    "Demand",
    "Person",
    "Problem",
    "Reason",
    "Request",
    "Rules",
    "Shift",
    "SlotTable",
    "Solution",
    "UnfilledPost",
    "Violation",
    "check",
    "explain",
    "solve",
    "solve_large",
    "solve_repair",
]
