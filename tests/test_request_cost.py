"""What the call-up night's busiest requests cost the database: registering is one
transaction (the new account is logged in from the rows just written, not read back), and
/me's availability summary costs the same statements however many periods are open."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import event

from scheduler.extensions import db
from scheduler.models import PlanningPeriod, User
from tests.fixtures.auth import PASSWORD, login


@contextmanager
def database_log() -> Iterator[list[str]]:
    """Statements, BEGINs and COMMITs as the engine sends them."""
    seen: list[str] = []

    def statement(_conn: object, _cursor: object, text: str, *_args: object) -> None:
        seen.append(text.split()[0].upper())

    def begin(_conn: object) -> None:
        seen.append("BEGIN")

    def commit(_conn: object) -> None:
        seen.append("COMMIT")

    listeners = [("before_cursor_execute", statement), ("begin", begin), ("commit", commit)]
    for name, listener in listeners:
        event.listen(db.engine, name, listener)
    try:
        yield seen
    finally:
        for name, listener in listeners:
            event.remove(db.engine, name, listener)


def registration(phone: str) -> dict[str, str]:
    return {
        "name": "新志愿者",
        "phone": phone,
        "password": PASSWORD,
        "work_unit": "南通供电公司",
        "district": "0",
        "accepts_nights": "y",
        "consent": "y",
    }


def test_registering_is_one_transaction_and_the_account_is_logged_in(
    any_db_app: Flask,
) -> None:
    client = any_db_app.test_client()
    client.post("/register", data=registration("13900139001"))  # warm the caches
    client = any_db_app.test_client()
    with database_log() as seen:
        response = client.post("/register", data=registration("13900139002"))
    assert response.status_code == 302
    assert seen.count("BEGIN") == 1
    assert seen[-1] == "COMMIT"  # nothing read back after it
    # districts (the form's choices), the number, the work unit, the city union, 2 INSERTs
    assert len([s for s in seen if s not in ("BEGIN", "COMMIT")]) == 6
    page = client.get("/me")
    assert page.status_code == 200
    assert "新志愿者" in page.get_data(as_text=True)
    user = db.session.scalars(db.select(User).where(User.phone == "+8613900139002")).one()
    assert user.active
    assert user.volunteer is not None
    assert user.check_password(PASSWORD)


def summary_statements(flask_app: Flask, user: User) -> tuple[int, str]:
    client = flask_app.test_client()
    login(client, user)
    client.get("/me")
    with database_log() as seen:
        page = client.get("/me")
    assert page.status_code == 200
    return len([s for s in seen if s not in ("BEGIN", "COMMIT")]), page.get_data(as_text=True)


def test_me_summary_statements_do_not_grow_with_open_periods(
    any_db_app: Flask,
    make_volunteer: Callable[..., User],
    make_period: Callable[..., PlanningPeriod],
) -> None:
    volunteer = make_volunteer(name="汇总")
    make_period(name="第一期")
    one, page = summary_statements(any_db_app, volunteer)
    assert "第一期" in page
    make_period(name="第二期")
    make_period(name="第三期")
    three, page = summary_statements(any_db_app, volunteer)
    assert "第二期" in page
    assert "第三期" in page
    assert three == one
