"""An unappointed coordinator's scope checks ask whether the city has a tree once per request
(scope.has_tree keeps the answer on the request), not once per check."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from sqlalchemy import event

from scheduler.extensions import db
from scheduler.models import CITY, COORDINATOR, Organisation, User
from scheduler.services import scope


@pytest.fixture
def tree_queries(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []

    def statement(_conn: object, _cursor: object, sql: str, *_rest: object) -> None:
        if "FROM organisations" in sql and "LIMIT" in sql.upper():
            seen.append(sql)

    event.listen(db.engine, "before_cursor_execute", statement)
    yield seen
    event.remove(db.engine, "before_cursor_execute", statement)


def test_has_tree_is_asked_once_per_request(
    app: Flask, make_user: Callable[..., User], tree_queries: list[str]
) -> None:
    db.session.add(Organisation(kind=CITY, name="市总工会"))
    db.session.commit()
    loose = make_user(COORDINATOR, name="未任命协调员")
    with app.test_request_context("/"):
        for _ in range(5):
            assert scope.visible_org_ids(loose) == frozenset()
            assert scope.unappointed(loose)
    assert len(tree_queries) == 1
    # Outside a request (the CLI, jobs) it is asked each time: nothing to keep it on.
    tree_queries.clear()
    scope.has_tree()
    scope.has_tree()
    assert len(tree_queries) == 2
