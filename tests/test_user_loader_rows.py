"""The user loader reads the account and its volunteer profile as one Core row and gives the
session instances as if the ORM had loaded them (scheduler._user_with_volunteer): the same
values, the profile loaded (None for staff without one), lazy relationships working, changes
saved, and the instance the session holds already returned as it is."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy import inspect, select, update
from sqlalchemy.orm import joinedload

from scheduler import _user_with_volunteer
from scheduler.extensions import db
from scheduler.models import COORDINATOR, User, Volunteer
from tests.fixtures.statements import statements


def _orm_user(user_id: int) -> User:
    db.session.expunge_all()
    user = db.session.scalars(
        select(User).where(User.id == user_id).options(joinedload(User.volunteer))
    ).one()
    return user


def _columns(obj: object) -> dict[str, object]:
    return {prop.key: getattr(obj, prop.key) for prop in inspect(type(obj)).column_attrs}


def test_same_values_as_the_orm(any_db_app: Flask, make_volunteer: Callable[..., User]) -> None:
    user_id = make_volunteer(partner_phone="13900139000", weekly_cap=3).id
    expected = _orm_user(user_id)
    want_user, want_volunteer = _columns(expected), _columns(expected.volunteer)
    db.session.expunge_all()
    with any_db_app.test_request_context():
        with statements() as seen:
            user = _user_with_volunteer(user_id)
            assert user is not None
            assert user.volunteer is not None
            assert _columns(user) == want_user
            assert _columns(user.volunteer) == want_volunteer
            assert user.volunteer.user is user
        assert len(seen) == 1
        assert inspect(user).persistent
        assert inspect(user.volunteer).persistent
        assert not db.session.dirty


def test_staff_without_profile(any_db_app: Flask, make_user: Callable[..., User]) -> None:
    user_id = make_user(COORDINATOR).id
    db.session.expunge_all()
    with any_db_app.test_request_context():
        with statements() as seen:
            user = _user_with_volunteer(user_id)
            assert user is not None
            assert user.role == COORDINATOR
            assert user.volunteer is None
        assert len(seen) == 1
    assert _user_with_volunteer(2_000_000) is None


def test_changes_are_saved_and_lazy_loads_work(
    any_db_app: Flask, make_volunteer: Callable[..., User]
) -> None:
    user_id = make_volunteer().id
    db.session.expunge_all()
    with any_db_app.test_request_context():
        user = _user_with_volunteer(user_id)
        assert user is not None
        assert user.volunteer is not None
        assert user.volunteer.skills == []
        user.name = "改过的名字"
        user.volunteer.weekly_cap = 2
        db.session.commit()
    db.session.expunge_all()
    saved = _orm_user(user_id)
    assert saved.name == "改过的名字"
    assert saved.name_pinyin  # the name's listener ran as it does for a loaded user
    assert saved.volunteer is not None
    assert saved.volunteer.weekly_cap == 2


def test_held_instance_is_returned(any_db_app: Flask, make_volunteer: Callable[..., User]) -> None:
    user_id = make_volunteer().id
    db.session.expunge_all()
    with any_db_app.test_request_context():
        held = db.session.get(User, user_id)
        assert held is not None
        # The row changes behind the session's back; the held instance wins, as with the ORM.
        db.session.execute(update(User).where(User.id == user_id).values(name="别处改的"))
        user = _user_with_volunteer(user_id)
        assert user is held
        assert isinstance(user.volunteer, Volunteer)
        db.session.rollback()


def test_logged_in_pages_use_it(
    any_db_app: Flask, make_volunteer: Callable[..., User], make_user: Callable[..., User]
) -> None:
    from tests.fixtures.auth import signed_in

    volunteer = make_volunteer()
    staff = make_user(COORDINATOR)
    assert signed_in(any_db_app, volunteer).get("/me").status_code == 200
    assert signed_in(any_db_app, staff).get("/me/profile").status_code in (200, 302, 403)
