"""Schema pieces every service uses for its payloads."""

from __future__ import annotations

import math

from marshmallow import RAISE, Schema, ValidationError, fields, validate

ID_PATTERN = r"^[a-z]{3}_[0-9a-f]{32}$"
MAX_PAGE_SIZE = 100


class Strict(Schema):
    """Unknown fields are an error, never silently dropped."""

    class Meta:
        unknown = RAISE


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
        },
    )


def finite(value: float) -> None:
    if not math.isfinite(value):
        raise ValidationError("must be a finite number")
