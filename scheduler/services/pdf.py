"""HTML to PDF with WeasyPrint: the printed sheets are the same HTML as their pages, rendered
with static/css/print.css (which sets the "WenQuanYi Micro Hei" font, so Chinese renders and
is embedded; Debian package fonts-wqy-microhei).

Resources are read from the app's static folder directly, never over the network: the
stylesheet link of a page (`/static/css/print.css`, resolved against `base_url`) is mapped
to the file, `data:` URIs are allowed, and any other URL is refused."""

from __future__ import annotations

import copy
import mimetypes
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app
from weasyprint import HTML, Document
from weasyprint.urls import URLFetcher, URLFetcherResponse
from werkzeug.security import safe_join

__all__ = ["combined_pdf", "html_to_document", "html_to_pdf"]


class StaticFetcher(URLFetcher):
    """Serves `<static_url_path>/...` from the static folder (any host: the base URL is the
    page's own), `data:` URIs as usual, and nothing else. A missing file stops the render
    (a sheet without its stylesheet is not worth printing)."""

    def __init__(self, static_folder: str, static_url_path: str) -> None:
        super().__init__(fail_on_errors=True)
        self._folder = static_folder
        self._prefix = static_url_path.rstrip("/") + "/"

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        if url.startswith("data:"):
            return super().fetch(url, headers)
        path = unquote(urlsplit(url).path)
        if not path.startswith(self._prefix):
            raise ValueError(f"only static files are fetched while printing, not {url}")
        local = safe_join(self._folder, path.removeprefix(self._prefix))
        if local is None or not Path(local).is_file():
            raise ValueError(f"no static file {path}")
        mime, _ = mimetypes.guess_type(local)
        return URLFetcherResponse(
            url, Path(local).read_bytes(), {"Content-Type": mime or "application/octet-stream"}
        )


def html_to_document(html: str, base_url: str) -> Document:
    """A rendered page laid out in pages (the slow part: about a second for a few pages).
    `base_url` is the URL the page was rendered for (the request's root, or PUBLIC_BASE_URL
    outside a request) so its relative links resolve."""
    static = current_app.static_folder
    assert static is not None
    fetcher = StaticFetcher(static, current_app.static_url_path or "/static")
    return HTML(string=html, base_url=base_url, url_fetcher=fetcher).render()


def html_to_pdf(html: str, base_url: str) -> bytes:
    """The PDF of a rendered page (see html_to_document)."""
    return html_to_document(html, base_url).write_pdf()


def combined_pdf(documents: Sequence[Document], title: str | None = None) -> bytes:
    """The pages of laid-out documents one after another in one PDF, without laying them
    out again; each keeps its own page numbers ('1 / 2' counts its own pages)."""
    combined = documents[0].copy([page for document in documents for page in document.pages])
    if title is not None:
        combined.metadata = copy.copy(combined.metadata)
        combined.metadata.title = title
    return combined.write_pdf()
