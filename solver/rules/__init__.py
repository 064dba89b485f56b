"""One module per rule. Each exposes ``post(ctx) -> list[Term]``: it adds its hard constraints
to the CP-SAT model and returns its weighted objective terms.

``RULES`` is the order they are posted in; the order does not change the model's meaning.
"""

from __future__ import annotations

from collections.abc import Callable

from solver.rules import (
    baseline,
    consecutive,
    continuity,
    cover,
    eligibility,
    fairness,
    lead,
    partners,
    preferences,
    requests,
    spacing,
    successions,
    totals,
    weekends,
    windows,
)
from solver.rules.base import Context, Term

# The hard rules on what one person works, each posted over that person's own literals only
# (``Context.shifts_of``, ``on_shift``, ``work``): they also hold a model of part of the roster.
PERSONAL: tuple[Callable[[Context], list[Term]], ...] = (
    spacing.post,
    successions.post,
    totals.post,
    windows.post,
    consecutive.post,
    weekends.post,
)

RULES: tuple[Callable[[Context], list[Term]], ...] = (
    eligibility.post,
    cover.post,
    lead.post,
    *PERSONAL,
    requests.post,
    fairness.post,
    preferences.post,
    partners.post,
    continuity.post,
    baseline.post,
)

__all__ = ["PERSONAL", "RULES", "Context", "Term"]
