"""The one error type services raise for a refused operation."""

from __future__ import annotations


class ServiceError(ValueError):
    """A refused operation: nothing was written. `message` is translatable (a lazy string is
    rendered in the user's locale when shown); `field` names the form field it belongs to."""

    def __init__(self, message: object, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message)
