"""Pieces shared by several contracts."""

from marshmallow import RAISE, Schema, fields, validate


class Contract(Schema):
    """Contracts are strict: a field nobody agreed on is an error, not silently carried."""

    class Meta:
        unknown = RAISE


class LocationSchema(Contract):
    lat = fields.Float(required=True, validate=validate.Range(-90, 90), allow_nan=False)
    lng = fields.Float(required=True, validate=validate.Range(-180, 180), allow_nan=False)
