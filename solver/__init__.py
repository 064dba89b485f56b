"""Muster's rostering engine: a pure CP-SAT library (no Flask, no SQLAlchemy, no database).

``solve(problem, time_limit=...)`` returns the best roster found; ``check(problem, roster)``
validates and scores any roster independently of the solver.
"""

from solver.check import CheckReport, Violation, check
from solver.cpsat import solve
from solver.model import (
    Assignment,
    Demand,
    Person,
    Problem,
    Request,
    Rules,
    Shift,
    Solution,
    UnfilledPost,
)

__all__ = [
    "Assignment",
    "CheckReport",
    "Demand",
    "Person",
    "Problem",
    "Request",
    "Rules",
    "Shift",
    "Solution",
    "UnfilledPost",
    "Violation",
    "check",
    "solve",
]
