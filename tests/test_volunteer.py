"""The volunteer's own pages: the whole journey, /me, profile, password, account deletion."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import (
    Availability,
    DayOff,
    PlanningPeriod,
    Skill,
    User,
    Volunteer,
    VolunteerSkill,
    WorkUnit,
)
from scheduler.models.base import utcnow
from scheduler.services.availability import kind_of_start
from tests.fixtures.auth import PASSWORD, login
from tests.test_auth import (
    E164,
    PHONE,
    html_lang,
    registration_form,
)


def profile_form(**overrides: Any) -> dict[str, Any]:
    """The profile page's form: sign-up's fields (without password and consent) plus what
    sign-up leaves to the profile."""
    data = registration_form(
        **{
            "weekly_cap": "5",
            "partner_phone": "",
            "emergency_name": "王大明",
            "emergency_phone": "13700137000",
            **overrides,
        }
    )
    for key in ("password", "consent"):
        data.pop(key, None)
    return data


# --- the journey ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "lang", "date_text", "english_only"),
    [
        ("en", "en", "Dec 8", ["2 shifts", "1 night", "My shifts"]),
        # English msgids stay out of the Chinese check: the zh catalog will translate them.
        ("zh-CN", "zh-Hans", "12月8日", []),
    ],
)
def test_volunteer_journey_register_login_availability_me(
    app: Flask,
    make_site: Callable[..., Any],
    make_period: Callable[..., PlanningPeriod],
    accept: str,
    lang: str,
    date_text: str,
    english_only: list[str],
) -> None:
    make_period(start=date(2026, 12, 7), end=date(2026, 12, 20), sites=[make_site()])
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = accept

    page = client.get("/register")
    assert page.status_code == 200
    assert html_lang(page) == lang
    registered = client.post("/register", data=registration_form(name="赵志愿"))
    assert registered.status_code == 302
    assert registered.headers["Location"] == "/me"

    assert client.post("/logout").status_code == 302
    assert client.get("/me").status_code == 302
    logged_in = client.post("/login", data={"phone": "+86 138 0013 8000", "password": PASSWORD})
    assert logged_in.headers["Location"] == "/me"

    grid = client.get("/me/availability", query_string={"week": "2026-12-07"})
    assert grid.status_code == 200
    assert html_lang(grid) == lang
    assert f'aria-label="{date_text} ' in grid.get_data(as_text=True)
    tapped = client.post(
        "/me/availability/cell",
        data={"cell": "2026-12-08 00", "week": "2026-12-07"},
        headers={"HX-Request": "true"},
    )
    assert tapped.status_code == 200
    assert 'aria-pressed="true"' in tapped.get_data(as_text=True)
    plain = client.post(
        "/me/availability/cell", data={"cell": "2026-12-09 08", "week": "2026-12-07"}
    )
    assert plain.status_code == 302
    assert plain.headers["Location"].startswith("/me/availability?week=2026-12-07")

    me = client.get("/me")
    html = me.get_data(as_text=True)
    assert me.status_code == 200
    assert html_lang(me) == lang
    assert "赵志愿" in html
    assert "第一期" in html
    period_dates = "Dec 7 – Dec 20" if lang == "en" else "12月7日 – 12月20日"
    assert period_dates in html  # formatted for the locale
    for text in english_only:
        assert text in html
    user = db.session.scalar(select(User).where(User.phone == E164))
    assert {
        (a.day, kind_of_start(a.start_hour)) for a in db.session.scalars(select(Availability))
    } == {
        (date(2026, 12, 8), "night"),
        (date(2026, 12, 9), "day"),
    }
    assert all(
        a.volunteer_id == user.volunteer.id for a in db.session.scalars(select(Availability))
    )


# --- /me ------------------------------------------------------------------------------------


def test_me_shows_profile_escaped_and_no_shifts_yet(
    login_as: Callable[..., FlaskClient], make_volunteer: Callable[..., User]
) -> None:
    user = make_volunteer(name="<script>alert(1)</script>", weekly_cap=3, accepts_nights=True)
    html = login_as(user).get("/me").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert "No shifts have been published yet." in html
    assert "No planning period is open at the moment." in html


def test_me_marks_unverified_qualifications(
    login_as: Callable[..., FlaskClient], make_volunteer: Callable[..., User]
) -> None:
    user = make_volunteer()
    skills = {s.code: s for s in db.session.scalars(select(Skill))}
    user.volunteer.skills = [
        VolunteerSkill(skill=skills["medical"]),
        VolunteerSkill(skill=skills["driving"]),
    ]
    db.session.commit()
    html = login_as(user).get("/me").get_data(as_text=True)
    assert html.count("awaiting verification by a coordinator") == 1
    user.volunteer.skills[0].verified_at = utcnow()
    db.session.commit()
    assert "awaiting verification" not in login_as(user).get("/me").get_data(as_text=True)


def test_me_ignores_ids_in_the_url(
    login_as: Callable[..., FlaskClient], make_volunteer: Callable[..., User]
) -> None:
    me, other = make_volunteer(name="自己"), make_volunteer(name="别人")
    client = login_as(me)
    for query in (
        {"volunteer_id": other.volunteer.id},
        {"user_id": other.id},
        {"id": other.id},
    ):
        html = client.get("/me", query_string=query).get_data(as_text=True)
        assert "自己" in html
        assert "别人" not in html
        profile = client.get("/me/profile", query_string=query).get_data(as_text=True)
        assert 'value="自己"' in profile
        assert "别人" not in profile


def test_staff_without_profile_go_to_dashboard(
    login_as: Callable[..., FlaskClient], coordinator: User
) -> None:
    client = login_as(coordinator)
    for url in ("/me", "/me/availability", "/me/profile"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"] == "/coordinator/"


def test_site_lead_without_profile_sees_explanation(
    login_as: Callable[..., FlaskClient], make_user: Callable[..., User]
) -> None:
    lead = make_user("site_lead", name="点位长甲")
    client = login_as(lead)
    html = client.get("/me").get_data(as_text=True)
    assert "点位长甲" in html
    assert "no volunteer profile" in html
    response = client.get("/me/availability")
    assert response.status_code == 302
    assert response.headers["Location"] == "/me"


def test_site_lead_with_profile_uses_volunteer_pages(
    login_as: Callable[..., FlaskClient], make_user: Callable[..., User]
) -> None:
    lead = make_user("site_lead", name="点位长乙", weekly_cap=4)
    client = login_as(lead)
    assert "My profile" in client.get("/me").get_data(as_text=True)
    assert client.get("/me/availability").status_code == 200


@pytest.mark.parametrize(
    "url", ["/me", "/me/availability", "/me/profile", "/me/password", "/me/delete"]
)
def test_anonymous_is_sent_to_login(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


# --- profile --------------------------------------------------------------------------------


def test_profile_form_is_prefilled(
    login_as: Callable[..., FlaskClient], make_volunteer: Callable[..., User]
) -> None:
    user = make_volunteer(
        name="钱一",
        phone=PHONE,
        weekly_cap=2,
        emergency_name="钱二",
        emergency_phone="+8613700137000",
    )
    html = login_as(user).get("/me/profile").get_data(as_text=True)
    assert 'value="钱一"' in html
    assert f'value="{PHONE}"' in html
    assert 'value="2"' in html
    assert 'value="13700137000"' in html
    assert 'name="password"' not in html
    assert 'name="consent"' not in html


def test_profile_edit_saves_and_keeps_verified_skills(
    login_as: Callable[..., FlaskClient], make_volunteer: Callable[..., User]
) -> None:
    user = make_volunteer(name="孙一", phone=PHONE)
    skills = {s.code: s for s in db.session.scalars(select(Skill))}
    user.volunteer.skills = [VolunteerSkill(skill=skills["medical"], verified_at=utcnow())]
    db.session.commit()
    client = login_as(user)
    response = client.post(
        "/me/profile",
        data=profile_form(
            name="孙二",
            phone="139 0013 9000",
            work_unit="如东县 总工会",
            skills=[str(skills["medical"].id), str(skills["disinfection"].id)],
            weekly_cap="0",
            current_password=PASSWORD,  # a new mobile number needs it
        ),
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/me"
    db.session.refresh(user)
    assert user.name == "孙二"
    assert user.phone == "+8613900139000"
    assert user.volunteer.weekly_cap == 0
    assert user.volunteer.accepts_nights is False
    assert user.volunteer.work_unit.name == "如东县 总工会"
    verified = {vs.skill.code: vs.verified_at is not None for vs in user.volunteer.skills}
    assert verified == {"medical": True, "disinfection": False}
    # The login follows the phone number.
    client.post("/logout")
    login(client, user)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"phone": "13900139000", "current_password": PASSWORD},
            "This mobile number cannot be used for your account.",
        ),
        ({"partner_phone": "138-0013-8000"}, "Your partner&#39;s number must not be your own."),
        ({"weekly_cap": "8"}, "Weekly cap must be between 0 and 7 shifts."),
        ({"name": "名" * 51}, "At most 50 characters."),
    ],
)
def test_profile_edit_rejects_bad_input(
    login_as: Callable[..., FlaskClient],
    make_volunteer: Callable[..., User],
    overrides: dict[str, Any],
    message: str,
) -> None:
    user = make_volunteer(name="周一", phone=PHONE, weekly_cap=5)
    make_volunteer(phone="13900139000")
    response = login_as(user).post(
        "/me/profile", data=profile_form(**overrides), headers={"Accept-Language": "en"}
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.name == "周一"
    assert user.phone == E164
    assert user.volunteer.weekly_cap == 5
    assert user.volunteer.work_unit is None
    assert db.session.scalar(select(func.count(WorkUnit.id))) == 0


def test_profile_cannot_be_pointed_at_another_volunteer(
    login_as: Callable[..., FlaskClient], make_volunteer: Callable[..., User]
) -> None:
    me, other = make_volunteer(name="吴一"), make_volunteer(name="吴二", weekly_cap=5)
    response = login_as(me).post(
        "/me/profile",
        data=profile_form(
            name="改名", phone=me.phone, user_id=str(other.id), volunteer_id=str(other.volunteer.id)
        ),
    )
    assert response.status_code == 302
    db.session.refresh(me)
    db.session.refresh(other)
    assert me.name == "改名"
    assert other.name == "吴二"


# --- password -------------------------------------------------------------------------------


def test_change_password_needs_the_current_one(
    client: FlaskClient, make_volunteer: Callable[..., User]
) -> None:
    user = make_volunteer(phone=PHONE)
    login(client, user)
    wrong = client.post(
        "/me/password",
        data={
            "current": "not-my-password",
            "password": "new-password-1",
            "confirm": "new-password-1",
        },
        headers={"Accept-Language": "en"},
    )
    assert wrong.status_code == 422
    assert "The current password is not correct." in wrong.get_data(as_text=True)
    assert user.check_password(PASSWORD)
    ok = client.post(
        "/me/password",
        data={"current": PASSWORD, "password": "new-password-1", "confirm": "new-password-1"},
    )
    assert ok.status_code == 302
    db.session.refresh(user)
    assert user.check_password("new-password-1")
    assert not user.check_password(PASSWORD)
    client.post("/logout")
    refused = client.post("/login", data={"phone": PHONE, "password": PASSWORD})
    assert refused.status_code == 422
    login(client, user, "new-password-1")


# --- deleting the account -------------------------------------------------------------------


def test_delete_account_anonymises_and_blocks_login(
    client: FlaskClient, make_volunteer: Callable[..., User], make_period: Callable[..., Any]
) -> None:
    make_period()
    user = make_volunteer(
        phone=PHONE, name="郑删除", emergency_name="郑家人", emergency_phone="+8613700137000"
    )
    skills = {s.code: s for s in db.session.scalars(select(Skill))}
    user.volunteer.skills = [VolunteerSkill(skill=skills["driving"])]
    db.session.add_all(
        [
            Availability(volunteer_id=user.volunteer.id, day=date(2026, 12, 7), start_hour=8),
            DayOff(volunteer_id=user.volunteer.id, day=date(2026, 12, 8)),
        ]
    )
    db.session.commit()
    user_id = user.id
    login(client, user)

    wrong = client.post(
        "/me/delete", data={"password": "nope-nope"}, headers={"Accept-Language": "en"}
    )
    assert wrong.status_code == 422
    assert "The password is not correct." in wrong.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Volunteer.id))) == 1

    response = client.post("/me/delete", data={"password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    db.session.expire_all()
    user = db.session.get(User, user_id)
    assert user.name == f"Deleted volunteer #{user_id}"
    assert user.phone == f"deleted-{user_id}"
    assert user.active is False
    # The profile row stays (anonymised) so published rosters, attendance and hours keep it.
    assert user.volunteer is not None
    assert (user.volunteer.emergency_name, user.volunteer.emergency_phone) == (None, None)
    assert not user.check_password(PASSWORD)
    for model in (VolunteerSkill, Availability, DayOff):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0
    assert "郑" not in user.name

    assert client.get("/me").status_code == 302  # logged out
    refused = client.post("/login", data={"phone": PHONE, "password": PASSWORD})
    assert refused.status_code == 422
    # The number is free again for a new registration.
    again = client.post("/register", data=registration_form(phone=PHONE))
    assert again.status_code == 302


def test_staff_cannot_delete_themselves_here(
    login_as: Callable[..., FlaskClient], coordinator: User
) -> None:
    client = login_as(coordinator)
    assert client.get("/me/delete").status_code == 403
    assert client.post("/me/delete", data={"password": PASSWORD}).status_code == 403
    db.session.refresh(coordinator)
    assert coordinator.active is True
