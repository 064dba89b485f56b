"""Static assets: cached for a year when their URL is versioned, compressed for whatever a
browser offers (gzip, deflate or br), and the vendored htmx is the pinned version."""

from __future__ import annotations

import gzip
import hashlib
import re
import zlib
from pathlib import Path

import brotli
import pytest
from flask.testing import FlaskClient

from scheduler.static_assets import IMMUTABLE

STATIC = Path(__file__).resolve().parent.parent / "static"
DECODE = {"gzip": gzip.decompress, "deflate": zlib.decompress, "br": brotli.decompress}


def static_urls(client: FlaskClient) -> list[str]:
    page = client.get("/register").get_data(as_text=True)
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', page)


def test_vendored_files_are_cached_for_a_year(client: FlaskClient) -> None:
    urls = [url for url in static_urls(client) if url.startswith("/static/vendor/")]
    assert sorted(urls) == [
        "/static/vendor/htmx-2.0.11/htmx.min.js",
        "/static/vendor/pico-2.1.1/pico.min.css",
    ]
    for url in urls:
        response = client.get(url)
        response.close()
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == IMMUTABLE


def test_own_css_url_carries_its_content_hash_and_is_cached(client: FlaskClient) -> None:
    digest = hashlib.sha256((STATIC / "css/muster.css").read_bytes()).hexdigest()[:12]
    assert f"/static/css/muster.css?v={digest}" in static_urls(client)
    response = client.get(f"/static/css/muster.css?v={digest}")
    response.close()
    assert response.headers["Cache-Control"] == IMMUTABLE


@pytest.mark.parametrize("query", ["", "?v=0123456789ab"])
def test_unversioned_or_stale_url_is_revalidated(client: FlaskClient, query: str) -> None:
    # An old page's URL (or none at all) must never be cached as the file it no longer is.
    response = client.get(f"/static/css/muster.css{query}")
    response.close()
    assert response.status_code == 200
    assert "immutable" not in response.headers.get("Cache-Control", "")


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
def test_static_files_compressed_for_any_offered_encoding(
    client: FlaskClient, encoding: str
) -> None:
    # The stylesheets and scripts; the icons are PNGs, compressed already.
    texts = [url for url in static_urls(client) if url.split("?")[0].endswith((".css", ".js"))]
    assert len(texts) >= 3
    for url in texts:
        response = client.get(url, headers={"Accept-Encoding": encoding})
        body = response.get_data()
        response.close()
        assert response.headers["Content-Encoding"] == encoding, url
        original = (STATIC / url.removeprefix("/static/").split("?")[0]).read_bytes()
        assert DECODE[encoding](body) == original
        assert len(body) < len(original) / 2


def test_htmx_is_the_pinned_version_with_its_licence() -> None:
    folders = sorted(p.name for p in (STATIC / "vendor").iterdir() if p.name.startswith("htmx"))
    assert folders == ["htmx-2.0.11"]
    script = (STATIC / "vendor/htmx-2.0.11/htmx.min.js").read_text()
    assert 'version:"2.0.11"' in script.replace(" ", "")
    assert (STATIC / "vendor/htmx-2.0.11/LICENSE").is_file()
