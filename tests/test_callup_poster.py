"""A call-up's A4 poster: a PDF with the Chinese font embedded and a QR code that a decoder
(zxing-cpp) reads back to the public page's absolute URL, from the rasterised page as a
union would photocopy it."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import zxingcpp
from flask import Flask
from PIL import Image

from scheduler.models import PlanningPeriod, Site, User
from scheduler.services import callups
from scheduler.services.callups import Audience
from tests.fixtures.auth import signed_in


def poster(
    app: Flask,
    tmp_path: Path,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
    coordinator: User,
    lang: str,
) -> tuple[str, str, Path]:
    site = make_site(name="小海高速卡口", demand={"site_lead": 1, "sampler": 1})
    period = make_period(sites=[site], name="十二月第一期")
    make_volunteer(name="王三")
    token = callups.new_token()
    callup = callups.send(
        period, Audience(), f"请报名 /c/{token}", locale="zh_Hans", token=token, by=coordinator
    )
    client = signed_in(app, coordinator)
    response = client.get(
        f"/coordinator/callups/{callup.id}/poster.pdf", headers={"Accept-Language": lang}
    )
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    pdf = tmp_path / "poster.pdf"
    pdf.write_bytes(response.data)
    return (
        token,
        subprocess.run(
            ["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True
        ).stdout,
        pdf,
    )


def decoded(pdf: Path) -> list[str]:
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", str(pdf), str(pdf.with_suffix(""))], check=True
    )
    pages = sorted(pdf.parent.glob("poster*.png"))
    assert len(pages) == 1, "the poster is one A4 page"
    with Image.open(pages[0]) as image:
        width, height = image.size
        # A4 (210 x 297 mm) at 150 dpi, give or take a pixel of rounding.
        assert abs(width - 1240) <= 1
        assert abs(height - 1754) <= 1
        return [result.text for result in zxingcpp.read_barcodes(image)]


@pytest.mark.parametrize(("lang", "words"), [("zh-CN", "集结号"), ("en", "Call-up")])
def test_poster_qr_reads_back_to_the_public_page(
    app: Flask,
    tmp_path: Path,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
    coordinator: User,
    lang: str,
    words: str,
) -> None:
    token, text, pdf = poster(
        app, tmp_path, make_site, make_period, make_volunteer, coordinator, lang
    )
    assert decoded(pdf) == [f"http://localhost/c/{token}"]
    assert words in text
    for chinese in ("十二月第一期", "小海高速卡口", "测试路1号"):
        assert chinese in text, chinese
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True)
    assert "WenQuanYi" in fonts.stdout
    assert all(line.split()[-4] == "yes" for line in fonts.stdout.splitlines()[2:])


def test_poster_uses_the_public_base_url(
    app: Flask,
    tmp_path: Path,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
    coordinator: User,
) -> None:
    app.config["PUBLIC_BASE_URL"] = "https://muster.example.org/"
    token, _text, pdf = poster(
        app, tmp_path, make_site, make_period, make_volunteer, coordinator, "zh-CN"
    )
    assert decoded(pdf) == [f"https://muster.example.org/c/{token}"]
