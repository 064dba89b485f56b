"""Registration, login, logout, locale choice, rate limiting and CSRF on the auth forms."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from scheduler.config import Config
from scheduler.extensions import db
from scheduler.models import District, Skill, User, WorkUnit
from tests.fixtures.auth import PASSWORD

PHONE = "13800138000"
E164 = "+8613800138000"


def registration_form(**overrides: Any) -> dict[str, Any]:
    """A complete, valid registration as the browser posts it; override single fields."""
    data: dict[str, Any] = {
        "name": "王小明",
        "phone": PHONE,
        "password": PASSWORD,
        "work_unit": "南通供电公司",
        "district": "0",
        "consent": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no csrf_token field on the page"
    return match.group(1)


def user_count() -> int:
    return db.session.scalar(select(func.count(User.id))) or 0


def html_lang(response: Any) -> str:
    match = re.search(r'<html lang="([^"]+)">', response.get_data(as_text=True))
    assert match
    return match.group(1)


# --- registration -------------------------------------------------------------------------


def test_register_page_lists_catalogue_and_links_privacy(client: FlaskClient, app: Flask) -> None:
    db.session.add_all([District(name="崇川区"), WorkUnit(name="如东县总工会")])
    db.session.commit()
    html = client.get("/register").get_data(as_text=True)
    assert 'href="/privacy"' in html
    assert '<option value="如东县总工会">' in html  # datalist of existing work units
    assert "崇川区" in html
    # Sign-up asks only what rostering needs; the rest follows on the profile.
    fields = set(re.findall(r'<(?:input|select)[^>]* name="([^"]+)"', html))
    assert fields - {"csrf_token", "lang", "next"} == {
        "name",
        "phone",
        "password",
        "work_unit",
        "district",
        "accepts_nights",
        "consent",
    }


def test_register_creates_volunteer_logs_in_and_redirects_to_me(
    client: FlaskClient, app: Flask
) -> None:
    district = District(name="崇川区")
    db.session.add(district)
    db.session.commit()
    medical = db.session.scalar(select(Skill).where(Skill.code == "medical"))
    driving = db.session.scalar(select(Skill).where(Skill.code == "driving"))
    response = client.post(
        "/register",
        data=registration_form(
            phone="138 0013 8000",
            district=str(district.id),
            accepts_nights="y",
            # not on the sign-up form: a crafted post cannot set them either
            skills=[str(medical.id), str(driving.id)],
            weekly_cap="3",
            partner_phone="+86 139 0013 9000",
            emergency_name="王大明",
            emergency_phone="137-0013-7000",
        ),
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/me"
    user = db.session.scalar(select(User).where(User.phone == E164))
    assert user is not None
    assert user.role == "volunteer"
    assert user.check_password(PASSWORD)
    volunteer = user.volunteer
    assert volunteer.district_id == district.id
    assert volunteer.work_unit.name == "南通供电公司"
    assert volunteer.accepts_nights is True
    assert volunteer.weekly_cap == 5  # the default until the profile says otherwise
    assert volunteer.partner_phone is None
    assert volunteer.emergency_name is None
    assert volunteer.emergency_phone is None
    assert volunteer.consented_at is not None
    assert volunteer.skills == []
    me = client.get("/me")  # logged in already
    assert me.status_code == 200
    html = me.get_data(as_text=True)
    assert "王小明" in html
    assert 'id="profile-reminder"' in html


def test_register_reuses_work_unit_ignoring_case_and_spacing(
    client: FlaskClient, app: Flask
) -> None:
    unit = WorkUnit(name="Nantong Power Co")
    db.session.add(unit)
    db.session.commit()
    response = client.post(
        "/register", data=registration_form(work_unit="  nantong\u3000 POWER   co ")
    )
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(WorkUnit.id))) == 1
    user = db.session.scalar(select(User).where(User.phone == E164))
    assert user.volunteer.work_unit_id == unit.id


def test_register_creates_new_work_unit_trimmed(client: FlaskClient, app: Flask) -> None:
    response = client.post("/register", data=registration_form(work_unit="  如皋港  志愿 服务队 "))
    assert response.status_code == 302
    assert db.session.scalars(select(WorkUnit.name)).all() == ["如皋港 志愿 服务队"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"phone": "12345"}, "Not a valid Chinese mobile number."),
        ({"phone": "010 6552 9988"}, "Not a valid Chinese mobile number."),  # a landline
        ({"phone": ""}, "This field is required."),
        ({"phone": "1" * 40}, "Too long."),
        ({"name": ""}, "This field is required."),
        ({"name": "   "}, "This field is required."),
        ({"name": "名" * 51}, "At most 50 characters."),
        ({"work_unit": ""}, "This field is required."),
        ({"work_unit": "单" * 101}, "At most 100 characters."),
        ({"consent": None}, "Please agree to the privacy notice to register."),
        ({"password": "short"}, "Password must have at least 8 characters."),
        ({"district": "999"}, "Not a valid choice."),
    ],
)
def test_register_rejects_bad_input_and_writes_nothing(
    client: FlaskClient, app: Flask, overrides: dict[str, Any], message: str
) -> None:
    response = client.post(
        "/register", data=registration_form(**overrides), headers={"Accept-Language": "en"}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert 'aria-invalid="true"' in html
    assert user_count() == 0
    assert db.session.scalar(select(func.count(WorkUnit.id))) == 0


@pytest.mark.parametrize("second", ["13800138000", "+86 138 0013 8000", "8613800138000"])
def test_register_duplicate_phone_in_any_format_is_a_field_error(
    app: Flask, make_volunteer: Callable[..., User], second: str
) -> None:
    make_volunteer(phone="+86 13800138000")
    response = app.test_client().post("/register", data=registration_form(phone=second))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "This mobile number is already registered." in html
    assert 'id="phone-error"' in html
    assert user_count() == 1


def test_registration_keeps_typed_values_after_an_error(client: FlaskClient, app: Flask) -> None:
    response = client.post(
        "/register", data=registration_form(phone="12345", name="李雷", work_unit="小海卡口")
    )
    html = response.get_data(as_text=True)
    assert 'value="李雷"' in html
    assert 'value="小海卡口"' in html
    # The password comes back too (a phone user must not type it again), never cached.
    assert 'value="' + PASSWORD + '"' in html
    assert response.headers["Cache-Control"] == "no-store"
    # The error is summarised at the top with a link to its field.
    summary = html[html.index('id="error-summary"') : html.index('action="/register"')]
    assert 'href="#phone"' in summary


def test_logged_in_user_visiting_register_goes_to_me(
    login_as: Callable[..., FlaskClient], make_volunteer: Callable[..., User]
) -> None:
    client = login_as(make_volunteer())
    response = client.get("/register")
    assert response.status_code == 302
    assert response.headers["Location"] == "/me"


# --- login and logout -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["13800138000", "138 0013 8000", "138-0013-8000", "+86 138 0013 8000", "8613800138000"]
)
def test_login_accepts_common_phone_formats(
    client: FlaskClient, make_volunteer: Callable[..., User], typed: str
) -> None:
    make_volunteer(phone=PHONE)
    response = client.post("/login", data={"phone": typed, "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/me"
    assert client.get("/me").status_code == 200


@pytest.mark.parametrize(
    ("phone", "password"),
    [(PHONE, "wrong-password"), ("13900139000", PASSWORD), ("not a phone", PASSWORD)],
)
def test_login_failure_is_generic(
    client: FlaskClient, make_volunteer: Callable[..., User], phone: str, password: str
) -> None:
    make_volunteer(phone=PHONE)
    response = client.post("/login", data={"phone": phone, "password": password})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Mobile number or password is not correct." in html
    assert "registered" not in html
    assert client.get("/me").status_code == 302  # still anonymous


def test_inactive_account_cannot_log_in(
    client: FlaskClient, make_volunteer: Callable[..., User]
) -> None:
    user = make_volunteer(phone=PHONE)
    user.active = False
    db.session.commit()
    response = client.post("/login", data={"phone": PHONE, "password": PASSWORD})
    assert response.status_code == 422
    assert "Mobile number or password is not correct." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/me/availability?week=2026-12-07", "/me/availability?week=2026-12-07"),
        ("//evil.example/", "/me"),
        ("https://evil.example/", "/me"),
        ("/\\evil.example", "/me"),
        ("javascript:alert(1)", "/me"),
    ],
)
def test_login_next_only_same_site(
    client: FlaskClient, make_volunteer: Callable[..., User], next_url: str, expected: str
) -> None:
    make_volunteer(phone=PHONE)
    page = client.get("/login", query_string={"next": next_url}).get_data(as_text=True)
    kept = 'name="next" type="hidden" value="' in page
    assert kept
    response = client.post("/login", data={"phone": PHONE, "password": PASSWORD, "next": next_url})
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_anonymous_is_sent_to_login_with_next(client: FlaskClient) -> None:
    response = client.get("/me/availability")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_logout_is_post_only_and_ends_session(
    login_as: Callable[..., FlaskClient], make_volunteer: Callable[..., User]
) -> None:
    client = login_as(make_volunteer())
    assert client.get("/logout").status_code == 405
    assert client.get("/me").status_code == 200
    response = client.post("/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/me").status_code == 302


# --- locale ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "lang"),
    [
        ("zh", "zh-Hans"),
        ("zh-CN", "zh-Hans"),
        ("zh-Hans", "zh-Hans"),
        ("zh-Hans-CN", "zh-Hans"),
        ("zh-SG", "zh-Hans"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-Hans"),
        ("en-US", "en"),
        ("en-US,en;q=0.9,zh-CN;q=0.5", "en"),
    ],
)
def test_accept_language_picks_the_catalog(client: FlaskClient, accept: str, lang: str) -> None:
    response = client.get("/login", headers={"Accept-Language": accept})
    assert response.status_code == 200
    assert html_lang(response) == lang


@pytest.mark.parametrize("headers", [{"Accept-Language": "fr-FR"}, {}])
def test_product_default_is_chinese(app_factory: Callable[..., Flask], headers: dict) -> None:
    """Nothing we ship asked for (or no header at all): Chinese, the people Muster is for.
    The test config defaults to English, so this builds an app with the product default."""
    app = app_factory(BABEL_DEFAULT_LOCALE=Config.BABEL_DEFAULT_LOCALE)
    assert Config.BABEL_DEFAULT_LOCALE == "zh_Hans"
    assert html_lang(app.test_client().get("/login", headers=headers)) == "zh-Hans"


def test_language_switch_wins_over_accept_language(client: FlaskClient) -> None:
    response = client.post("/language", data={"lang": "en", "next": "/login"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    page = client.get("/login", headers={"Accept-Language": "zh-CN"})
    assert html_lang(page) == "en"
    client.post("/language", data={"lang": "zh_Hans", "next": "/login"})
    assert html_lang(client.get("/login", headers={"Accept-Language": "en-US"})) == "zh-Hans"


# --- rate limiting --------------------------------------------------------------------------


def test_many_wrong_passwords_get_429(
    app_factory: Callable[..., Flask], make_volunteer: Callable[..., User]
) -> None:
    app = app_factory(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT_PER_PHONE="5 per minute")
    with app.app_context():
        make_volunteer(phone=PHONE)
        client = app.test_client()
        for _ in range(5):
            response = client.post("/login", data={"phone": PHONE, "password": "guess-guess"})
            assert response.status_code == 422
        for _ in range(3):  # GETs do not count against the limit
            assert client.get("/login").status_code == 200
        blocked = client.post("/login", data={"phone": PHONE, "password": PASSWORD})
        assert blocked.status_code == 429
        assert "Too many attempts" in blocked.get_data(as_text=True)
        assert client.get("/me").status_code == 302  # the right password did not get in


def test_registration_posts_are_rate_limited(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(RATELIMIT_ENABLED=True, REGISTER_RATE_LIMIT_PER_IP="2 per hour")
    with app.app_context():
        client = app.test_client()
        for _ in range(2):
            assert client.post("/register", data=registration_form(phone="1")).status_code == 422
        assert client.get("/register").status_code == 200
        response = client.post("/register", data=registration_form())
        assert response.status_code == 429
        assert user_count() == 0


# --- CSRF -----------------------------------------------------------------------------------


def test_register_without_csrf_token_is_refused(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        client = app.test_client()
        client.get("/register")
        response = client.post("/register", data=registration_form())
        assert response.status_code == 400
        assert "This form expired" in response.get_data(as_text=True)
        assert user_count() == 0
        token = csrf_token_from(client.get("/register").get_data(as_text=True))
        response = client.post("/register", data=registration_form(csrf_token=token))
        assert response.status_code == 302
        assert user_count() == 1


def test_login_without_csrf_token_is_refused(
    app_factory: Callable[..., Flask], make_volunteer: Callable[..., User]
) -> None:
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_volunteer(phone=PHONE)
        client = app.test_client()
        client.get("/login")
        response = client.post("/login", data={"phone": PHONE, "password": PASSWORD})
        assert response.status_code == 400
        assert client.get("/me").status_code == 302
        token = csrf_token_from(client.get("/login").get_data(as_text=True))
        response = client.post(
            "/login", data={"phone": PHONE, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 302
        assert client.get("/me").status_code == 200
