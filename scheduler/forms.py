"""Forms shared across blueprints."""

from __future__ import annotations

from flask_wtf import FlaskForm


class EmptyForm(FlaskForm):
    """For button-only POSTs: carries and checks nothing but the CSRF token."""
