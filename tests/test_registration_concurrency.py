"""Two people registering at the same moment, on SQLite and on PostgreSQL: the unique phone
(and the unique work-unit name) must turn a lost race into a clear answer, never a 500."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import User, Volunteer, WorkUnit
from scheduler.services import accounts as accounts_service
from scheduler.services import profile as profile_service
from tests.test_auth import (
    E164,
    registration_form,
)


def register_in_parallel(app: Flask, forms: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """POST each form from its own thread and test client, released together by a barrier."""
    barrier = threading.Barrier(len(forms))
    results: list[tuple[int, str] | BaseException] = [RuntimeError("no result")] * len(forms)

    def worker(index: int) -> None:
        try:
            client = app.test_client()
            client.get("/register")  # warm up: the race is in the POST, not in setup
            barrier.wait(timeout=10)
            response = client.post("/register", data=forms[index])
            results[index] = (response.status_code, response.get_data(as_text=True))
        except BaseException as error:  # reported below, in the test's thread
            results[index] = error

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(forms))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]


def test_same_phone_registered_twice_at_once(any_db_app: Flask) -> None:
    forms = [
        registration_form(name="并发甲", phone="13800138000", work_unit="并发新单位"),
        registration_form(name="并发乙", phone="+86 138 0013 8000", work_unit="并发新单位"),
    ]
    results = register_in_parallel(any_db_app, forms)
    statuses = sorted(status for status, _ in results)
    assert statuses == [302, 422]
    loser = next(body for status, body in results if status == 422)
    assert "This mobile number is already registered." in loser
    db.session.expire_all()
    assert db.session.scalar(select(func.count(User.id))) == 1
    assert db.session.scalar(select(func.count(Volunteer.id))) == 1
    assert db.session.scalars(select(User.phone)).all() == [E164]
    assert db.session.scalars(select(WorkUnit.name)).all() == ["并发新单位"]


def test_same_new_work_unit_registered_twice_at_once(any_db_app: Flask) -> None:
    forms = [
        registration_form(name="同单位甲", phone="13800138001", work_unit="如皋港 突击队"),
        registration_form(name="同单位乙", phone="13800138002", work_unit="如皋港  突击队 "),
    ]
    results = register_in_parallel(any_db_app, forms)
    assert [status for status, _ in results] == [302, 302]
    db.session.expire_all()
    units = db.session.scalars(select(WorkUnit.id)).all()
    assert len(units) == 1
    assert db.session.scalars(select(Volunteer.work_unit_id)).all() == units * 2


def first_calls_answer(
    real: Callable[[str], Any], answer: Any, times: int = 1
) -> Callable[[str], Any]:
    """`real`, except that its first `times` calls return `answer` (a check that ran just
    before the other request committed)."""
    calls = {"n": 0}

    def patched(arg: str) -> Any:
        calls["n"] += 1
        return answer if calls["n"] <= times else real(arg)

    return patched


def test_lost_phone_race_is_explained_not_a_500(
    any_db_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same race made deterministic: both checks for a taken number miss the row that a
    concurrent registration has just committed, so only the unique key catches it."""
    client = any_db_app.test_client()
    assert client.post("/register", data=registration_form(name="先到")).status_code == 302
    monkeypatch.setattr(
        profile_service, "phone_taken", first_calls_answer(profile_service.phone_taken, False)
    )
    monkeypatch.setattr(accounts_service, "phone_taken", lambda phone: False)
    response = any_db_app.test_client().post("/register", data=registration_form(name="后到"))
    assert response.status_code == 422
    assert "This mobile number is already registered." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalars(select(User.name)).all() == ["先到"]


def test_lost_work_unit_race_is_retried(any_db_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new work unit created meanwhile by someone else: the first attempt clashes on its
    name, the retry finds it and joins it."""
    client = any_db_app.test_client()
    first = registration_form(phone="13800138001", work_unit="新单位")
    assert client.post("/register", data=first).status_code == 302
    monkeypatch.setattr(
        profile_service, "find_work_unit", first_calls_answer(profile_service.find_work_unit, None)
    )
    second = registration_form(phone="13800138002", work_unit="新单位")
    assert any_db_app.test_client().post("/register", data=second).status_code == 302
    db.session.expire_all()
    assert len(db.session.scalars(select(WorkUnit.id)).all()) == 1
    assert db.session.scalar(select(func.count(Volunteer.id))) == 2
