"""The 15-minute circle: business types, near me, coverage."""

from __future__ import annotations

from services.gateway.api import ApiBlueprint

blp = ApiBlueprint("circle", __name__, url_prefix="/api/v1", description="The 15-minute circle: business types, near me, coverage")
