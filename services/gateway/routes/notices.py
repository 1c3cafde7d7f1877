"""Community notices."""

from __future__ import annotations

from services.gateway.api import ApiBlueprint

blp = ApiBlueprint("notices", __name__, url_prefix="/api/v1", description="Community notices")
