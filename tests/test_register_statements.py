"""A registration is the call-up night's busiest write: besides the password hash, its POST
costs a fixed, small number of SQL statements (no lookup of the datalist's work units it never
shows, the phone looked up once, the city union's node read in one statement)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from scheduler.extensions import db

FORM = {
    "name": "王小明",
    "phone": "13912345678",
    "password": "long-enough-9",
    "confirm": "long-enough-9",
    "work_unit": "南通供电公司",
    "district": "0",
    "weekly_cap": "5",
    "accepts_nights": "y",
    "consent": "y",
}


def test_registration_post_costs_a_fixed_number_of_statements(
    app: Flask, client: FlaskClient
) -> None:
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.post("/register", data=FORM)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert len(seen) == STATEMENTS, "\n".join(seen)


STATEMENTS = (
    1  # the district choices (the form validates the district against them)
    + 1  # is the phone taken
    + 1  # the work unit of that name
    + 1  # the city union's node (the volunteer's node in the union tree)
    + 3  # INSERT the user, the new work unit, the volunteer
    # and not the user again after the commit: the login reads the rows just written
)
