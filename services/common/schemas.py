"""Schema pieces every service uses for its payloads."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

from services.common.text import unencodable_path

ID_PATTERN = r"^[a-z]{3}_[0-9a-f]{32}$"
MAX_PAGE_SIZE = 100
# Dates people mean lie well inside the calendar: at its ends (years 1 and 9999) one day more,
# or a time zone's offset, overflows Python's datetime.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2999


class Strict(Schema):
    """Unknown fields are an error, never silently dropped; text must be valid Unicode (JSON
    can carry a lone surrogate, "\\ud800", which no store or response can encode)."""

    class Meta:
        unknown = RAISE

    @pre_load
    def _text_is_unicode(self, data: Any, **_kw: Any) -> Any:
        where = unencodable_path(data)
        if where is not None:
            raise ValidationError({where.split(".")[0]: [
                "not valid Unicode text (a lone UTF-16 surrogate)"]})
        return data


def within_calendar(value: date) -> None:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValidationError(f"must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}")


def Day(**kw) -> fields.Date:  # noqa: N802
    """A calendar day (YYYY-MM-DD) that date arithmetic cannot overflow."""
    return fields.Date(validate=within_calendar, **kw)


def Instant(**kw) -> fields.AwareDateTime:  # noqa: N802
    """A moment with its UTC offset that time-zone arithmetic cannot overflow."""
    return fields.AwareDateTime(validate=within_calendar, **kw)


class LocationSchema(Strict):
    lat = fields.Float(
        required=True, allow_nan=False, validate=validate.Range(-90, 90),
        metadata={"description": "WGS84 latitude", "example": 30.5801},
    )
    lng = fields.Float(
        required=True, allow_nan=False, validate=validate.Range(-180, 180),
        metadata={"description": "WGS84 longitude", "example": 114.2701},
    )


def Text(max_length: int, min_length: int = 1, **kw) -> fields.String:  # noqa: N802
    """A trimmed, bounded string field."""
    return fields.String(validate=validate.Length(min_length, max_length), **kw)


def Id(**kw) -> fields.String:  # noqa: N802
    return fields.String(validate=validate.Regexp(ID_PATTERN, error="not a valid id"), **kw)


def Money(**kw) -> fields.Integer:  # noqa: N802
    """Integer fen (1 yuan = 100 fen); never a float."""
    return fields.Integer(strict=True, validate=validate.Range(0, 100_000_000), **kw)


class PageArgs(Strict):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 10_000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(1, MAX_PAGE_SIZE))


def page_of(schema: type[Schema], name: str | None = None) -> type[Schema]:
    """A paginated list of ``schema`` items."""
    return type(
        name or f"{schema.__name__.removesuffix('Schema')}PageSchema",
        (Schema,),
        {
            "items": fields.List(fields.Nested(schema), required=True),
            "page": fields.Integer(required=True),
            "page_size": fields.Integer(required=True),
            "total": fields.Integer(required=True),
            "total_capped": fields.Boolean(metadata={
                "description": "true: there are more than `total` (lists count no further)"}),
        },
    )


def finite(value: float) -> None:
    if not math.isfinite(value):
        raise ValidationError("must be a finite number")
