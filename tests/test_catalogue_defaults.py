"""A new database has no roles, and a site is staffed role by role: its staffing table was
empty and nothing on the pages said why or what to do (found trying the README's production
section as a new user). The catalogue page now says so and lets an editor add the usual roles
and skills in one click; the site form points there."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select

from scheduler.extensions import db
from scheduler.models import AuditEntry, Role, Skill, User
from scheduler.services import audit, catalogue_admin
from scheduler.services.catalogue import DEFAULT_ROLES, DEFAULT_SKILLS
from scheduler.services.catalogue_admin import CatalogueError


@pytest.fixture(autouse=True)
def new_database(app: Flask) -> None:
    """The catalogue as `flask db upgrade` leaves it: empty (the test app seeds it)."""
    db.session.execute(delete(Role))
    db.session.execute(delete(Skill))
    db.session.commit()


def count(model: type) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def saved() -> int:
    return int(
        db.session.scalar(select(func.count()).where(AuditEntry.action == audit.CATALOGUE_SAVE))
        or 0
    )


def test_an_empty_catalogue_offers_the_usual_roles_and_skills(
    coordinator: User, login_as: Callable[..., FlaskClient]
) -> None:
    client = login_as(coordinator)
    page = client.get("/coordinator/catalogue").get_data(as_text=True)
    assert 'id="no-roles"' in page
    assert 'id="add-defaults"' in page
    assert "Site lead, Code checker" in page  # the roles it would add, by name

    response = client.post("/coordinator/catalogue/defaults")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/coordinator/catalogue")
    assert count(Role) == len(DEFAULT_ROLES)
    assert count(Skill) == len(DEFAULT_SKILLS)
    assert saved() == len(DEFAULT_ROLES) + len(DEFAULT_SKILLS)  # each one in the audit log
    after = client.get("/coordinator/catalogue").get_data(as_text=True)
    assert f"{len(DEFAULT_ROLES) + len(DEFAULT_SKILLS)} usual roles and skills added." in after
    assert 'id="no-roles"' not in after
    assert 'id="add-defaults"' not in after

    # again (a second tab, a double click): nothing more is added or logged
    client.post("/coordinator/catalogue/defaults")
    assert count(Role) == len(DEFAULT_ROLES)
    assert saved() == len(DEFAULT_ROLES) + len(DEFAULT_SKILLS)
    again = client.get("/coordinator/catalogue").get_data(as_text=True)
    assert "The usual roles and skills are there already." in again


def test_edited_defaults_are_kept(coordinator: User) -> None:
    assert catalogue_admin.add_default_catalogue(coordinator) == 12
    lead = db.session.scalar(select(Role).where(Role.code == "site_lead"))
    assert lead is not None
    lead.name_en = "Team leader"
    db.session.commit()
    assert catalogue_admin.add_default_catalogue(coordinator) == 0
    db.session.refresh(lead)
    assert lead.name_en == "Team leader"


def test_only_catalogue_editors_may_add_them(
    make_volunteer: Callable[..., User], login_as: Callable[..., FlaskClient]
) -> None:
    volunteer = make_volunteer()
    with pytest.raises(CatalogueError):
        catalogue_admin.add_default_catalogue(volunteer)
    assert count(Role) == count(Skill) == 0
    assert login_as(volunteer).post("/coordinator/catalogue/defaults").status_code == 403
    assert count(Role) == 0


def test_the_site_form_says_there_are_no_roles_and_where_to_add_them(
    coordinator: User, login_as: Callable[..., FlaskClient]
) -> None:
    client = login_as(coordinator)
    empty = client.get("/coordinator/sites/new").get_data(as_text=True)
    assert 'id="no-roles"' in empty
    assert 'href="/coordinator/catalogue"' in empty
    client.post("/coordinator/catalogue/defaults")
    staffed = client.get("/coordinator/sites/new").get_data(as_text=True)
    assert 'id="no-roles"' not in staffed
    assert "Site lead" in staffed
