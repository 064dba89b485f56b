"""Pages and static assets go out compressed to browsers that accept it (mobile data)."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import brotli
from flask.testing import FlaskClient

STATIC = Path(__file__).resolve().parent.parent / "static"


def test_static_css_is_compressed_and_intact(client: FlaskClient) -> None:
    # Static files are streamed, and Flask-Compress streams with brotli (not gzip).
    response = client.get(
        "/static/vendor/pico-2.1.1/pico.min.css", headers={"Accept-Encoding": "gzip, br"}
    )
    body = response.get_data()
    response.close()
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "br"
    original = (STATIC / "vendor/pico-2.1.1/pico.min.css").read_bytes()
    assert brotli.decompress(body) == original
    assert len(body) < len(original) / 4


def test_page_is_compressed_only_when_accepted(client: FlaskClient) -> None:
    plain = client.get("/register")
    assert "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in plain.headers["Vary"]
    packed = client.get("/register", headers={"Accept-Encoding": "gzip"})
    # The CSRF token is signed with a timestamp: two requests a second apart differ there.
    assert without_token(gzip.decompress(packed.get_data())) == without_token(plain.get_data())


def without_token(page: bytes) -> bytes:
    # itsdangerous tokens: base64 of the JSON string (so "I…"), a timestamp and a signature.
    return re.sub(rb'"I[\w-]+\.[\w-]+\.[\w-]+"', b'""', page)
