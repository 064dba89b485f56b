"""The tests' shared world: helpers are imported from tests/fixtures/, never from a conftest
(pytest imports conftest files itself; importing one by name can load it twice and ties
every test to the fixture file), and the published-roster world is one typed factory."""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import Assignment, Site, User
from tests.fixtures.app import TEST_CLOCK_START
from tests.fixtures.rosters import publish_roster

TESTS = Path(__file__).resolve().parent


def conftest_imports(source: str) -> list[str]:
    """Every import in `source` (at any depth) that names a conftest module."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            names = [f"{module}.{alias.name}" for alias in node.names] + [module]
        else:
            continue
        if any(name.rsplit(".", 1)[-1] == "conftest" for name in names):
            found.append(ast.unparse(node))
    return found


def test_no_test_module_imports_a_conftest() -> None:
    offenders = {
        str(path.relative_to(TESTS)): imports
        for path in sorted(TESTS.rglob("*.py"))
        if (imports := conftest_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, "import these from tests/fixtures/ instead"


@pytest.mark.parametrize(
    "source",
    [
        "from tests.conftest import login",
        "from tests.e2e.conftest import LiveServer",
        "from .conftest import PASSWORD",
        "from . import conftest",
        "from tests import conftest as c",
        "import tests.conftest",
        "import conftest",
        pytest.param("def f():\n    from tests.conftest import cancel_shift\n", id="in a function"),
    ],
)
def test_the_guard_sees_every_way_to_import_a_conftest(source: str) -> None:
    assert conftest_imports(source) != []
    assert conftest_imports(source.replace("conftest", "rosters")) == []


def test_publish_roster_is_one_typed_world(
    app: Flask,
    make_site: Callable[..., Site],
    make_volunteer: Callable[..., User],
    coordinator: User,
) -> None:
    north, south = make_site(name="北卡口"), make_site(name="南卡口")
    lead, alice = make_volunteer(name="点位长"), make_volunteer(name="爱丽")
    day = date(2026, 12, 8)
    world = publish_roster(
        {"north": north, "south": south},
        {"lead": lead, "alice": alice, "coordinator": coordinator},
        [(north, day, "day", "site_lead", lead), (north, day, "day", "code_checker", alice)],
        draft=[(south, day, "night", "code_checker", alice)],
    )
    # The period runs over the sites in the order given; version 1 is published at the
    # test clock's start and holds the rows; the draft holds its own.
    assert (world.period.start_date, world.period.end_date) == (
        date(2026, 12, 7),
        date(2026, 12, 20),
    )
    assert world.period.sites == [north, south]
    assert world.site is north
    assert (world.published.status, world.published.version) == ("published", 1)
    assert world.published.published_at == TEST_CLOCK_START
    assert world.draft is not None
    assert (world.draft.status, world.draft.version) == ("draft", None)

    def rows(roster_id: int) -> list[tuple[int, int, str, int]]:
        return [
            (a.site_id, a.volunteer_id, a.shift, a.slot)
            for a in db.session.scalars(
                select(Assignment)
                .where(Assignment.roster_id == roster_id)
                .order_by(Assignment.slot)
            )
        ]

    assert rows(world.published.id) == [
        (north.id, world.vid("lead"), "day", 1),
        (north.id, world.vid("alice"), "day", 2),
    ]
    assert rows(world.draft.id) == [(south.id, world.vid("alice"), "night", 1)]
    # People are read by name; the world is frozen and so are its maps.
    assert world["coordinator"] is coordinator
    assert world.sites["south"] is south
    with pytest.raises(dataclasses.FrozenInstanceError):
        world.draft = None  # type: ignore[misc]
    with pytest.raises(TypeError):
        world.people["bob"] = alice  # type: ignore[index]
    with pytest.raises(AssertionError, match="coordinator has no volunteer profile"):
        world.vid("coordinator")
    # Without a draft, there is none; the dates and the publication time are the caller's.
    later = publish_roster(
        {"north": north},
        {"alice": alice},
        [(north, date(2027, 1, 5), "day", "code_checker", alice)],
        start=date(2027, 1, 4),
        end=date(2027, 1, 17),
        period_name="一月",
        published_at=datetime(2026, 12, 30, tzinfo=UTC),
    )
    assert later.draft is None
    assert (later.period.name, later.period.start_date) == ("一月", date(2027, 1, 4))
    assert later.published.published_at == datetime(2026, 12, 30, tzinfo=UTC)
