"""The tap's query is compiled once and run as it is (issue 9, call-up night throughput): no
post-compile pass on every run (aggregate_strings renders a separator given as a value into
the SQL at each execution) and its own constants written as SQL text rather than sent as bound
values. What stays bound are the tap's values and the constants of the period's spans query it
embeds (services.availability._start_hours, shared with the grid, which builds it per call)."""

from __future__ import annotations

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from scheduler.services.availability import _TAP_STATE

TAP_VALUES = ["volunteer", "day", "start_hour", "period", "monday", "sunday"] + [
    f"day{i}" for i in range(7)
]


@pytest.mark.parametrize(
    "dialect", [postgresql.psycopg.dialect(), sqlite.dialect()], ids=["postgresql", "sqlite"]
)
def test_the_tap_query_needs_no_work_per_run(dialect: Dialect) -> None:
    compiled = _TAP_STATE.compile(dialect=dialect)
    assert "POSTCOMPILE" not in str(compiled)
    assert not compiled.literal_execute_params
    assert not compiled.post_compile_params
    bound = set(compiled.construct_params(dict.fromkeys(TAP_VALUES, 1)))
    assert set(TAP_VALUES) <= bound
    # The spans query's 3 shift names, their 3 offsets, "% 24" and "headcount > 0" (and
    # SQLite's OFFSET); the tap's own 25 constants were bound values too before.
    assert len(bound - set(TAP_VALUES)) <= 12
