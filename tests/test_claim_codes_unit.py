"""Claim codes for a whole work unit, and responses with plain codes kept out of caches.

Accounts imported before claim codes existed have none: a coordinator gives every unclaimed
volunteer of a work unit a new code at once, and gets the same downloads and slips as after
an import. Every response that carries plain codes says `Cache-Control: no-store`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import User, WorkUnit
from scheduler.services import claims
from tests.fixtures.auth import login
from tests.test_claim_imported import ROWS, claim_form, upload_and_confirm

CODE = re.compile(r"[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}")


@pytest.fixture
def imported_before_codes(
    app: Flask, client: FlaskClient, coordinator: User, tmp_path: Path
) -> WorkUnit:
    """ROWS imported, then 甲单位's people lose their codes (as if imported before the
    upgrade that brought claim codes); the coordinator is logged in."""
    app.config["IMPORT_DIR"] = str(tmp_path / "imports")
    login(client, coordinator)
    assert upload_and_confirm(client, ROWS).status_code == 302
    unit = db.session.scalars(select(WorkUnit).where(WorkUnit.name == "甲单位")).one()
    for user in db.session.scalars(select(User).where(User.phone.like("+86138123400%"))):
        if user.volunteer is not None and user.volunteer.work_unit_id == unit.id:
            user.claim_code_hash = None
            user.claim_code_expires_at = None
    db.session.commit()
    return unit


def test_new_codes_for_a_work_unit_lead_to_the_slips(
    app: Flask, client: FlaskClient, imported_before_codes: WorkUnit
) -> None:
    unit = imported_before_codes
    edit = client.get(f"/coordinator/work-units/{unit.id}/edit").get_data(as_text=True)
    assert f'action="/coordinator/work-units/{unit.id}/claim-codes"' in edit
    response = client.post(f"/coordinator/work-units/{unit.id}/claim-codes")
    assert response.status_code == 302
    url = response.headers["Location"]
    assert url.startswith("/coordinator/import/codes/")
    page = client.get(url).get_data(as_text=True)
    assert "甲单位" in page
    assert "乙单位" not in page  # only this unit's people
    rows = client.get(f"{url}/codes.csv").get_data(as_text=True)
    codes = {line.split(",")[1]: CODE.search(line).group(0) for line in rows.splitlines()[1:]}  # type: ignore[union-attr]
    assert set(codes) == {"13812340011", "13812340012"}
    slips = client.get(f"{url}/slips/1").get_data(as_text=True)
    assert codes["13812340011"] in slips
    claimed = app.test_client().post(
        "/claim", data=claim_form(codes["13812340011"], phone="13812340011")
    )
    assert claimed.status_code == 302


def test_a_work_unit_with_nobody_waiting_gets_a_message_and_no_codes(
    client: FlaskClient, imported_before_codes: WorkUnit
) -> None:
    empty = WorkUnit(name="空单位")
    db.session.add(empty)
    db.session.commit()
    response = client.post(f"/coordinator/work-units/{empty.id}/claim-codes")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/coordinator/work-units/{empty.id}/edit"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nobody in this work unit is waiting to claim an account." in page
    assert client.post("/coordinator/work-units/999999/claim-codes").status_code == 404


def test_the_service_skips_claimed_and_registered_accounts(
    app: Flask, imported_before_codes: WorkUnit
) -> None:
    unit = imported_before_codes
    slips = claims.reissue_work_unit_codes(unit.id)
    assert sorted(s.phone for s in slips) == ["13812340011", "13812340012"]
    first = db.session.scalars(select(User).where(User.phone == "+8613812340011")).one()
    first.set_password("another-horse-7")
    db.session.commit()
    assert [s.phone for s in claims.reissue_work_unit_codes(unit.id)] == ["13812340012"]


# --- no-store ---------------------------------------------------------------------------------


def test_responses_with_plain_codes_are_not_cached(
    client: FlaskClient, imported_before_codes: WorkUnit
) -> None:
    response = client.post(f"/coordinator/work-units/{imported_before_codes.id}/claim-codes")
    url = response.headers["Location"]
    for path in (url, f"{url}/codes.csv", f"{url}/codes.xlsx", f"{url}/slips/1"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert "no-store" in answer.headers["Cache-Control"], path
    second = db.session.scalars(select(User).where(User.phone == "+8613812340012")).one()
    single = client.post(f"/coordinator/volunteers/{second.volunteer.id}/claim-code")  # type: ignore[union-attr]
    assert single.status_code == 200
    assert CODE.search(single.get_data(as_text=True))
    assert "no-store" in single.headers["Cache-Control"]


def test_the_codes_page_says_how_long_the_list_is_kept(
    client: FlaskClient, imported_before_codes: WorkUnit
) -> None:
    url = client.post(f"/coordinator/work-units/{imported_before_codes.id}/claim-codes").headers[
        "Location"
    ]
    english = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "until you press “Done” below, or for one day at most" in english
    chinese = client.get(url, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "最长保留一天" in chinese
