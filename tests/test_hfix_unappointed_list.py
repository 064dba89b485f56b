"""An admin finds the coordinators appointed to no union (who see nothing once the city has a
tree) on the Unions page, without being told to look (organisations.unappointed_coordinators)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from scheduler.models import COORDINATOR, Site, User
from tests.test_trust_gaps import build_city, client_of


def test_the_unions_page_lists_unappointed_coordinators(
    app: Flask, make_user: Callable[..., User], make_site: Callable[..., Site]
) -> None:
    city = build_city(make_user, make_site)
    make_user(COORDINATOR, name="未任命协调员", phone="13900009999")
    page = client_of(app, city.coordinators["admin"]).get("/admin/organisations")
    text = page.get_data(as_text=True)
    assert "Coordinators not appointed to any union" in text
    section = text[text.index('id="unappointed"') : text.index("</section>")]
    assert "未任命协调员" in section
    assert "13900009999" in section
    assert city.coordinators["a"].name not in section
    zh = client_of(app, city.coordinators["admin"]).get(
        "/admin/organisations", headers={"Accept-Language": "zh-CN"}
    )
    assert "未任命到任何工会的协调员" in zh.get_data(as_text=True)
