"""Replies smaller than a TCP segment go out uncompressed, pages compressed: compressing the
availability tap's ~1.2 KB reply saved no round trip and cost ~9 % of the tap's server CPU
(scheduler.config, COMPRESS_MIN_SIZE)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import Flask

from scheduler.models import PlanningPeriod, Site, User
from tests.fixtures.auth import login

MON = date(2026, 12, 7)
BROTLI = {"Accept-Encoding": "gzip, deflate, br"}


def test_a_tap_reply_goes_out_as_it_is_and_the_grid_compressed(
    app: Flask,
    make_volunteer: Callable[..., User],
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
) -> None:
    period = make_period(sites=[make_site()])
    client = app.test_client()
    login(client, make_volunteer())
    tap = client.post(
        "/me/availability/cell",
        data={"cell": f"{MON.isoformat()} 08", "period": period.id},
        headers={"HX-Request": "true", **BROTLI},
    )
    assert tap.status_code == 200
    # Larger than Flask-Compress's default threshold (500 bytes), under one segment.
    assert 500 < len(tap.data) < app.config["COMPRESS_MIN_SIZE"] <= 1460
    assert "Content-Encoding" not in tap.headers
    assert "Accept-Encoding" in tap.headers["Vary"]  # a cache still keeps them apart
    grid = client.get(f"/me/availability?period={period.id}&week={MON.isoformat()}", headers=BROTLI)
    assert grid.status_code == 200
    assert grid.headers["Content-Encoding"] == "br"
