"""Only bodies worth it are compressed: a tiny answer (under COMPRESS_MIN_SIZE, e.g. the
health check or a redirect) goes out as it is, a page goes out compressed."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

BROTLI = {"Accept-Encoding": "gzip, deflate, br"}


def test_a_tiny_body_is_not_compressed(app: Flask, client: FlaskClient) -> None:
    response = client.get("/healthz", headers=BROTLI)
    assert response.status_code == 200
    assert len(response.data) < app.config["COMPRESS_MIN_SIZE"]
    assert "Content-Encoding" not in response.headers


def test_a_page_is_compressed(app: Flask, client: FlaskClient) -> None:
    response = client.get("/register", headers=BROTLI)
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "br"
    plain = client.get("/register", headers={"Accept-Encoding": "identity"})
    assert len(plain.data) >= app.config["COMPRESS_MIN_SIZE"]
    assert len(response.data) < len(plain.data)
