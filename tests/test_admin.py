"""Admin pages: account list and search, role changes, last-admin protection, deactivation and
setting passwords."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import User
from scheduler.models.accounts import IMPORTED_PASSWORD_HASH
from scheduler.services import admin as admin_service
from scheduler.services.accounts import create_account
from scheduler.sessions import SESSION_KEY, password_version
from tests.fixtures.auth import PASSWORD, signed_in

NEW_PASSWORD = "new-secret-77"


@pytest.fixture
def admin(app: Flask, make_user: Callable[..., User]) -> User:
    return make_user("admin", name="管理员", phone="13900000001")


@pytest.fixture
def admin_client(app: Flask, admin: User) -> FlaskClient:
    return signed_in(app, admin)


def reload(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def can_log_in(app: Flask, user: User, password: str = PASSWORD) -> bool:
    response = app.test_client().post("/login", data={"phone": user.phone, "password": password})
    return response.status_code == 302


# --- access -----------------------------------------------------------------------------------

ADMIN_URLS = [
    ("get", "/admin/"),
    ("get", "/admin/accounts"),
    ("post", "/admin/accounts/1/role"),
    ("post", "/admin/accounts/1/deactivate"),
    ("post", "/admin/accounts/1/reactivate"),
    ("get", "/admin/accounts/1/password"),
    ("post", "/admin/accounts/1/password"),
]


@pytest.mark.parametrize(("method", "url"), ADMIN_URLS)
def test_anonymous_is_sent_to_log_in(client: FlaskClient, method: str, url: str) -> None:
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["volunteer", "site_lead", "coordinator"])
@pytest.mark.parametrize(("method", "url"), ADMIN_URLS)
def test_non_admins_are_refused(
    app: Flask, make_user: Callable[..., User], role: str, method: str, url: str
) -> None:
    user = make_user(role)
    assert user.id == 1  # the URLs above point at the caller's own account
    client = signed_in(app, user)
    response = getattr(client, method)(url, data={"role": "admin", "password": NEW_PASSWORD,
                                                  "confirm": NEW_PASSWORD})  # fmt: skip
    assert response.status_code == 403
    user = reload(user)
    assert (user.role, user.active, user.check_password(PASSWORD)) == (role, True, True)


def test_unknown_account_is_404(admin_client: FlaskClient) -> None:
    assert admin_client.get("/admin/accounts/999/password").status_code == 404
    assert admin_client.post("/admin/accounts/999/role", data={"role": "admin"}).status_code == 404
    assert admin_client.post("/admin/accounts/999/deactivate").status_code == 404


# --- list and search --------------------------------------------------------------------------


def test_admin_index_leads_to_the_account_list(admin_client: FlaskClient) -> None:
    response = admin_client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/accounts")


def test_list_search_and_filters(admin_client: FlaskClient, make_user: Callable[..., User]) -> None:
    make_user("volunteer", name="张伟", phone="13800001111")
    make_user("coordinator", name="李娜", phone="13800002222")
    make_user("volunteer", name="<script>alert(1)</script>", phone="13800003333")
    imported = create_account(name="导入者", phone="13800004444", password=PASSWORD)
    imported.password_hash = IMPORTED_PASSWORD_HASH
    db.session.commit()

    page = admin_client.get("/admin/accounts").get_data(as_text=True)
    for text in ("张伟", "李娜", "13800001111", "管理员", "5 accounts", "No password yet"):
        assert text in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page

    by_name = admin_client.get("/admin/accounts?q=张").get_data(as_text=True)
    assert "张伟" in by_name
    assert "李娜" not in by_name
    by_phone = admin_client.get("/admin/accounts?q=2222").get_data(as_text=True)
    assert "李娜" in by_phone
    assert "张伟" not in by_phone
    by_role = admin_client.get("/admin/accounts?role=coordinator").get_data(as_text=True)
    assert "李娜" in by_role
    assert "张伟" not in by_role
    no_password = admin_client.get("/admin/accounts?status=no_password").get_data(as_text=True)
    assert "导入者" in no_password
    assert "张伟" not in no_password
    assert "1 account" in no_password
    nothing = admin_client.get("/admin/accounts?q=" + "x" * 500 + "&role=king&page=-3")
    assert nothing.status_code == 200


def test_htmx_search_returns_only_the_table(admin_client: FlaskClient) -> None:
    response = admin_client.get("/admin/accounts?q=管理", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="accounts-table">')
    assert "<html" not in body
    assert "管理员" in body
    assert "HX-Request" in response.headers["Vary"]


def test_pagination(admin_client: FlaskClient, make_user: Callable[..., User]) -> None:
    for number in range(admin_service.ACCOUNTS_PER_PAGE + 5):
        make_user("volunteer", name=f"志愿者{number:03d}", phone=f"137{number:08d}")
    first = admin_client.get("/admin/accounts").get_data(as_text=True)
    assert "Page 1 of 2" in first
    second = admin_client.get("/admin/accounts?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second
    assert second.count('<tr id="account-') == 6


# --- roles ------------------------------------------------------------------------------------


def test_change_role(admin_client: FlaskClient, make_user: Callable[..., User]) -> None:
    volunteer = make_user("volunteer", name="张伟")
    response = admin_client.post(
        f"/admin/accounts/{volunteer.id}/role",
        data={"role": "coordinator", "next": "/admin/accounts?q=%E5%BC%A0"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/accounts?q=%E5%BC%A0"
    assert reload(volunteer).role == "coordinator"
    assert reload(volunteer).volunteer is not None  # the profile stays

    staff = make_user("coordinator", name="李娜")
    assert staff.volunteer is None
    admin_client.post(f"/admin/accounts/{staff.id}/role", data={"role": "volunteer"})
    staff = reload(staff)
    assert staff.role == "volunteer"
    assert staff.volunteer is not None  # a volunteer always has a profile

    refused = admin_client.post(
        f"/admin/accounts/{staff.id}/role", data={"role": "king"}, follow_redirects=True
    )
    assert "Choose one of the listed roles." in refused.get_data(as_text=True)
    assert reload(staff).role == "volunteer"


def test_redirect_target_is_limited_to_the_account_list(
    admin_client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user("volunteer")
    for target in ("https://evil.example/", "//evil.example/admin/accounts", "/admin/accountsX"):
        response = admin_client.post(
            f"/admin/accounts/{user.id}/role", data={"role": "site_lead", "next": target}
        )
        assert response.headers["Location"] == "/admin/accounts"


def test_last_admin_cannot_demote_themselves(
    app: Flask, admin: User, admin_client: FlaskClient, make_user: Callable[..., User]
) -> None:
    response = admin_client.post(
        f"/admin/accounts/{admin.id}/role", data={"role": "coordinator"}, follow_redirects=True
    )
    assert "This is the last active admin account" in response.get_data(as_text=True)
    assert reload(admin).role == "admin"

    # A deactivated admin does not count as a second admin.
    dormant = make_user("admin", name="停用管理员")
    dormant.active = False
    db.session.commit()
    admin_client.post(f"/admin/accounts/{admin.id}/role", data={"role": "coordinator"})
    assert reload(admin).role == "admin"

    # With another active admin, stepping down is allowed; the new admin takes over.
    successor = make_user("admin", name="接任管理员")
    admin_client.post(f"/admin/accounts/{admin.id}/role", data={"role": "coordinator"})
    assert reload(admin).role == "coordinator"
    assert admin_client.get("/admin/accounts").status_code == 403
    successor_client = signed_in(app, successor)
    response = successor_client.post(
        f"/admin/accounts/{successor.id}/role", data={"role": "volunteer"}, follow_redirects=True
    )
    assert "This is the last active admin account" in response.get_data(as_text=True)
    assert reload(successor).role == "admin"


# --- deactivation -----------------------------------------------------------------------------


def test_deactivated_account_cannot_log_in_until_reactivated(
    app: Flask, admin_client: FlaskClient, make_user: Callable[..., User]
) -> None:
    volunteer = make_user("volunteer", name="张伟")
    assert can_log_in(app, volunteer)

    response = admin_client.post(
        f"/admin/accounts/{volunteer.id}/deactivate", follow_redirects=True
    )
    assert "张伟 is deactivated and can no longer log in." in response.get_data(as_text=True)
    assert reload(volunteer).active is False
    assert not can_log_in(app, volunteer)
    listed = admin_client.get("/admin/accounts?status=inactive").get_data(as_text=True)
    assert "张伟" in listed

    admin_client.post(f"/admin/accounts/{volunteer.id}/reactivate")
    assert reload(volunteer).active is True
    assert can_log_in(app, volunteer)


def test_admin_cannot_deactivate_themselves(admin: User, admin_client: FlaskClient) -> None:
    response = admin_client.post(f"/admin/accounts/{admin.id}/deactivate", follow_redirects=True)
    assert "You cannot deactivate your own account." in response.get_data(as_text=True)
    assert reload(admin).active is True


def test_last_active_admin_is_protected_at_service_level(
    admin: User, make_user: Callable[..., User]
) -> None:
    other = make_user("admin", name="另一位管理员")
    admin_service.set_active(admin, other, False)
    with pytest.raises(admin_service.AdminError):
        admin_service.change_role(admin, "volunteer")
    with pytest.raises(admin_service.AdminError):
        admin_service.set_active(other, admin, False)  # other is inactive: admin is the last
    assert reload(admin).role == "admin"
    assert reload(admin).active is True


# --- passwords --------------------------------------------------------------------------------


def test_set_password(
    app: Flask, admin_client: FlaskClient, make_user: Callable[..., User]
) -> None:
    volunteer = make_user("volunteer", name="张伟")
    page = admin_client.get(f"/admin/accounts/{volunteer.id}/password")
    assert page.status_code == 200
    assert "张伟" in page.get_data(as_text=True)

    short = admin_client.post(
        f"/admin/accounts/{volunteer.id}/password", data={"password": "short", "confirm": "short"}
    )
    assert short.status_code == 422
    assert 'aria-invalid="true"' in short.get_data(as_text=True)
    differ = admin_client.post(
        f"/admin/accounts/{volunteer.id}/password",
        data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"},
    )
    assert differ.status_code == 422
    assert "The two passwords differ." in differ.get_data(as_text=True)
    assert reload(volunteer).check_password(PASSWORD)

    done = admin_client.post(
        f"/admin/accounts/{volunteer.id}/password",
        data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        follow_redirects=True,
    )
    assert "New password set for 张伟" in done.get_data(as_text=True)
    assert can_log_in(app, volunteer, NEW_PASSWORD)
    assert not can_log_in(app, volunteer, PASSWORD)


def test_imported_volunteer_logs_in_once_given_a_password(
    app: Flask, admin_client: FlaskClient
) -> None:
    imported = create_account(name="导入者", phone="13800004444", password=PASSWORD)
    imported.password_hash = IMPORTED_PASSWORD_HASH
    db.session.commit()
    assert not imported.has_usable_password
    assert not can_log_in(app, imported, PASSWORD)

    admin_client.post(
        f"/admin/accounts/{imported.id}/password",
        data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert reload(imported).has_usable_password
    assert can_log_in(app, imported, NEW_PASSWORD)


def test_role_change_needs_csrf(
    app_factory: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        admin = make_user("admin")
        volunteer = make_user("volunteer")
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = str(admin.id)
            session["_fresh"] = True
            session[SESSION_KEY] = password_version(admin)
        response = client.post(f"/admin/accounts/{volunteer.id}/role", data={"role": "admin"})
        assert response.status_code == 400
        db.session.expire_all()
        assert db.session.scalar(select(User.role).where(User.id == volunteer.id)) == "volunteer"
