"""Sheets and exports."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("sheets", __name__, url_prefix="/sheets")
