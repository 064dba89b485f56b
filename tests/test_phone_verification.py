"""VERIFY_PHONE=sms (issue 12): where a channel is configured, a registration and the claim of
an imported account wait for a 6-digit code texted to the number — the account is not created
or claimed until the code is entered. The channel is the existing SmtpSender talking to a real
SMTP server on 127.0.0.1. With the setting off, or with no channel, nothing changes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from scheduler.extensions import db
from scheduler.models import User
from scheduler.models.accounts import IMPORTED_PASSWORD_HASH
from scheduler.models.base import set_clock
from scheduler.models.codes import CLAIM, REGISTER, OneTimeCode
from tests.fixtures.app import TEST_CLOCK_START
from tests.fixtures.auth import PASSWORD
from tests.fixtures.smtp import SmtpReceiver, smtp_receiver
from tests.test_auth import PHONE, registration_form
from tests.test_claim_imported import ROW, claim_form, import_rows

E164 = "+86" + PHONE


def users() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(User.id))) or 0


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def password_works(app: Flask, phone: str, password: str = PASSWORD) -> bool:
    response = app.test_client().post("/login", data={"phone": phone, "password": password})
    return response.status_code == 302


@pytest.fixture
def sms(any_db_app: Flask) -> Iterator[SmtpReceiver]:
    """VERIFY_PHONE=sms with a channel: SMTP to a real server on 127.0.0.1."""
    set_clock(TEST_CLOCK_START)  # building the app (a PostgreSQL schema) takes a while
    with smtp_receiver() as receiver:
        any_db_app.config.update(receiver.config(), VERIFY_PHONE="sms")
        yield receiver


def test_a_registration_waits_for_the_texted_code(any_db_app: Flask, sms: SmtpReceiver) -> None:
    app = any_db_app
    client = app.test_client()
    started = client.post("/register", data=registration_form())
    assert started.status_code == 302, text(started)[:2000]
    assert started.headers["Location"].endswith("/confirm-phone")
    assert users() == 0  # nothing created yet
    assert sms.messages[-1].recipients == [f"{E164.lstrip('+')}@sms.test"]
    code = sms.code()
    row = db.session.scalars(select(OneTimeCode)).one()
    assert row.purpose == REGISTER
    assert PASSWORD not in json.dumps(row.payload)  # only the hash waits with the code
    page = text(client.get("/confirm-phone"))
    assert "138****8000" in page

    wrong = client.post("/confirm-phone", data={"code": f"{(int(code) + 1) % 10**6:06d}"})
    assert wrong.status_code == 422
    assert "4 tries left" in text(wrong)
    assert users() == 0

    done = client.post("/confirm-phone", data={"code": code})
    assert done.status_code == 302, text(done)[:2000]
    assert done.headers["Location"].endswith("/me")
    assert client.get("/me").status_code == 200
    assert users() == 1
    user = db.session.scalars(select(User)).one()
    assert user.name == "王小明"
    assert user.volunteer is not None
    assert user.volunteer.consented_at is not None
    assert password_works(app, PHONE)
    # The code is used up and the waiting registration is gone from the session.
    assert app.test_client().post("/confirm-phone", data={"code": code}).status_code == 302


def test_a_claim_waits_for_the_texted_code(any_db_app: Flask, sms: SmtpReceiver) -> None:
    (slip,) = import_rows([[ROW[0], ROW[1], ROW[2]]], header=["姓名", "手机号", "工作单位"])
    user = db.session.scalars(select(User).where(User.phone == "+86" + ROW[1])).one()
    client = any_db_app.test_client()
    # A wrong slip code sends nothing.
    refused = client.post("/claim", data=claim_form("ABCD-EFGH"))
    assert refused.status_code == 422
    assert sms.messages == []

    started = client.post("/claim", data=claim_form(slip.code))
    assert started.status_code == 302, text(started)[:2000]
    assert started.headers["Location"].endswith("/confirm-phone")
    db.session.expire_all()
    assert user.password_hash == IMPORTED_PASSWORD_HASH  # not claimed yet
    assert db.session.scalars(select(OneTimeCode)).one().purpose == CLAIM
    done = client.post("/confirm-phone", data={"code": sms.code()})
    assert done.status_code == 302, text(done)[:2000]
    assert done.headers["Location"].endswith("/me/profile")
    db.session.expire_all()
    assert user.has_usable_password
    assert user.claim_code_hash is None
    assert user.volunteer is not None
    assert user.volunteer.consented_at is not None
    assert password_works(any_db_app, user.phone)


def test_an_expired_code_creates_nothing(app: Flask) -> None:
    set_clock(TEST_CLOCK_START)
    with smtp_receiver() as receiver:
        app.config.update(receiver.config(), VERIFY_PHONE="sms")
        client = app.test_client()
        client.post("/register", data=registration_form())
        set_clock(TEST_CLOCK_START + timedelta(minutes=10, seconds=2))
        late = client.post("/confirm-phone", data={"code": receiver.code()})
        assert late.status_code == 422
        assert "expired" in text(late)
        assert users() == 0
        # Registering again texts a new code, which works.
        assert client.post("/register", data=registration_form()).status_code == 302
        assert client.post("/confirm-phone", data={"code": receiver.code()}).status_code == 302
        assert users() == 1


def test_a_number_registered_meanwhile_is_refused_at_the_code(
    app: Flask, make_volunteer: Callable[..., User]
) -> None:
    with smtp_receiver() as receiver:
        app.config.update(receiver.config(), VERIFY_PHONE="sms")
        client = app.test_client()
        client.post("/register", data=registration_form())
        make_volunteer(phone=PHONE)  # someone else was quicker
        refused = client.post("/confirm-phone", data={"code": receiver.code()})
        assert refused.status_code == 422
        assert "already registered" in text(refused)
        assert users() == 1


def test_a_failing_channel_creates_nothing_and_says_so(app: Flask) -> None:
    with smtp_receiver() as receiver:
        app.config.update(receiver.config(), VERIFY_PHONE="sms")
        receiver.refuse = True
        client = app.test_client()
        failed = client.post("/register", data=registration_form())
        assert failed.status_code == 422
        assert "could not be sent" in text(failed)
        assert users() == 0
        assert client.get("/confirm-phone").status_code == 302  # nothing waits


@pytest.mark.parametrize(
    ("overrides", "sends"),
    [({"VERIFY_PHONE": "sms"}, False), ({"VERIFY_PHONE": ""}, True)],
    ids=["setting-on-without-channel", "channel-without-setting"],
)
def test_otherwise_registration_is_as_before(
    app: Flask, overrides: dict[str, str], sends: bool
) -> None:
    with smtp_receiver() as receiver:
        if sends:
            app.config.update(receiver.config())
        app.config.update(overrides)
        response = app.test_client().post("/register", data=registration_form())
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/me")
        assert users() == 1
        assert receiver.messages == []


@pytest.mark.parametrize(
    ("language", "title", "message_words"),
    [
        ("zh-CN", "确认手机号", "确认手机号的验证码"),
        ("en", "Confirm your mobile number", "confirm"),
    ],
)
def test_the_code_page_and_message_in_both_languages(
    app: Flask, language: str, title: str, message_words: str
) -> None:
    with smtp_receiver() as receiver:
        app.config.update(receiver.config(), VERIFY_PHONE="sms")
        client = app.test_client()
        headers = {"Accept-Language": language}
        client.post("/register", data=registration_form(), headers=headers)
        assert title in text(client.get("/confirm-phone", headers=headers))
        assert message_words in receiver.messages[-1].text
        empty = client.post("/confirm-phone", data={"code": ""}, headers=headers)
        assert empty.status_code == 422
        assert ("必填" if language == "zh-CN" else "This field is required") in text(empty)
