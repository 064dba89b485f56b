"""A password reset slip has the same print controls as a claim slip (walkthrough, session 5,
item 4): both single slips come from coordinator/claim_codes.py's one helper and one template,
whose controls include sheets/_print_hint.html for every kind of slip: a Print button, and the
PDF only where the codes are kept to render it again (a work unit's slips after an import)."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import District, User
from tests.fixtures.auth import login
from tests.test_claim_imported import E164, ROW, import_rows

CONTROLS = re.compile(r'<div class="sheet-controls">(.*?)</div>\s*<article', re.S)
PRINT_BUTTON = re.compile(
    r'<button type="button" class="print-button" data-print[^>]*>Print</button>'
)


def controls(html: str) -> str:
    match = CONTROLS.search(html)
    assert match, html[:2000]
    return match.group(1)


def test_the_reset_slip_and_the_claim_slip_share_the_print_button(
    app: Flask, client: FlaskClient, coordinator: User, make_volunteer: Callable[..., User]
) -> None:
    db.session.add(District(name="崇川区"))
    db.session.commit()
    import_rows([ROW])
    imported = db.session.scalar(select(User).where(User.phone == E164))
    registered = make_volunteer()
    assert imported is not None
    assert imported.volunteer is not None
    assert registered.volunteer is not None
    login(client, coordinator)
    headers = {"Accept-Language": "en"}
    claim = client.post(
        f"/coordinator/volunteers/{imported.volunteer.id}/claim-code", headers=headers
    )
    reset = client.post(
        f"/coordinator/volunteers/{registered.volunteer.id}/reset-code", headers=headers
    )
    assert claim.status_code == reset.status_code == 200
    claim_controls = controls(claim.get_data(as_text=True))
    reset_controls = controls(reset.get_data(as_text=True))
    for part in (claim_controls, reset_controls):
        assert PRINT_BUTTON.search(part), part
        assert "Print this page with your browser's Print command." in part
        assert ".pdf" not in part  # the code is shown once: no PDF can be made of it later
    # The same controls but for the message and the way back.
    actions = re.compile(r'<p class="actions">.*?</p>', re.S)
    assert actions.findall(claim_controls) == actions.findall(reset_controls)


def test_a_work_unit_s_slips_keep_the_pdf_beside_the_print_button(
    app: Flask, client: FlaskClient, coordinator: User
) -> None:
    db.session.add(District(name="崇川区"))
    db.session.commit()
    import_rows([ROW])
    imported = db.session.scalar(select(User).where(User.phone == E164))
    assert imported is not None
    assert imported.volunteer is not None
    assert imported.volunteer.work_unit_id is not None
    login(client, coordinator)
    codes_page = client.post(
        f"/coordinator/work-units/{imported.volunteer.work_unit_id}/claim-codes"
    ).headers["Location"]
    page = client.get(f"{codes_page}/slips/1", headers={"Accept-Language": "zh-CN"})
    part = controls(page.get_data(as_text=True))
    assert re.search(r'class="print-button"[^>]*>打印</button>', part)
    assert re.search(r'href="[^"]*/slips/1\.pdf"', part)
