"""Sites and their demand grid: create, edit, archive, and every invalid input re-rendering the
form with its message while writing nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import Demand, District, Role, Site, User
from scheduler.services.sites import SiteData, SiteError, save_site
from tests.fixtures.auth import login


def role_ids() -> dict[str, int]:
    return {r.code: r.id for r in db.session.scalars(select(Role))}


def site_form(name: str = "南通北高速卡口", **overrides: Any) -> dict[str, Any]:
    """A valid checkpoint: night+day+evening, 1 lead and 2 code checkers on each."""
    ids = role_ids()
    data: dict[str, Any] = {
        "kind": "checkpoint",
        "name": name,
        "address": "G15沈海高速南通北收费站",
        "district_id": "0",
        "timezone": "Asia/Shanghai",
        "first_shift_hour": "0",
        "shifts": ["night", "day", "evening"],
    }
    for shift in ("night", "day", "evening"):
        data[f"demand_{shift}_{ids['site_lead']}"] = "1"
        data[f"demand_{shift}_{ids['code_checker']}"] = "2"
    data.update(overrides)
    return data


def demand_rows(site: Site) -> dict[tuple[str, str], int]:
    rows = db.session.execute(
        select(Demand.shift, Role.code, Demand.headcount)
        .join(Role, Role.id == Demand.role_id)
        .where(Demand.site_id == site.id)
    )
    return {(shift, code): count for shift, code, count in rows}


def site_count() -> int:
    return db.session.scalar(select(func.count(Site.id))) or 0


@pytest.fixture
def staff(login_as: Callable[..., FlaskClient], coordinator: User) -> FlaskClient:
    return login_as(coordinator)


def test_new_site_form_suggests_checkpoint_demand(staff: FlaskClient) -> None:
    ids = role_ids()
    html = staff.get("/coordinator/sites/new?kind=checkpoint").get_data(as_text=True)
    assert f'name="demand_night_{ids["code_checker"]}"' in html
    assert f'id="demand_night_{ids["code_checker"]}"' in html
    assert f'name="demand_night_{ids["code_checker"]}" type="number" value="2"' in html
    assert 'value="night" id="shift-night"\n                       checked' in html


def test_new_testing_site_suggests_day_and_evening_only(staff: FlaskClient) -> None:
    ids = role_ids()
    html = staff.get("/coordinator/sites/new?kind=testing").get_data(as_text=True)
    assert 'value="night" id="shift-night"\n                       >' in html
    assert 'value="day" id="shift-day"\n                       checked' in html
    assert f'name="demand_day_{ids["sampler"]}" type="number" value="2"' in html
    assert f'name="demand_day_{ids["queue_marshal"]}" type="number" value="2"' in html


def test_create_site_with_demand(staff: FlaskClient) -> None:
    district = District(name="如东县")
    db.session.add(district)
    db.session.commit()
    ids = role_ids()
    form = site_form(
        district_id=str(district.id),
        first_shift_hour="23",
        shifts=["night", "evening"],
        **{f"demand_day_{ids['temperature']}": "5"},  # a shift not run: ignored
    )
    response = staff.post("/coordinator/sites/new", data=form)
    assert response.status_code == 302
    site = db.session.scalar(select(Site).where(Site.name == "南通北高速卡口"))
    assert site is not None
    assert (site.kind, site.district_id, site.first_shift_hour) == ("checkpoint", district.id, 23)
    assert site.shift_kinds == ("night", "evening")
    assert demand_rows(site) == {
        ("night", "site_lead"): 1,
        ("night", "code_checker"): 2,
        ("evening", "site_lead"): 1,
        ("evening", "code_checker"): 2,
    }
    listing = staff.get("/coordinator/sites").get_data(as_text=True)
    assert "南通北高速卡口" in listing
    assert "如东县" in listing


def test_edit_site_changes_demand_and_drops_unrun_shift(
    staff: FlaskClient, make_site: Callable[..., Site]
) -> None:
    site = make_site(name="小海高速卡口", demand={"site_lead": 1, "code_checker": 2})
    ids = role_ids()
    page = staff.get(f"/coordinator/sites/{site.id}/edit")
    assert page.status_code == 200
    assert "小海高速卡口" in page.get_data(as_text=True)
    form = site_form(
        name="小海高速卡口（南）",
        shifts=["day", "evening"],
        **{
            f"demand_day_{ids['code_checker']}": "0",
            f"demand_day_{ids['temperature']}": "3",
            f"demand_evening_{ids['site_lead']}": "",
        },
    )
    response = staff.post(f"/coordinator/sites/{site.id}/edit", data=form)
    assert response.status_code == 302
    db.session.expire_all()
    site = db.session.get(Site, site.id)
    assert site.name == "小海高速卡口（南）"
    assert site.shift_kinds == ("day", "evening")
    assert demand_rows(site) == {
        ("day", "site_lead"): 1,
        ("day", "temperature"): 3,
        ("evening", "code_checker"): 2,
    }


def test_archive_and_unarchive(staff: FlaskClient, make_site: Callable[..., Site]) -> None:
    site = make_site(name="如皋港出口")
    response = staff.post(f"/coordinator/sites/{site.id}/archive", follow_redirects=True)
    assert "Site “如皋港出口” archived." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Site, site.id).archived_at is not None
    assert "如皋港出口" not in staff.get("/coordinator/sites").get_data(as_text=True)
    assert "如皋港出口" in staff.get("/coordinator/sites?archived=1").get_data(as_text=True)
    assert staff.post(f"/coordinator/sites/{site.id}/unarchive").status_code == 302
    db.session.expire_all()
    assert db.session.get(Site, site.id).archived_at is None


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "Enter a name."),
        ({"name": "   "}, "name", "Enter a name."),
        ({"name": "卡" * 101}, "name", "At most 100 characters."),
        ({"timezone": "Asia/Nowhere"}, "timezone", "Unknown time zone"),
        ({"timezone": "../../etc/passwd"}, "timezone", "Unknown time zone"),
        ({"shifts": []}, "shifts", "Choose at least one shift the site runs."),
        ({"first_shift_hour": "24"}, "first_shift_hour", "Enter an hour from 0 to 23."),
        ({"kind": "airport"}, "kind", None),  # WTForms' own (translated) message
        ({"district_id": "99999"}, "district_id", None),
        ({"address": "路" * 201}, "address", "At most 200 characters."),
    ],
)
def test_invalid_site_rerenders_with_error_and_writes_nothing(
    staff: FlaskClient, overrides: dict[str, Any], field: str, message: str | None
) -> None:
    response = staff.post("/coordinator/sites/new", data=site_form(**overrides))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html
    if message:
        assert message in html
    assert site_count() == 0
    assert db.session.scalar(select(func.count(Demand.id))) == 0


@pytest.mark.parametrize("value", ["-1", "201", "100000000000", "abc", "1.5"])
def test_bad_headcount_rerenders_with_error(staff: FlaskClient, value: str) -> None:
    ids = role_ids()
    form = site_form(**{f"demand_day_{ids['registrar']}": value})
    response = staff.post("/coordinator/sites/new", data=form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "field-error" in html
    assert site_count() == 0


def test_bad_edit_leaves_site_and_demand_unchanged(
    staff: FlaskClient, make_site: Callable[..., Site]
) -> None:
    site = make_site(name="S28如东出口", demand={"site_lead": 1, "code_checker": 2})
    before = demand_rows(site)
    ids = role_ids()
    form = site_form(
        name="改名", timezone="Mars/Olympus", **{f"demand_day_{ids['code_checker']}": "7"}
    )
    response = staff.post(f"/coordinator/sites/{site.id}/edit", data=form)
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(Site, site.id).name == "S28如东出口"
    assert demand_rows(db.session.get(Site, site.id)) == before


def test_script_in_site_name_is_escaped(staff: FlaskClient) -> None:
    staff.post("/coordinator/sites/new", data=site_form(name="<script>alert(1)</script>"))
    html = staff.get("/coordinator/sites").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_unknown_site_is_404(staff: FlaskClient) -> None:
    assert staff.get("/coordinator/sites/9999/edit").status_code == 404
    assert staff.post("/coordinator/sites/9999/archive").status_code == 404


def test_duplicate_site_name_is_refused(any_db_app: Flask, coordinator: User) -> None:
    client = any_db_app.test_client()
    login(client, coordinator)
    assert client.post("/coordinator/sites/new", data=site_form(name="小海")).status_code == 302
    response = client.post("/coordinator/sites/new", data=site_form(name=" 小海 "))
    assert response.status_code == 422
    assert "A site with this name already exists." in response.get_data(as_text=True)
    assert site_count() == 1


def test_concurrent_duplicate_name_becomes_a_site_error(
    any_db_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The schema's unique constraint backs the check when two saves race: simulated by
    skipping the service's own check, the commit's IntegrityError becomes the same message."""
    save_site(None, SiteData(kind="other", name="卡口", shifts=("day",)))
    # Pretend the name check ran before the other request committed.
    real_scalar = db.session.scalar

    def scalar_without_clash(statement: Any, *args: Any, **kwargs: Any) -> Any:
        if "sites.name" in str(statement) and "sites.id" in str(statement):
            return None
        return real_scalar(statement, *args, **kwargs)

    monkeypatch.setattr(db.session, "scalar", scalar_without_clash)
    with pytest.raises(SiteError) as caught:
        save_site(None, SiteData(kind="other", name="卡口", shifts=("day",)))
    monkeypatch.undo()
    assert caught.value.field == "name"
    assert site_count() == 1
