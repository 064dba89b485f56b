"""Files the app hands out (PDFs, spreadsheets): one way to name them and keep them private.

Every such file names people, many with full phone numbers, so none may be kept by a shared
cache (`Cache-Control: private, no-store`). The name goes out twice: quoted ASCII for old
clients and RFC 5987 UTF-8 for the rest, so '第一期-v2.csv' survives."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response

__all__ = ["file_response"]


def _content_disposition(filename: str, fallback: str, inline: bool = False) -> str:
    """'attachment; filename="roster-3.csv"; filename*=UTF-8''%E7%AC%AC…' (or inline)."""
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def file_response(
    body: bytes | str,
    media_type: str,
    filename: str,
    fallback: str | None = None,
    *,
    inline: bool = False,
) -> Response:
    """The file as a response: saved as `filename` (`fallback`, ASCII, for old clients; the
    filename itself when omitted), or shown in the browser with `inline` (a PDF)."""
    response = Response(body, content_type=media_type)
    response.headers["Content-Disposition"] = _content_disposition(
        filename, fallback or filename, inline
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
