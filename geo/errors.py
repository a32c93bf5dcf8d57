"""The error family of ``geo``: every bad input raises a subclass of :class:`GeoError`.

Each error knows its HTTP meaning (``http_status``) so the web layer can map it with a single
handler, and carries the file, row and field it is about so a planner can act on the message.
"""

from __future__ import annotations

import os


class GeoError(Exception):
    """Base class of every error ``geo`` raises on purpose."""

    http_status: int = 400

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.file = file
        self.row = row
        self.field = field
        self.detail = message
        super().__init__(message)

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field is not None:
            where.append(f"field '{self.field}'")
        return f"{', '.join(where)}: {self.detail}" if where else self.detail

    def to_dict(self) -> dict[str, object]:
        """Return the error as a JSON-ready mapping (``error``, ``file``, ``row``, ``field``)."""
        return {
            "error": str(self),
            "type": type(self).__name__,
            "file": self.file,
            "row": self.row,
            "field": self.field,
        }


    def public_dict(self) -> dict[str, object]:
        """The error as a client may see it: a file is named without its folder (no server path)."""
        out = self.to_dict()
        if self.file:
            name = os.path.basename(str(self.file))
            out["file"] = name
            out["error"] = str(out["error"]).replace(str(self.file), name)
        return out


class ValidationError(GeoError):
    """A source record or an argument does not have the expected form or value."""


class CoordinateError(ValidationError):
    """A coordinate is not a number, is swapped, or lies outside the expected area."""


class NotFoundError(GeoError):
    """An id, layer or file that was asked for does not exist."""

    http_status = 404


class StoreError(GeoError):
    """The store could not be read or written."""

    http_status = 500


class StoreUnavailable(GeoError):
    """The store is missing, damaged or incomplete: the service can't answer until it is rebuilt."""

    http_status = 503


class ConflictError(GeoError):
    """A write was based on a state of a record that has changed since (another user's edit): nothing is written."""

    http_status = 409
