"""A shift card's "With" list is separated the way the page's language separates names: ", "
in English, the enumeration comma "、" in Chinese (it was "、" in both)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from flask import Flask

from scheduler.models import Site, User
from tests.fixtures.auth import login
from tests.fixtures.rosters import publish_roster

MON = date(2026, 12, 7)


@pytest.mark.parametrize(("language", "separator"), [("en", ", "), ("zh-CN", "、")])
def test_teammates_are_listed_with_the_languages_separator(
    app: Flask,
    make_site: Callable[..., Site],
    make_volunteer: Callable[..., User],
    coordinator: User,
    language: str,
    separator: str,
) -> None:
    site = make_site(name="南通北高速卡口")
    me = make_volunteer(name="我自己", phone="13900000001")
    first = make_volunteer(name="Ann", phone="13900000003")
    second = make_volunteer(name="Bo", phone="13900000004")
    shifts = [
        (site, MON, "day", "code_checker", me),
        (site, MON, "day", "code_checker", first),
        (site, MON, "day", "code_checker", second),
    ]
    people = {"me": me, "first": first, "second": second, "coordinator": coordinator}
    publish_roster({"site": site}, people, shifts, draft=shifts)
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    login(client, me)

    html = client.get("/me").get_data(as_text=True)

    names = sorted(["Ann", "Bo"])
    assert separator.join(names) in html
    other = "、" if separator == ", " else ", "
    assert other.join(names) not in html
